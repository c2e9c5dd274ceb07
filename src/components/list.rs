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

/// What a list's table shows at a moment.
enum TableBody {
    Loading,
    Failed(String),
    Empty,
    Rows(Vec<AnyView>),
}

/// The list as a table: `head` is its header row, `row` makes one row per
/// item; `empty` is said when the list has none. The pager follows.
#[component]
pub fn PagedTable<T>(
    /// The list.
    list: PagedList<T>,
    /// The screen's path, for the pager's links.
    base: &'static str,
    /// What to say when the list is empty.
    empty: &'static str,
    /// The header row.
    head: fn() -> AnyView,
    /// One row for an item.
    row: Callback<T, AnyView>,
) -> impl IntoView
where
    T: Listed + Send + Sync,
{
    let body = move || {
        list.items.with(|page| match page {
            None => TableBody::Loading,
            Some(Err(err)) => TableBody::Failed(err.to_string()),
            Some(Ok(page)) if page.items.is_empty() => TableBody::Empty,
            Some(Ok(page)) => TableBody::Rows(page.items.iter().map(|item| row.run(item.clone())).collect()),
        })
    };
    // Only the lines above know `T`; the table itself is compiled once for
    // both lists rather than once per item type.
    let retry = Callback::new(move |()| list.refetch());
    table(Box::new(body), base, empty, head, list.page, list.total, retry)
}

/// [`PagedTable`] once its rows are views.
fn table(
    body: Box<dyn Fn() -> TableBody + Send + Sync>,
    base: &'static str,
    empty: &'static str,
    head: fn() -> AnyView,
    page: Memo<u32>,
    total: Signal<u64>,
    retry: Callback<()>,
) -> AnyView {
    view! {
        {move || match body() {
            TableBody::Loading => view! { <Skeleton /> }.into_any(),
            // The API down, slow past its deadline, or answering garbage: say
            // so, and offer to ask again (the page stays as it is around it).
            TableBody::Failed(err) => view! {
                <div class="alert" role="alert" data-testid="list-error">
                    <p>{err}</p>
                    <button type="button" class="button" data-testid="list-retry" on:click=move |_| retry.run(())>
                        "Try again"
                    </button>
                </div>
            }
            .into_any(),
            TableBody::Empty => view! { <p class="muted">{empty}</p> }.into_any(),
            TableBody::Rows(rows) => view! {
                <table class="table">
                    <thead>{head()}</thead>
                    <tbody>{rows}</tbody>
                </table>
            }
            .into_any(),
        }}
        <Pager base=base page=page total=total />
    }
    .into_any()
}
