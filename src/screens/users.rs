//! The User List (administrators: needs `read:user-list`; the route guard
//! checks it, and the API checks it again). The role controls need
//! `update:user-roles`; with an external provider, roles live there and the
//! controls show disabled with that reason.

use leptos::prelude::*;
use permissions::Permission;

use crate::api::{self, RoleCatalog, User};
use crate::auth::use_auth;
use crate::components::can::Can;
use crate::components::pager::{PagedList, Pager, StatusLine, use_paged_list};
use crate::config::AppConfig;
use crate::routes;
use crate::screens::projects::Skeleton;

/// The User List screen.
#[component]
pub fn UsersScreen() -> impl IntoView {
    let auth = use_auth();
    let config = expect_context::<AppConfig>();
    let PagedList { items: users, page, total, version } = use_paged_list::<User>("/users");
    let status = RwSignal::new(None::<Result<String, String>>);
    let roles_config = config.clone();
    let catalog = LocalResource::new(move || {
        let config = roles_config.clone();
        async move { api::get_roles(auth, &config).await.ok() }
    });
    let change_config = config.clone();
    let on_change = Callback::new(move |(user, roles): (User, Vec<String>)| {
        let config = change_config.clone();
        leptos::task::spawn_local(async move {
            match api::set_user_roles(auth, &config, user.id, &roles).await {
                Ok(updated) => {
                    let roles = if updated.roles.is_empty() { "no role".to_owned() } else { updated.roles.join(", ") };
                    status.set(Some(Ok(format!("{} now has: {roles}.", updated.name))));
                }
                Err(err) => status.set(Some(Err(format!("Could not change {}'s roles: {err}", user.name)))),
            }
            // Show what the API now holds, whatever happened.
            version.update(|v| *v += 1);
        });
    });
    view! {
        <section class="panel" data-testid="page-users">
            <h1>"Users"</h1>
            <StatusLine status=status />
            {move || catalog.get().flatten().filter(|c| !c.editable).map(|c| view! {
                <p class="muted" data-testid="roles-external">
                    {c.reason.unwrap_or_else(|| "Roles are managed by the identity provider.".into())}
                </p>
            })}
            {move || match users.get() {
                None => view! { <Skeleton /> }.into_any(),
                Some(Err(err)) => view! { <p class="alert" role="alert">{err.to_string()}</p> }.into_any(),
                Some(Ok(list)) if list.items.is_empty() => view! { <p class="muted">"No users."</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="table">
                        <thead><tr><th>"Name"</th><th>"Username"</th><th>"Email"</th><th>"Roles"</th></tr></thead>
                        <tbody>
                            {list.items.into_iter().map(|u| view! {
                                <UserRow user=u catalog=Signal::derive(move || catalog.get().flatten()) on_change=on_change />
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
            <Pager base=routes::USERS page=page total=total />
        </section>
    }
}

/// One user, with role chips, or role toggles for those who may change them.
#[component]
fn UserRow(
    /// The user.
    user: User,
    /// The roles that exist (`None` until loaded or when unavailable).
    #[prop(into)]
    catalog: Signal<Option<RoleCatalog>>,
    /// Called with the user and their new role list.
    on_change: Callback<(User, Vec<String>)>,
) -> impl IntoView {
    let stored = StoredValue::new(user.clone());
    let chips = user.roles.clone();
    let read_only = move || {
        if chips.is_empty() {
            view! { <span class="muted">"no role"</span> }.into_any()
        } else {
            chips.iter().map(|r| view! { <span class="chip">{r.clone()}</span> }).collect_view().into_any()
        }
    };
    let toggles = move || {
        let Some(catalog) = catalog.get() else { return view! { <span class="muted">"…"</span> }.into_any() };
        let user = stored.get_value();
        catalog
            .roles
            .into_iter()
            .map(|role| {
                let name = role.name.clone();
                let checked = user.roles.contains(&name);
                let on_input = {
                    let name = name.clone();
                    move |_| {
                        let user = stored.get_value();
                        let mut roles: Vec<String> = user.roles.iter().filter(|r| **r != name).cloned().collect();
                        if !checked {
                            roles.push(name.clone());
                        }
                        on_change.run((user, roles));
                    }
                };
                view! {
                    <label class="role-toggle" title=role.description.clone()>
                        <input
                            type="checkbox"
                            data-testid=format!("role-{name}")
                            prop:checked=checked
                            disabled=!catalog.editable
                            on:change=on_input
                        />
                        {name.clone()}
                    </label>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <tr data-testid="user-row" data-user=user.username.clone()>
            <td class="strong">{user.name.clone()}</td>
            <td><code>{user.username.clone()}</code></td>
            <td>{user.email.clone()}</td>
            <td>
                <Can perm=Permission::UpdateUserRoles fallback=read_only>
                    {toggles}
                </Can>
            </td>
        </tr>
    }
}
