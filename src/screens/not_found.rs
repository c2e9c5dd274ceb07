//! The view for a path no route matches.

use leptos::prelude::*;

use crate::components::notice::Notice;
use crate::location::Link;

/// Not Found.
#[component]
pub fn NotFoundScreen() -> impl IntoView {
    view! {
        <Notice testid="not-found" title="Page not found">
            <p>"There is nothing at this address."</p>
            <Link href=contract::routes::HOME>"Back to the home page"</Link>
        </Notice>
    }
}
