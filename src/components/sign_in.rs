//! The sign-in button and the prompt shown on guarded screens when signed out.

use contract::routes;
use leptos::prelude::*;

use crate::auth::{AuthState, use_auth};
use crate::location::use_location;

/// Starts a sign-in that comes back to the current page.
#[component]
pub fn SignInButton(
    /// The button's text.
    #[prop(optional, into)]
    label: Option<String>,
) -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    let on_click = move |_| {
        // Signing in from the callback page (after a failure) comes back home.
        let on_callback = location.path.with_untracked(|path| path == routes::CALLBACK);
        let here = if on_callback { routes::HOME.to_owned() } else { location.here() };
        auth.sign_in(here);
    };
    view! {
        <button class="button primary" data-testid="login-button" on:click=on_click>
            {label.unwrap_or_else(|| "Sign in".to_owned())}
        </button>
    }
}

/// Shown in place of a guarded screen when nobody is signed in. After a
/// failed sign-in the error banner offers the retry instead, so the page
/// never shows two sign-in buttons.
#[component]
pub fn SignInPrompt() -> impl IntoView {
    let auth = use_auth();
    let failed = move || auth.state.with(|s| matches!(s, AuthState::Failed(_)));
    view! {
        <Show when=move || !failed()>
        <section class="panel center">
            <h1>"Sign in to continue"</h1>
            <p>"This page shows data for signed-in users. You will come back here afterwards."</p>
            <SignInButton />
        </section>
        </Show>
    }
}
