//! `/callback`: by the time the router renders it, start-up has already
//! finished the sign-in and moved on; what remains is the in-between state.

use leptos::prelude::*;

use crate::auth::{AuthState, use_auth};

/// The login redirect target. Never guarded.
#[component]
pub fn CallbackScreen() -> impl IntoView {
    let auth = use_auth();
    let pending = move || auth.state.with(|s| matches!(s, AuthState::Pending));
    view! {
        <Show when=pending>
            <p class="placeholder" role="status" aria-live="polite">"Signing you in…"</p>
        </Show>
    }
}
