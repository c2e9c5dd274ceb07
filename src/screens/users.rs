//! The User List (administrators: needs `read:user-list`; the route guard
//! checks it, and the API checks it again). The role controls need
//! `update:user-roles`; when the role catalogue says roles are not editable
//! here (they live at the provider), the controls show disabled, pointing
//! at the note that says why.

use contract::routes;
use contract::wire::{RoleCatalog, SetRoles, UserWithRoles};
use leptos::prelude::*;
use leptos::task::spawn_local;
use permissions::Permission;

use crate::api::use_api;
use crate::components::can::Can;
use crate::components::list::{PagedTable, use_paged_list};
use crate::components::status::{ActionStatus, StatusLine};
use crate::load::Loader;

/// The id of the note saying why roles cannot be edited here; disabled
/// role controls name it in `aria-describedby`.
const ROLES_NOTE_ID: &str = "roles-external";

/// The User List screen.
#[component]
pub fn UsersScreen() -> impl IntoView {
    let api = use_api();
    let list = use_paged_list::<UserWithRoles>();
    let status = RwSignal::new(ActionStatus::Idle);
    let roles = Loader::new(move || async move { api.roles().await });
    let catalog = Signal::derive(move || roles.get().and_then(Result::ok));
    let on_change = Callback::new(move |(user, roles): (UserWithRoles, SetRoles)| {
        status.set(ActionStatus::Pending(format!("Changing {}'s roles…", user.name)));
        spawn_local(async move {
            status.set(match api.set_roles(user.id, &roles).await {
                Ok(updated) => {
                    let roles = if updated.roles.is_empty() { "no role".to_owned() } else { updated.roles.join(", ") };
                    ActionStatus::Done(format!("{} now has: {roles}.", updated.name))
                }
                Err(err) => ActionStatus::Failed(format!("Could not change {}'s roles: {err}", user.name)),
            });
            // Show what the API now holds, whatever happened.
            list.refetch();
        });
    });
    view! {
        <section class="panel" data-testid="page-users">
            <h1>"Users"</h1>
            <StatusLine status=status />
            <RolesNote catalog=catalog />
            {move || roles.get().and_then(Result::err).map(|err| view! {
                <p class="alert" role="alert">"The roles could not be loaded: " {err.to_string()}</p>
            })}
            <PagedTable
                list=list
                base=routes::USERS
                empty="No users."
                head=|| view! { <tr><th>"Name"</th><th>"Username"</th><th>"Email"</th><th>"Roles"</th></tr> }.into_any()
                row=Callback::new(move |user| view! { <UserRow user catalog on_change /> }.into_any())
            />
        </section>
    }
}

/// Says why roles cannot be edited here, when the catalogue says so.
#[component]
pub fn RolesNote(
    /// The role catalogue (`None` until loaded or when unavailable).
    #[prop(into)]
    catalog: Signal<Option<RoleCatalog>>,
) -> impl IntoView {
    move || {
        catalog.get().filter(|c| !c.editable).map(|c| {
            view! {
                <p class="muted" id=ROLES_NOTE_ID data-testid="roles-external">
                    {c.reason.unwrap_or_else(|| "Roles are managed by the identity provider.".into())}
                </p>
            }
        })
    }
}

/// One user, with role chips, or role toggles for those who may change them.
#[component]
pub fn UserRow(
    /// The user.
    user: UserWithRoles,
    /// The roles that exist (`None` until loaded or when unavailable).
    #[prop(into)]
    catalog: Signal<Option<RoleCatalog>>,
    /// Called with the user and their new set of roles.
    on_change: Callback<(UserWithRoles, SetRoles)>,
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
        let editable = catalog.editable;
        catalog
            .roles
            .into_iter()
            .map(|role| {
                let name = role.name;
                let checked = stored.with_value(|user| user.roles.contains(&name));
                let on_input = {
                    let name = name.clone();
                    move |_| {
                        let user = stored.get_value();
                        let mut roles: Vec<String> = user.roles.iter().filter(|r| **r != name).cloned().collect();
                        if !checked {
                            roles.push(name.clone());
                        }
                        on_change.run((user, SetRoles { roles }));
                    }
                };
                view! {
                    <label class="role-toggle" title=role.description>
                        <input
                            type="checkbox"
                            data-testid=format!("role-{name}")
                            prop:checked=checked
                            disabled=!editable
                            aria-describedby=(!editable).then_some(ROLES_NOTE_ID)
                            on:change=on_input
                        />
                        {name}
                    </label>
                }
            })
            .collect_view()
            .into_any()
    };
    let username = user.username.clone();
    view! {
        <tr data-testid="user-row" data-user=username>
            <td class="strong">{user.name}</td>
            <td><code>{user.username}</code></td>
            <td>{user.email}</td>
            <td>
                <Can perm=Permission::UpdateUserRoles fallback=read_only>
                    {toggles}
                </Can>
            </td>
        </tr>
    }
}
