//! The route guard, rendered in the route's view (leptos_router's
//! `ProtectedRoute` can only redirect, which would push history and loop).

use leptos::prelude::*;
use permissions::Permission;

use crate::capabilities::{CapabilityState, use_capabilities};
use crate::components::sign_in::SignInPrompt;
use crate::screens::forbidden::ForbiddenScreen;

/// Guards a screen: a placeholder while permissions are pending, a sign-in
/// prompt when signed out, the Forbidden view in place (the URL stays) when
/// the user lacks `perm`, and the screen itself otherwise. It never
/// redirects, so it can never loop.
#[component]
pub fn RequirePermission(
    /// The permission the screen needs.
    perm: Permission,
    /// The screen.
    children: ChildrenFn,
) -> impl IntoView {
    let store = use_capabilities();
    let needs = perm.clone();
    let verdict = Memo::new(move |_| {
        store.state.with(|state| match state {
            CapabilityState::Pending => Verdict::Pending,
            CapabilityState::Anonymous => Verdict::SignIn,
            CapabilityState::Ready(caps) if caps.has(&needs) => Verdict::Allowed,
            CapabilityState::Ready(_) => Verdict::Forbidden,
        })
    });
    move || match verdict.get() {
        Verdict::Pending => view! {
            <p class="placeholder" role="status" aria-live="polite">"Checking your access…"</p>
        }
        .into_any(),
        Verdict::SignIn => view! { <SignInPrompt /> }.into_any(),
        Verdict::Forbidden => view! { <ForbiddenScreen needs=perm.clone() /> }.into_any(),
        Verdict::Allowed => children().into_any(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pending,
    SignIn,
    Forbidden,
    Allowed,
}
