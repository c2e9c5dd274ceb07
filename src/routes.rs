//! The route table: the top of the SPA's layers below the app shell. Each
//! path is a `contract::routes` constant; each guarded screen is wrapped in
//! its guard here, with the permission the table of guarded screens
//! (`components::nav`) names for it, so a route cannot be added without
//! deciding what it needs.

use contract::routes;
use contract::routes::PAGE_PARAM;
use contract::wire::{Project, UserWithRoles};
use leptos::prelude::*;

use crate::api::{Listed, forget_prefetch, list_path, use_api};
use crate::chunk;
use crate::components::chunk::{Chunk, LoadChunk};
use crate::components::guard::RequirePermission;
use crate::components::nav::{GuardedScreen, PROJECT_LIST, USER_LIST};
use crate::components::pager::{PER_PAGE, page_number};
use crate::location::use_location;
use crate::screens::{callback::CallbackScreen, home::HomeScreen, not_found::NotFoundScreen};
use crate::screens::{projects::ProjectsScreen, users::UsersScreen};

/// What a path shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Home,
    Callback,
    Projects,
    Users,
    NotFound,
}

impl Route {
    /// The route of `path`; one trailing slash is ignored (`/projects/`).
    fn of(path: &str) -> Route {
        let path = if path.len() > 1 { path.strip_suffix('/').unwrap_or(path) } else { path };
        match path {
            routes::HOME => Route::Home,
            routes::CALLBACK => Route::Callback,
            p if p == PROJECT_LIST.path => Route::Projects,
            p if p == USER_LIST.path => Route::Users,
            _ => Route::NotFound,
        }
    }
}

/// The screen of the current path. A new query (`?page=2`) keeps the
/// screen mounted; only a new path replaces it.
#[component]
pub fn AppRoutes() -> impl IntoView {
    let location = use_location();
    let route = Memo::new(move |_| location.path.with(|path| Route::of(path)));
    move || match route.get() {
        Route::Home => view! { <HomeScreen /> }.into_any(),
        Route::Callback => view! { <CallbackScreen /> }.into_any(),
        Route::Projects => guarded(PROJECT_LIST, || {
            prefetch_list(Project::PATH);
            view! { <Chunk what="the Project List screen" load=load_project_list /> }.into_any()
        }),
        Route::Users => guarded(USER_LIST, || {
            prefetch_list(UserWithRoles::PATH);
            view! { <Chunk what="the User List screen" load=load_user_list /> }.into_any()
        }),
        Route::NotFound => view! { <NotFoundScreen /> }.into_any(),
    }
}

chunk! {
    /// The Project List screen, in a chunk of its own: a signed-in load of
    /// `/` does not run it.
    fn project_list() {
        Ok(|| view! { <ProjectsScreen /> }.into_any())
    }
}

chunk! {
    /// The User List screen, in a chunk of its own.
    fn user_list() {
        Ok(|| view! { <UsersScreen /> }.into_any())
    }
}

/// Begins the list screen's first request (the current page of the list
/// under `path`) as the screen is chosen, so that it runs beside the
/// download of the screen's chunk, not after it; the screen's request for
/// the same page takes its answer over. It is dropped if the screen goes
/// before taking it.
fn prefetch_list(path: &str) {
    // Untracked: a new `?page=` is the screen's to fetch, not a new screen.
    let page = untrack(|| page_number(use_location().query(PAGE_PARAM)));
    use_api().prefetch(&list_path(path, page, PER_PAGE));
    on_cleanup(forget_prefetch);
}

fn load_project_list() -> LoadChunk {
    Box::pin(project_list())
}

fn load_user_list() -> LoadChunk {
    Box::pin(user_list())
}

/// `screen` behind its guard, which names it in the permissions inspector.
fn guarded(screen: GuardedScreen, view: fn() -> AnyView) -> AnyView {
    view! {
        <RequirePermission perm=screen.needs label=format!("{} screen", screen.title)>
            {view()}
        </RequirePermission>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_has_its_route() {
        assert_eq!(Route::of("/"), Route::Home);
        assert_eq!(Route::of(routes::CALLBACK), Route::Callback);
        assert_eq!(Route::of(routes::PROJECTS), Route::Projects);
        assert_eq!(Route::of("/projects/"), Route::Projects);
        assert_eq!(Route::of(routes::USERS), Route::Users);
        assert_eq!(Route::of("/projects/7"), Route::NotFound);
        assert_eq!(Route::of("/nowhere"), Route::NotFound);
        assert_eq!(Route::of(""), Route::NotFound);
    }
}
