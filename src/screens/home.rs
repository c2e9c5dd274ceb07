//! Home: who you are, what you may do, and which screens you can open.

use leptos::prelude::*;
use leptos_router::components::A;
use permissions::Permission;

use crate::auth::{AuthState, use_auth};
use crate::capabilities::{CapabilityState, use_capabilities};
use crate::components::sign_in::SignInButton;
use crate::routes;

/// The home screen.
#[component]
pub fn HomeScreen() -> impl IntoView {
    let auth = use_auth();
    let store = use_capabilities();
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
            let name = auth.state.with(|s| s.session().map(|s| s.id_token.display_name().to_owned()));
            let permissions: Vec<Permission> = caps.iter().cloned().collect();
            let screens = [
                (routes::PROJECTS, "Project List", routes::PROJECTS_NEEDS),
                (routes::USERS, "User List", routes::USERS_NEEDS),
            ];
            view! {
                <section class="panel">
                    <h1>"Welcome, " {name}</h1>
                    <h2>"Your permissions"</h2>
                    {if permissions.is_empty() {
                        view! { <p class="muted">"Your account holds no permissions yet."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="chips">
                                {permissions
                                    .into_iter()
                                    .map(|p| view! { <li class="chip" data-testid="permission">{p.to_string()}</li> })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }}
                    <h2>"Screens"</h2>
                    <ul class="screens">
                        {screens
                            .into_iter()
                            .map(|(href, title, needs)| {
                                let open = caps.has(&needs);
                                view! {
                                    <li class:locked=!open>
                                        {if open {
                                            view! { <A href=href>{title}</A> }.into_any()
                                        } else {
                                            view! { <span>{title}</span> }.into_any()
                                        }}
                                        <span class="muted">
                                            {if open { " — open" } else { " — needs " }}
                                            {(!open).then(|| view! { <code>{needs.to_string()}</code> })}
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
