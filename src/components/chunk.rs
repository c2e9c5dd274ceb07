//! Views whose code sits in a wasm chunk of its own: `<Chunk>` loads it on
//! demand and shows the view, or a clear error with a way to try again.
//!
//! A signed-in first load of `/` runs the Home screen and the shell; the
//! other screens are code it would download for nothing. The release build
//! (`cargo xtask dist`, with `--cfg wasm_split`) cuts each function that
//! [`chunk!`](crate::chunk) declares into a separate `.wasm`, fetched the
//! first time the function is called (xtask/src/split.rs does the cutting).
//! Without that cfg (`cargo xtask dev`, the native tests) the function is an
//! ordinary one and its code is in the one wasm: the same view, no fetch.
//!
//! A chunk that cannot be fetched (the network is down, a deploy replaced
//! the files) is an `Err`, never a panic: the `fallible` option of
//! `wasm_split` turns the failed load into [`ChunkError`], and a retry loads
//! from scratch (a failed load is not remembered).

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;

use crate::components::notice::Notice;
use crate::load::Loader;

/// A chunk's code could not be loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkError;

impl From<leptos::wasm_split::SplitLoaderError> for ChunkError {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        ChunkError
    }
}

/// What a chunk's entry point gives back once its code is in: the function
/// that builds its view (a plain pointer into the chunk, so the answer can be
/// kept and called again).
pub type ChunkView = Result<fn() -> AnyView, ChunkError>;

/// A chunk's entry point, called: its code loading (at most once), then its
/// view builder.
pub type LoadChunk = Pin<Box<dyn Future<Output = ChunkView>>>;

/// Declares a chunk's entry point: `chunk! { fn name() { body } }`, where the
/// body evaluates to the [`ChunkView`] and `name` names the chunk. It becomes
/// an `async fn name() -> ChunkView`; with `--cfg wasm_split` a
/// `wasm_split` split point, whose code (and all code only it reaches) the
/// release build moves into the chunk.
#[macro_export]
macro_rules! chunk {
    ($(#[$meta:meta])* $vis:vis fn $name:ident() $body:block) => {
        $(#[$meta])*
        #[cfg(wasm_split)]
        #[::leptos::wasm_split::wasm_split($name, wasm_split_path = ::leptos::wasm_split, fallible)]
        $vis fn $name() -> $crate::components::chunk::ChunkView $body

        $(#[$meta])*
        #[cfg(not(wasm_split))]
        $vis async fn $name() -> $crate::components::chunk::ChunkView $body
    };
}

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
