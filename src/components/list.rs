//! A list screen's body: one page of an API list, fetched as `?page=`
//! changes and again on demand, shown as a table (or loading rows, the
//! error, or an empty note) above the pager.

use leptos::prelude::*;

use crate::api::{ApiError, ListPage, Listed, use_api};
use crate::components::pager::{PER_PAGE, Pager, use_page};
use crate::components::status::Skeleton;
use crate::load::Loader;

/// One page of an API list, following `?page=`.
pub struct PagedList<T: 'static> {
    /// The page as the API answered it (`None` while loading).
    pub items: Loader<Result<ListPage<T>, ApiError>>,
    /// The current page number.
    pub page: Memo<u32>,
    /// How many items the whole list has (0 until known).
    pub total: Signal<u64>,
}

impl<T: 'static> Clone for PagedList<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for PagedList<T> {}

impl<T: 'static> PagedList<T> {
    /// Fetches the current page again (after a write).
    pub fn refetch(self) {
        self.items.reload();
    }
}

/// Fetches `T`'s list page by page, [`PER_PAGE`] items each.
pub fn use_paged_list<T: Listed>() -> PagedList<T> {
    let api = use_api();
    let page = use_page();
    let items = Loader::new(move || {
        let page = page.get();
        async move { api.list::<T>(page, PER_PAGE).await }
    });
    let total = Signal::derive(move || items.get().and_then(Result::ok).map_or(0, |p| p.total));
    PagedList { items, page, total }
}

/// The list as a table: `head` is its header row, `row` makes one row per
/// item; `empty` is said when the list has none. The pager follows.
#[component]
pub fn PagedTable<T, H, HV, R, RV>(
    /// The list.
    list: PagedList<T>,
    /// The screen's path, for the pager's links.
    base: &'static str,
    /// What to say when the list is empty.
    empty: &'static str,
    /// The header row.
    head: H,
    /// One row for an item.
    row: R,
) -> impl IntoView
where
    T: Listed + Send + Sync,
    H: Fn() -> HV + Send + Sync + 'static,
    HV: IntoView + 'static,
    R: Fn(T) -> RV + Send + Sync + 'static,
    RV: IntoView + 'static,
{
    view! {
        {move || match list.items.get() {
            None => view! { <Skeleton /> }.into_any(),
            Some(Err(err)) => view! { <p class="alert" role="alert">{err.to_string()}</p> }.into_any(),
            Some(Ok(page)) if page.items.is_empty() => view! { <p class="muted">{empty}</p> }.into_any(),
            Some(Ok(page)) => view! {
                <table class="table">
                    <thead>{head()}</thead>
                    <tbody>{page.items.into_iter().map(&row).collect_view()}</tbody>
                </table>
            }
            .into_any(),
        }}
        <Pager base=base page=list.page total=list.total />
    }
}
