//! A stand-in for [wasm-streams](https://crates.io/crates/wasm-streams) 0.5:
//! the four functions of its API that server_fn's browser client calls
//! (`ReadableStream::{from_raw, into_raw, from_stream, into_stream}`), each
//! doing what the original does, and nothing else.
//!
//! Why: Leptos links server_fn's browser client, and with it wasm-streams,
//! whether or not an app has server functions (this one has none). The
//! original exports three JS classes (`IntoUnderlyingSource`,
//! `IntoUnderlyingByteSource`, `IntoUnderlyingSink`) with `#[wasm_bindgen]`,
//! and an export is never dead code: every first load of the SPA carried
//! them and their glue, about 3 KB of brotli, for nothing. Here the one
//! direction that needs JS to call Rust (`from_stream`) uses a closure
//! instead, which is linked only if something calls it.
//!
//! The workspace's `Cargo.toml` patches it in (`[patch.crates-io]`); drop
//! the patch to go back to the original.

use std::cell::RefCell;
use std::future::poll_fn;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_util::stream::{self, Stream, StreamExt};
use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue, UnwrapThrowExt};
use wasm_bindgen_futures::{JsFuture, future_to_promise};

/// A JS `ReadableStream`.
pub struct ReadableStream {
    raw: web_sys::ReadableStream,
}

impl ReadableStream {
    /// Wraps a JS stream.
    pub fn from_raw(raw: web_sys::ReadableStream) -> Self {
        Self { raw }
    }

    /// The JS stream.
    pub fn into_raw(self) -> web_sys::ReadableStream {
        self.raw
    }

    /// A JS stream of the items of `stream`, pulled one at a time as the
    /// reader asks (a high-water mark of 0, as the original sets); an
    /// `Err` errors the JS stream.
    pub fn from_stream<St>(stream: St) -> Self
    where
        St: Stream<Item = Result<JsValue, JsValue>> + 'static,
    {
        let stream: Rc<RefCell<Pin<Box<dyn Stream<Item = Result<JsValue, JsValue>>>>>> =
            Rc::new(RefCell::new(Box::pin(stream)));
        let pull = Closure::<dyn FnMut(web_sys::ReadableStreamDefaultController) -> Promise>::new(
            move |controller: web_sys::ReadableStreamDefaultController| {
                let stream = Rc::clone(&stream);
                future_to_promise(async move {
                    let next = poll_fn(|cx: &mut Context<'_>| stream.borrow_mut().as_mut().poll_next(cx)).await;
                    match next {
                        Some(Ok(chunk)) => controller.enqueue_with_chunk(&chunk)?,
                        Some(Err(error)) => return Err(error),
                        None => controller.close()?,
                    }
                    Ok(JsValue::UNDEFINED)
                })
            },
        );
        let source = Object::new();
        let _ = Reflect::set(&source, &JsValue::from_str("pull"), pull.as_ref());
        // The JS stream calls `pull` for as long as it lives.
        pull.forget();
        let strategy = web_sys::QueuingStrategy::new();
        strategy.set_high_water_mark(0.0);
        let raw = web_sys::ReadableStream::new_with_underlying_source_and_strategy(&source, &strategy)
            .expect_throw("a ReadableStream from a plain underlying source");
        Self { raw }
    }

    /// The stream's chunks, read with a default reader (which locks it);
    /// a read that fails ends the stream after its `Err`.
    pub fn into_stream(self) -> IntoStream<'static> {
        let reader: web_sys::ReadableStreamDefaultReader = self.raw.get_reader().unchecked_into();
        let chunks = stream::unfold(Some(reader), |reader| async move {
            let reader = reader?;
            match JsFuture::from(reader.read()).await {
                Ok(result) => {
                    let field = |name: &str| Reflect::get(&result, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
                    if field("done").as_bool().unwrap_or(true) {
                        let _ = reader.release_lock();
                        None
                    } else {
                        Some((Ok(field("value")), Some(reader)))
                    }
                }
                Err(error) => Some((Err(error), None)),
            }
        });
        IntoStream { chunks: chunks.boxed_local(), lifetime: PhantomData }
    }
}

/// The chunks of a [`ReadableStream`], as [`ReadableStream::into_stream`]
/// reads them.
pub struct IntoStream<'reader> {
    chunks: stream::LocalBoxStream<'static, Result<JsValue, JsValue>>,
    lifetime: PhantomData<&'reader ()>,
}

impl Stream for IntoStream<'_> {
    type Item = Result<JsValue, JsValue>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.chunks.poll_next_unpin(cx)
    }
}
