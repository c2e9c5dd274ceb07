//! Views whose code sits in a wasm chunk of its own: `<Chunk>` loads it on
//! demand and shows the view, or a clear error with a way to try again.
//!
//! A signed-in first load of `/` runs the Home screen and the shell; the
//! other screens are code it would download for nothing. Each is a split
//! point ([`chunk!`](crate::chunk), see [`crate::split`]) that hands back
//! its view builder once its chunk is in.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;

use crate::components::notice::Notice;
use crate::load::Loader;
pub use crate::split::ChunkError;

/// What a chunk's entry point gives back once its code is in: the function
/// that builds its view (a plain pointer into the chunk, so the answer can be
/// kept and called again).
pub type ChunkView = Result<fn() -> AnyView, ChunkError>;

/// A chunk's entry point, called: its code loading (at most once), then its
/// view builder.
pub type LoadChunk = Pin<Box<dyn Future<Output = ChunkView>>>;

/// The view of a chunk: "Loading…" while its code is fetched, then the view,
/// or, when the fetch failed, an error saying so with a button that tries
/// again.
#[component]
pub fn Chunk(
    /// What the chunk shows, for the error ("the Project List screen").
    what: &'static str,
    /// Calls the chunk's entry point (a [`chunk!`](crate::chunk) function).
    load: fn() -> LoadChunk,
) -> impl IntoView {
    let loaded = Loader::new(load);
    move || match loaded.get() {
        None => view! { <p class="placeholder" role="status" aria-live="polite">"Loading…"</p> }.into_any(),
        Some(Ok(view)) => untrack(view),
        // A retry that fails too answers `Err` again: the same view, ready for another try.
        Some(Err(ChunkError)) => view! {
            <Notice testid="chunk-error" title="This page could not be loaded" alert=true>
                <p>{format!("The code of {what} could not be downloaded. Check your connection and try again.")}</p>
                <button class="button primary" data-testid="chunk-retry" on:click=move |_| loaded.reload()>
                    "Try again"
                </button>
            </Notice>
        }
        .into_any(),
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    //! `<Chunk>` in Chromium, with an entry point that fails and then
    //! loads, as a chunk fetch that fails once (the network) would.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::cell::Cell;

    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::*;

    use super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    thread_local! {
        /// How often the entry point below was called.
        static CALLS: Cell<u32> = const { Cell::new(0) };
    }

    /// Fails on the first call, loads on the next ones.
    fn flaky() -> LoadChunk {
        Box::pin(async {
            let call = CALLS.with(|calls| {
                calls.set(calls.get() + 1);
                calls.get()
            });
            let view: fn() -> AnyView = || view! { <p data-testid="loaded">"in"</p> }.into_any();
            if call == 1 { Err(ChunkError) } else { Ok(view) }
        })
    }

    fn count(host: &web_sys::HtmlElement, testid: &str) -> u32 {
        host.query_selector_all(&format!("[data-testid='{testid}']")).unwrap().length()
    }

    async fn until(what: &str, check: impl Fn() -> bool) {
        let start = js_sys::Date::now();
        while !check() {
            assert!(js_sys::Date::now() - start < 5_000.0, "timed out waiting for {what}");
            let promise = js_sys::Promise::new(&mut |resolve, _| {
                web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 10).unwrap();
            });
            wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
        }
    }

    #[wasm_bindgen_test]
    async fn a_chunk_that_fails_to_load_shows_an_error_and_loads_on_retry() {
        let document = web_sys::window().unwrap().document().unwrap();
        let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
        document.body().unwrap().append_child(&host).unwrap();
        leptos::mount::mount_to(host.clone(), || view! { <Chunk what="the test screen" load=flaky /> }).forget();

        until("the error", || count(&host, "chunk-error") == 1).await;
        let text = host.text_content().unwrap_or_default();
        assert!(text.contains("The code of the test screen could not be downloaded"), "{text}");
        assert_eq!(count(&host, "loaded"), 0);

        let retry: web_sys::HtmlElement =
            host.query_selector("[data-testid='chunk-retry']").unwrap().unwrap().unchecked_into();
        retry.click();
        until("the view", || count(&host, "loaded") == 1).await;
        assert_eq!(count(&host, "chunk-error"), 0);
        assert_eq!(CALLS.with(Cell::get), 2);
    }
}
