//! What the SPA's browser tests share: signed-in states ([`session`]), and
//! waiting on the DOM with a deadline, never for a fixed time.
// Each test file uses part of it.
#![allow(dead_code, unused_imports)]

mod session;

pub(crate) use session::{session, signed_in_with};

/// How long the DOM may take to show what a test waits for.
pub(crate) const DEADLINE_MS: f64 = 5_000.0;

/// How many elements under `host` carry `data-testid="<testid>"`.
pub(crate) fn count(host: &web_sys::HtmlElement, testid: &str) -> u32 {
    host.query_selector_all(&format!("[data-testid='{testid}']")).unwrap().length()
}

/// One turn of the browser's event loop.
pub(crate) async fn next_turn() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 10).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// Waits until `check` holds, failing with `what` after [`DEADLINE_MS`].
pub(crate) async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let start = js_sys::Date::now();
    while !check() {
        assert!(js_sys::Date::now() - start < DEADLINE_MS, "timed out waiting for {what}");
        next_turn().await;
    }
}

/// Waits until each `(testid, n)` has exactly `n` elements, all at once.
/// Each call must include a positive count that the render under test
/// brings, so that it cannot pass on the render before.
pub(crate) async fn until_counts(host: &web_sys::HtmlElement, expected: &[(&str, u32)]) {
    let matches = || expected.iter().all(|(testid, n)| count(host, testid) == *n);
    let start = js_sys::Date::now();
    while !matches() {
        let seen: Vec<(&str, u32)> = expected.iter().map(|(testid, _)| (*testid, count(host, testid))).collect();
        assert!(js_sys::Date::now() - start < DEADLINE_MS, "expected {expected:?}, still {seen:?}");
        next_turn().await;
    }
}
