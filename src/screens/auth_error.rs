//! The explanation of a failed sign-in, with a way to try again. Shown
//! above whatever route is active; nothing authenticated shows with it
//! (the failed state holds no session).

use leptos::prelude::*;

use crate::auth::{AuthState, use_auth};
use crate::components::sign_in::SignInButton;

/// The `auth-error` banner; renders nothing unless sign-in failed.
#[component]
pub fn AuthErrorBanner() -> impl IntoView {
    let auth = use_auth();
    let error = move || auth.state.with(|s| if let AuthState::Failed(err) = s { Some(err.to_string()) } else { None });
    move || {
        error().map(|message| {
            view! {
                <section class="panel alert" data-testid="auth-error" role="alert">
                    <h1>"Sign-in did not complete"</h1>
                    <p>{message}</p>
                    <SignInButton label="Try again" />
                </section>
            }
        })
    }
}
