//! The route guard, rendered in the route's view (leptos_router's
//! `ProtectedRoute` can only redirect, which would push history and loop).

use leptos::prelude::*;
use permissions::Permission;

use leptos_router::hooks::use_location;

use crate::auth::{AuthState, use_auth};
use crate::capabilities::{CapabilityState, use_capabilities};
use crate::components::inspector::register_guard;
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
    /// The screen's name, for the permissions inspector.
    #[prop(optional, into)]
    label: Option<String>,
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
    let verdict_text = Signal::derive(move || {
        match verdict.get() {
            Verdict::Pending => "pending",
            Verdict::SignIn => "sign-in required",
            Verdict::Forbidden => "forbidden in place",
            Verdict::Allowed => "shown",
        }
        .to_owned()
    });
    register_guard(label.unwrap_or_else(|| "this screen".into()), format!("needs {perm}"), verdict_text);
    move || match verdict.get() {
        Verdict::Pending => view! {
            <p class="placeholder" role="status" aria-live="polite">"Checking your access…"</p>
        }
        .into_any(),
        Verdict::SignIn => view! { <AutoSignIn /> }.into_any(),
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

/// Signed out on a guarded route: start the sign-in by itself, coming back
/// here afterwards. Only from the plain signed-out state and never right
/// after a sign-out — after a failed sign-in the error banner waits for the
/// user, so this can never loop.
#[component]
fn AutoSignIn() -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    let signed_out = auth.state.with_untracked(|s| matches!(s, AuthState::SignedOut));
    let here = format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked());
    let redirecting = signed_out && auth.sign_in_automatically(here);
    view! {
        {redirecting.then(|| view! {
            <p class="placeholder" role="status" aria-live="polite">"Redirecting you to sign in…"</p>
        })}
        <SignInPrompt />
    }
}
