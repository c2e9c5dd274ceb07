//! The Project List (needs `read:project-list`; the route guard checks it,
//! and the API checks it again).

use leptos::prelude::*;

use crate::api::{self, Project};
use crate::auth::use_auth;
use crate::components::pager::{PER_PAGE, Pager, use_page};
use crate::config::AppConfig;
use crate::routes;

/// The Project List screen.
#[component]
pub fn ProjectsScreen() -> impl IntoView {
    let auth = use_auth();
    let config = expect_context::<AppConfig>();
    let page = use_page();
    let projects = LocalResource::new(move || {
        let config = config.clone();
        let page = page.get();
        async move { api::get_page::<Project>(auth, &config, "/projects", page, PER_PAGE).await }
    });
    let total = Signal::derive(move || projects.get().and_then(|r| r.ok()).map_or(0, |p| p.total));
    view! {
        <section class="panel" data-testid="page-projects">
            <h1>"Projects"</h1>
            {move || match projects.get() {
                None => view! { <Skeleton /> }.into_any(),
                Some(Err(err)) => view! {
                    <p class="alert" role="alert">{err.to_string()}</p>
                }.into_any(),
                Some(Ok(list)) if list.items.is_empty() => view! {
                    <p class="muted">"No projects here yet."</p>
                }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="table">
                        <thead>
                            <tr><th>"Name"</th><th>"Description"</th><th>"Status"</th><th>"Owner"</th><th>"Created"</th></tr>
                        </thead>
                        <tbody>
                            {list.items.into_iter().map(|p| view! {
                                <tr data-testid="project-row" data-project=p.id>
                                    <td class="strong">{p.name}</td>
                                    <td>{p.description}</td>
                                    <td><span class=format!("status status-{}", p.status)>{p.status.clone()}</span></td>
                                    <td>{p.owner.unwrap_or_else(|| "—".into())}</td>
                                    <td>{p.created_at}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
            <Pager base=routes::PROJECTS page=page total=total />
        </section>
    }
}

/// Grey rows while the page loads.
#[component]
pub fn Skeleton() -> impl IntoView {
    view! {
        <div class="skeleton" role="status" aria-live="polite" aria-label="Loading">
            {(0..5).map(|_| view! { <div class="skeleton-row"></div> }).collect_view()}
        </div>
    }
}
