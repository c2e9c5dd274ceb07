//! The address bar, client side: the current path and query as signals
//! ([`Location`]), links that change them without reloading the page
//! ([`Link`]), and Back and Forward. Which screen a path shows is the route
//! table's (`routes`).
//!
//! The app needs only this of a router: a few static paths, one query
//! parameter and plain links. `leptos_router` offers far more (nested and
//! async routes, params, forms, transitions), and the wasm paid for it in
//! size; this module is the part the app uses. It sits below every other
//! module of the SPA, importing none of them.

use leptos::ev::{self, MouseEvent};
use leptos::prelude::*;
use wasm_bindgen::JsValue;

/// Where the app is: provided as context ([`provide_location`]) and read
/// with [`use_location`]. Both signals follow every navigation.
#[derive(Clone, Copy)]
pub struct Location {
    /// The path (`/projects`).
    pub path: RwSignal<String>,
    /// The query with its `?` (`?page=2`), or empty.
    pub search: RwSignal<String>,
}

/// The address bar's path and query.
fn address_bar() -> (String, String) {
    let location = window().location();
    (location.pathname().unwrap_or_default(), location.search().unwrap_or_default())
}

/// Reads the address bar into a [`Location`], follows Back and Forward, and
/// provides it (once, in the app shell, before anything reads it).
pub fn provide_location() -> Location {
    let (path, search) = address_bar();
    let location = Location { path: RwSignal::new(path), search: RwSignal::new(search) };
    let listener = window_event_listener(ev::popstate, move |_| location.follow_address_bar());
    on_cleanup(move || listener.remove());
    provide_context(location);
    location
}

/// The location of the current app.
pub fn use_location() -> Location {
    expect_context::<Location>()
}

impl Location {
    /// Sets the signals from the address bar, each only if it changed (a
    /// query change does not re-render the screen, a path change does).
    fn follow_address_bar(self) {
        let (path, search) = address_bar();
        if self.path.with_untracked(|current| *current != path) {
            self.path.set(path);
        }
        if self.search.with_untracked(|current| *current != search) {
            self.search.set(search);
        }
    }

    /// Goes to `href` (a path on this origin, with any query) without
    /// reloading: a new history entry, then the top of the new page, as a
    /// full navigation would show it.
    pub fn navigate(self, href: &str) {
        let window = window();
        if let Ok(history) = window.history() {
            let _ = history.push_state_with_url(&JsValue::NULL, "", Some(href));
        }
        self.follow_address_bar();
        window.scroll_to_with_x_and_y(0.0, 0.0);
    }

    /// The value of the query parameter `name` (tracked).
    pub fn query(self, name: &str) -> Option<String> {
        let search = self.search.read();
        web_sys::UrlSearchParams::new_with_str(&search).ok()?.get(name)
    }

    /// The path and query together (`/projects?page=2`), untracked.
    pub fn here(self) -> String {
        let mut here = self.path.get_untracked();
        self.search.with_untracked(|search| here.push_str(search));
        here
    }
}

/// Whether a link to `href` is a link to the page at `path` (for
/// `aria-current`): the same path, or one of its sub-paths.
fn is_current(href: &str, path: &str) -> bool {
    path == href || (href != "/" && path.strip_prefix(href).is_some_and(|rest| rest.starts_with('/')))
}

/// A link within the app: an `<a href>` that navigates without reloading
/// when clicked plainly (a modified click — new tab, download — is left to
/// the browser), marked `aria-current="page"` while its page is shown.
#[component]
pub fn Link(
    /// Where it goes: a path on this origin, with any query.
    #[prop(into)]
    href: Signal<String>,
    /// The element's class, if any.
    #[prop(optional)]
    class: Option<&'static str>,
    /// The element's `data-testid`, if any.
    #[prop(optional)]
    testid: Option<&'static str>,
    /// The link's content.
    children: Children,
) -> impl IntoView {
    let location = use_location();
    let current = move || href.with(|href| location.path.with(|path| is_current(href, path))).then_some("page");
    let on_click = move |ev: MouseEvent| {
        let modified = ev.meta_key() || ev.ctrl_key() || ev.shift_key() || ev.alt_key();
        if !ev.default_prevented() && ev.button() == 0 && !modified {
            ev.prevent_default();
            location.navigate(&href.get_untracked());
        }
    };
    view! {
        <a href=href class=class data-testid=testid aria-current=current on:click=on_click>
            {children()}
        </a>
    }
}

#[cfg(test)]
mod tests {
    use super::is_current;

    #[test]
    fn a_link_is_current_on_its_page_and_below_it() {
        assert!(is_current("/projects", "/projects"));
        assert!(is_current("/projects", "/projects/7"));
        assert!(!is_current("/projects", "/projectsx"));
        assert!(!is_current("/projects", "/users"));
        assert!(is_current("/", "/"));
        assert!(!is_current("/", "/projects"), "home is not current everywhere");
        assert!(!is_current("/projects?page=2", "/projects"), "a pager link is not the page itself");
    }
}
