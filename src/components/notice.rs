//! A centred panel with a heading and a way home: the frame of the views
//! that stand in for a page (Forbidden, Not Found, a configuration error).

use leptos::prelude::*;

/// A stand-in page: `title` above `children`.
#[component]
pub fn Notice(
    /// The `data-testid` of the panel (`forbidden`, `not-found`).
    testid: &'static str,
    /// The heading.
    title: &'static str,
    /// Announce the panel at once (`role="alert"`): for refusals and errors.
    #[prop(optional)]
    alert: bool,
    /// The explanation, and any way on.
    children: Children,
) -> impl IntoView {
    view! {
        <section class="panel center" data-testid=testid role=alert.then_some("alert")>
            <h1>{title}</h1>
            {children()}
        </section>
    }
}
