//! Pagination: the page number lives in the URL (`?page=2`), so a page can be
//! shared, reloaded and reached with Back.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use serde::de::DeserializeOwned;

use crate::api::{self, ApiError, ListPage};
use crate::auth::use_auth;
use crate::config::AppConfig;

/// Items per page on the list screens.
pub const PER_PAGE: u32 = 10;

/// The current page number from `?page=`, 1 when absent or malformed.
pub fn use_page() -> Memo<u32> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get("page").and_then(|p| p.parse().ok()).filter(|p| *p >= 1).unwrap_or(1)))
}

/// Previous / next links and where we are.
#[component]
pub fn Pager(
    /// The screen's path (`/projects`).
    base: &'static str,
    /// The current page.
    #[prop(into)]
    page: Signal<u32>,
    /// How many items the whole list has.
    #[prop(into)]
    total: Signal<u64>,
) -> impl IntoView {
    let pages = move || total.get().div_ceil(u64::from(PER_PAGE)).max(1) as u32;
    view! {
        <nav class="pager" aria-label="Pages">
            <Show when=move || { page.get() > 1 }>
                <A href=move || format!("{base}?page={}", page.get() - 1)>"← Previous"</A>
            </Show>
            <span class="muted">{move || format!("Page {} of {} · {} in all", page.get(), pages(), total.get())}</span>
            <Show when=move || { page.get() < pages() }>
                <A href=move || format!("{base}?page={}", page.get() + 1)>"Next →"</A>
            </Show>
        </nav>
    }
}

/// One page of an API list, following `?page=`, and a way to fetch it again.
pub struct PagedList<T: 'static> {
    /// The page as the API answered it (`None` while loading).
    pub items: LocalResource<Result<ListPage<T>, ApiError>>,
    /// The current page number.
    pub page: Memo<u32>,
    /// How many items the whole list has (0 until known).
    pub total: Signal<u64>,
    /// Bump to fetch the page again (after a write).
    pub version: RwSignal<u32>,
}

/// Fetches `{api_base}{path}` page by page, [`PER_PAGE`] items each.
pub fn use_paged_list<T: DeserializeOwned + Clone + 'static>(path: &'static str) -> PagedList<T> {
    let auth = use_auth();
    let config = expect_context::<AppConfig>();
    let page = use_page();
    let version = RwSignal::new(0u32);
    let items = LocalResource::new(move || {
        let config = config.clone();
        let page = page.get();
        version.track();
        async move { api::get_page::<T>(auth, &config, path, page, PER_PAGE).await }
    });
    let total = Signal::derive(move || items.get().and_then(|r| r.ok()).map_or(0, |p| p.total));
    PagedList { items, page, total, version }
}

/// The result of the last action, announced to assistive technology.
#[component]
pub fn StatusLine(
    /// `Ok(message)` or `Err(message)`; nothing when `None`.
    #[prop(into)]
    status: Signal<Option<Result<String, String>>>,
) -> impl IntoView {
    view! {
        <p class="status-line" role="status" aria-live="polite">
            {move || status.get().map(|s| match s {
                Ok(message) => view! { <span>{message}</span> }.into_any(),
                Err(message) => view! { <span class="alert">{message}</span> }.into_any(),
            })}
        </p>
    }
}
