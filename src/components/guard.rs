//! The route guard, rendered in the route's view (a guard that redirected
//! instead would push history and could loop).

use leptos::prelude::*;
use permissions::{Permission, Requirement};

use crate::auth::{AuthState, use_auth};
use crate::capabilities::{Decision, use_capabilities};
use crate::components::forbidden::Forbidden;
use crate::components::inspector::register_guard;
use crate::components::sign_in::SignInPrompt;
use crate::location::use_location;

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
    let requirement = Requirement::one(perm.clone());
    let needs = requirement.to_string();
    let decision = use_capabilities().decide(requirement);
    let verdict = Signal::derive(move || {
        match decision.get() {
            Decision::Pending => "pending",
            Decision::SignInFirst => "sign-in required",
            Decision::Denied => "forbidden in place",
            Decision::Allowed => "shown",
        }
        .to_owned()
    });
    register_guard(label.unwrap_or_else(|| "this screen".into()), needs, verdict);
    move || match decision.get() {
        Decision::Pending => view! {
            <p class="placeholder" role="status" aria-live="polite">"Checking your access…"</p>
        }
        .into_any(),
        Decision::SignInFirst => view! { <AutoSignIn /> }.into_any(),
        Decision::Denied => view! { <Forbidden needs=perm.clone() /> }.into_any(),
        Decision::Allowed => children().into_any(),
    }
}

/// Signed out on a guarded route: start the sign-in by itself, coming back
/// here afterwards. Only from the plain signed-out state and never right
/// after a sign-out — after a failed sign-in the error banner waits for the
/// user, so this can never loop.
#[component]
fn AutoSignIn() -> impl IntoView {
    let auth = use_auth();
    let signed_out = auth.state.with_untracked(|s| matches!(s, AuthState::SignedOut));
    let redirecting = signed_out && auth.sign_in_automatically(use_location().here());
    view! {
        {redirecting.then(|| view! {
            <p class="placeholder" role="status" aria-live="polite">"Redirecting you to sign in…"</p>
        })}
        <SignInPrompt />
    }
}
