//! Home: who you are, what you may do, and which screens you can open.

use leptos::prelude::*;
use permissions::{ClaimPath, Permission, read_string_set};

use crate::auth::{AuthState, use_auth};
use crate::capabilities::{CapabilityState, use_capabilities};
use crate::components::nav::GUARDED_SCREENS;
use crate::components::sign_in::SignInButton;
use crate::config::{AppConfig, CapabilitySource};
use crate::location::Link;

/// The user's role names, for display only (permissions, not roles, decide
/// what is shown): the configured `roles_claim`, else the claim beside the
/// permissions claim named `roles` (`https://ns/permissions` ->
/// `https://ns/roles`, as the dev provider and the Auth0 Action set them).
fn roles_of(claims: &serde_json::Value, config: &AppConfig) -> Vec<String> {
    let path = match &config.capabilities {
        CapabilitySource::IdToken { roles: Some((path, _)), .. } => Some(path.clone()),
        CapabilitySource::IdToken { permissions_claim: Some(ClaimPath::Claim(name)), .. } => {
            name.strip_suffix("permissions").map(|prefix| ClaimPath::Claim(format!("{prefix}roles")))
        }
        _ => None,
    };
    path.map(|p| read_string_set(claims, &p).0).unwrap_or_default()
}

/// The home screen.
#[component]
pub fn HomeScreen() -> impl IntoView {
    let auth = use_auth();
    let store = use_capabilities();
    let config = expect_context::<AppConfig>();
    move || match store.state.get() {
        CapabilityState::Pending => view! { <p class="placeholder">"Loading…"</p> }.into_any(),
        CapabilityState::Anonymous => {
            let failed = auth.state.with(|s| matches!(s, AuthState::Failed(_)));
            view! {
                <section class="panel hero">
                    <h1>"Projects and people, by permission"</h1>
                    <p>"Sign in to see the screens your role opens for you."</p>
                    {(!failed).then(|| view! { <SignInButton /> })}
                </section>
            }
            .into_any()
        }
        CapabilityState::Ready(caps) => {
            let name = auth.state.with(|s| s.user_name().map(str::to_owned));
            let roles = auth.state.with(|s| s.claims().map(|claims| roles_of(claims, &config)).unwrap_or_default());
            let permissions: Vec<String> = caps.iter().map(Permission::to_string).collect();
            view! {
                <section class="panel">
                    <h1>"Welcome, " {name}</h1>
                    <h2>"Your roles"</h2>
                    <Chips names=roles testid="role" class="chip role" empty="No role is assigned to you." />
                    <h2>"Your permissions"</h2>
                    <Chips names=permissions testid="permission" class="chip" empty="Your account holds no permissions yet." />
                    <h2>"Screens"</h2>
                    <ul class="screens">
                        {GUARDED_SCREENS
                            .into_iter()
                            .map(|screen| {
                                let open = caps.has(&screen.needs);
                                view! {
                                    <li class:locked=!open>
                                        {if open {
                                            view! { <Link href=screen.path>{screen.title}</Link> }.into_any()
                                        } else {
                                            view! { <span>{screen.title}</span> }.into_any()
                                        }}
                                        <span class="muted">
                                            {if open { " — open" } else { " — needs " }}
                                            {(!open).then(|| view! { <code>{screen.needs.to_string()}</code> })}
                                        </span>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </section>
            }
            .into_any()
        }
    }
}

/// Names as chips, one `testid` element each, or `empty` when there are none.
#[component]
fn Chips(
    /// The names, in display order.
    names: Vec<String>,
    /// Each chip's `data-testid`.
    testid: &'static str,
    /// Each chip's class.
    class: &'static str,
    /// What to say when there are none.
    empty: &'static str,
) -> impl IntoView {
    if names.is_empty() {
        view! { <p class="muted">{empty}</p> }.into_any()
    } else {
        view! {
            <ul class="chips">
                {names.into_iter().map(|name| view! { <li class=class data-testid=testid>{name}</li> }).collect_view()}
            </ul>
        }
        .into_any()
    }
}
