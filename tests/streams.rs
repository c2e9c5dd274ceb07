//! The stand-in for wasm-streams (vendor/wasm-streams, patched in for server_fn) in Chromium: a Rust stream
//! becomes a JS ReadableStream and is read back, in order, to its end; an error reaches the reader.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::StreamExt;
use futures_util::stream;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use wasm_streams::ReadableStream;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_rust_stream_reads_back_through_a_js_readable_stream() {
    let items = stream::iter(["a", "b", "c"].map(|s| Ok(JsValue::from_str(s))));
    let raw = ReadableStream::from_stream(items).into_raw();
    let read: Vec<String> =
        ReadableStream::from_raw(raw).into_stream().map(|item| item.unwrap().as_string().unwrap()).collect().await;
    assert_eq!(read, ["a", "b", "c"]);
}

#[wasm_bindgen_test]
async fn an_error_of_the_rust_stream_reaches_the_reader() {
    let items = stream::iter([Ok(JsValue::from_str("a")), Err(JsValue::from_str("broken"))]);
    let mut read = ReadableStream::from_raw(ReadableStream::from_stream(items).into_raw()).into_stream();
    assert_eq!(read.next().await.unwrap().unwrap().as_string().as_deref(), Some("a"));
    assert_eq!(read.next().await.unwrap().unwrap_err().as_string().as_deref(), Some("broken"));
    assert!(read.next().await.is_none());
}
