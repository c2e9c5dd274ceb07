//! The view for a path no route matches.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::notice::Notice;

/// Not Found.
#[component]
pub fn NotFoundScreen() -> impl IntoView {
    view! {
        <Notice testid="not-found" title="Page not found">
            <p>"There is nothing at this address."</p>
            <A href=contract::routes::HOME>"Back to the home page"</A>
        </Notice>
    }
}
