//! The view for a path no route matches.

use leptos::prelude::*;
use leptos_router::components::A;

/// Not Found.
#[component]
pub fn NotFoundScreen() -> impl IntoView {
    view! {
        <section class="panel center" data-testid="not-found">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <A href="/">"Back to the home page"</A>
        </section>
    }
}
