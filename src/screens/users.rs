//! The User List (administrators: needs `read:user-list`; the route guard
//! checks it, and the API checks it again).

use leptos::prelude::*;

use crate::api::{self, User};
use crate::auth::use_auth;
use crate::components::pager::{PER_PAGE, Pager, use_page};
use crate::config::AppConfig;
use crate::routes;
use crate::screens::projects::Skeleton;

/// The User List screen.
#[component]
pub fn UsersScreen() -> impl IntoView {
    let auth = use_auth();
    let config = expect_context::<AppConfig>();
    let page = use_page();
    let users = LocalResource::new(move || {
        let config = config.clone();
        let page = page.get();
        async move { api::get_page::<User>(auth, &config, "/users", page, PER_PAGE).await }
    });
    let total = Signal::derive(move || users.get().and_then(|r| r.ok()).map_or(0, |p| p.total));
    view! {
        <section class="panel" data-testid="page-users">
            <h1>"Users"</h1>
            {move || match users.get() {
                None => view! { <Skeleton /> }.into_any(),
                Some(Err(err)) => view! { <p class="alert" role="alert">{err.to_string()}</p> }.into_any(),
                Some(Ok(list)) if list.items.is_empty() => view! { <p class="muted">"No users."</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="table">
                        <thead><tr><th>"Name"</th><th>"Username"</th><th>"Email"</th><th>"Roles"</th></tr></thead>
                        <tbody>
                            {list.items.into_iter().map(|u| {
                                let username = u.username.clone();
                                view! {
                                <tr data-testid="user-row" data-user=username>
                                    <td class="strong">{u.name}</td>
                                    <td><code>{u.username}</code></td>
                                    <td>{u.email}</td>
                                    <td>
                                        {if u.roles.is_empty() {
                                            view! { <span class="muted">"no role"</span> }.into_any()
                                        } else {
                                            u.roles.into_iter().map(|r| view! { <span class="chip">{r}</span> }).collect_view().into_any()
                                        }}
                                    </td>
                                </tr>
                            }}).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
            <Pager base=routes::USERS page=page total=total />
        </section>
    }
}
