//! The route table: the top of the SPA's layers below the app shell. Each
//! path is a `contract::routes` constant; each guarded screen is wrapped in
//! its guard here, with the permission the table of guarded screens
//! (`components::nav`) names for it, so a route cannot be added without
//! deciding what it needs.

use contract::routes;
use leptos::prelude::*;
use leptos_router::StaticSegment;
use leptos_router::components::{Route, Routes};

use crate::components::guard::RequirePermission;
use crate::components::nav::{PROJECT_LIST, USER_LIST};
use crate::screens::{callback::CallbackScreen, home::HomeScreen, not_found::NotFoundScreen};
use crate::screens::{projects::ProjectsScreen, users::UsersScreen};

/// Kept while `auth.rs` still names it here; use `contract::routes::CALLBACK`.
pub use contract::routes::CALLBACK;

/// The routes.
#[component]
pub fn AppRoutes() -> impl IntoView {
    view! {
        <Routes fallback=|| view! { <NotFoundScreen /> }>
            <Route path=StaticSegment(routes::HOME) view=HomeScreen />
            <Route path=StaticSegment(routes::CALLBACK) view=CallbackScreen />
            <Route
                path=StaticSegment(PROJECT_LIST.path)
                view=|| view! {
                    <RequirePermission perm=PROJECT_LIST.needs label=format!("{} screen", PROJECT_LIST.title)>
                        <ProjectsScreen />
                    </RequirePermission>
                }
            />
            <Route
                path=StaticSegment(USER_LIST.path)
                view=|| view! {
                    <RequirePermission perm=USER_LIST.needs label=format!("{} screen", USER_LIST.title)>
                        <UsersScreen />
                    </RequirePermission>
                }
            />
        </Routes>
    }
}
