//! Pagination: the page number lives in the URL (`?page=2`), so a page can be
//! shared, reloaded and reached with Back.

use contract::routes::PAGE_PARAM;
use leptos::prelude::*;

use crate::location::{Link, use_location};

/// Items per page on the list screens.
pub const PER_PAGE: u32 = 10;

/// The current page number from `?page=`, 1 when absent or malformed.
pub fn use_page() -> Memo<u32> {
    let location = use_location();
    Memo::new(move |_| page_number(location.query(PAGE_PARAM)))
}

/// The page number a `?page=` value names: 1 when absent or malformed.
pub fn page_number(param: Option<String>) -> u32 {
    param.and_then(|p| p.parse().ok()).filter(|p| *p >= 1).unwrap_or(1)
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
    let pages = move || u32::try_from(total.get().div_ceil(u64::from(PER_PAGE)).max(1)).unwrap_or(u32::MAX);
    let link = move |page: u32| format!("{base}?{PAGE_PARAM}={page}");
    view! {
        <nav class="pager" aria-label="Pages">
            <Show when=move || { page.get() > 1 }>
                <Link href=Signal::derive(move || link(page.get() - 1))>"← Previous"</Link>
            </Show>
            <span class="muted">{move || format!("Page {} of {} · {} in all", page.get(), pages(), total.get())}</span>
            <Show when=move || { page.get() < pages() }>
                <Link href=Signal::derive(move || link(page.get() + 1))>"Next →"</Link>
            </Show>
        </nav>
    }
}
