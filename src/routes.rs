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
use crate::components::nav::{GuardedScreen, PROJECT_LIST, USER_LIST};
use crate::screens::{callback::CallbackScreen, home::HomeScreen, not_found::NotFoundScreen};
use crate::screens::{projects::ProjectsScreen, users::UsersScreen};

/// The routes.
#[component]
pub fn AppRoutes() -> impl IntoView {
    view! {
        <Routes fallback=|| view! { <NotFoundScreen /> }>
            <Route path=StaticSegment(routes::HOME) view=HomeScreen />
            <Route path=StaticSegment(routes::CALLBACK) view=CallbackScreen />
            <Route path=StaticSegment(PROJECT_LIST.path) view=|| guarded(PROJECT_LIST, ProjectsScreen) />
            <Route path=StaticSegment(USER_LIST.path) view=|| guarded(USER_LIST, UsersScreen) />
        </Routes>
    }
}

/// `screen` behind its guard, which names it in the permissions inspector.
fn guarded<V: IntoView + 'static>(screen: GuardedScreen, view: fn() -> V) -> impl IntoView {
    view! {
        <RequirePermission perm=screen.needs label=format!("{} screen", screen.title)>
            {view()}
        </RequirePermission>
    }
}
