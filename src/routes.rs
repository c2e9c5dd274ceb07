//! The route table: every path, and the permission its screen needs, in
//! one place. The guards read it; the nav reads it.

use leptos::prelude::*;
use leptos_router::components::{Route, Routes};
use leptos_router::path;
use permissions::Permission;

use crate::components::guard::RequirePermission;
use crate::screens::{callback::CallbackScreen, home::HomeScreen, not_found::NotFoundScreen};
use crate::screens::{projects::ProjectsScreen, users::UsersScreen};

/// The login redirect target; never guarded.
pub const CALLBACK: &str = "/callback";
/// The Project List.
pub const PROJECTS: &str = "/projects";
/// The User List.
pub const USERS: &str = "/users";

/// What the Project List needs.
pub const PROJECTS_NEEDS: Permission = Permission::ReadProjectList;
/// What the User List needs.
pub const USERS_NEEDS: Permission = Permission::ReadUserList;

/// The routes. Each guarded screen is wrapped in its guard here, beside its
/// path, so a route cannot be added without deciding what it needs.
#[component]
pub fn AppRoutes() -> impl IntoView {
    view! {
        <Routes fallback=|| view! { <NotFoundScreen /> }>
            <Route path=path!("/") view=HomeScreen />
            <Route path=path!("/callback") view=CallbackScreen />
            <Route
                path=path!("/projects")
                view=|| view! { <RequirePermission perm=PROJECTS_NEEDS label="Project List screen"><ProjectsScreen /></RequirePermission> }
            />
            <Route
                path=path!("/users")
                view=|| view! { <RequirePermission perm=USERS_NEEDS label="User List screen"><UsersScreen /></RequirePermission> }
            />
        </Routes>
    }
}
