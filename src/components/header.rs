//! The header: the app's name, the nav links the user may follow, and who
//! is signed in.

use leptos::prelude::*;

use crate::auth::use_auth;
use crate::components::can::Can;
use crate::components::nav::GUARDED_SCREENS;
use crate::location::Link;

/// The top bar.
#[component]
pub fn Header() -> impl IntoView {
    let auth = use_auth();
    let user_name = move || auth.state.with(|s| s.user_name().map(str::to_owned));
    view! {
        <header class="topbar">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <Link href=contract::routes::HOME class="brand">
                <span class="brand-mark" aria-hidden="true"></span>
                "Permission SPA"
            </Link>
            <nav aria-label="Main">
                {GUARDED_SCREENS
                    .into_iter()
                    .map(|screen| view! {
                        <Can perm=screen.needs label=format!("nav: {}", screen.nav_label)>
                            <Link href=screen.path testid=screen.nav_testid>{screen.nav_label}</Link>
                        </Can>
                    })
                    .collect_view()}
            </nav>
            <div class="account">
                {move || user_name().map(|name| view! {
                    <span class="user-name" data-testid="user-name">{name}</span>
                    <button class="button" data-testid="logout-button" on:click=move |_| auth.sign_out()>
                        "Sign out"
                    </button>
                })}
                {move || auth.sign_out_failed.get().then(|| view! {
                    <span class="alert" role="alert" data-testid="sign-out-error">
                        "Could not sign out: check your connection and try again."
                    </span>
                })}
            </div>
        </header>
    }
}
