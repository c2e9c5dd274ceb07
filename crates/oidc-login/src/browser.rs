//! The Web APIs the login module needs: randomness, SHA-256, storage, HTTP
//! (through gloo-net) and navigation. Thin wrappers that turn every
//! JavaScript exception into a typed error; nothing here panics, even
//! outside a secure context.

use gloo_net::http::{Request, RequestBuilder};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::LoginError;
use crate::b64;

/// A JavaScript exception as text (`TypeError: ...`).
pub fn describe(err: JsValue) -> String {
    err.dyn_ref::<js_sys::Error>()
        .map(|e| format!("{}: {}", String::from(e.name()), String::from(e.message())))
        .or_else(|| err.as_string())
        .unwrap_or_else(|| format!("{err:?}"))
}

/// The global `window`.
pub fn window() -> Result<web_sys::Window, LoginError> {
    web_sys::window().ok_or_else(|| LoginError::Browser("there is no window".into()))
}

/// Now, in whole seconds since the Unix epoch.
pub fn now_seconds() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// Waits `seconds` (a `setTimeout`), without blocking the page.
pub async fn sleep_seconds(seconds: i64) {
    let millis = (seconds.clamp(0, 3600) * 1000) as i32;
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// `n` bytes from `crypto.getRandomValues`.
fn random_bytes(n: usize) -> Result<Vec<u8>, LoginError> {
    let crypto =
        window()?.crypto().map_err(|e| LoginError::Browser(format!("WebCrypto is unavailable: {}", describe(e))))?;
    let mut bytes = vec![0u8; n];
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|e| LoginError::Browser(format!("crypto.getRandomValues failed: {}", describe(e))))?;
    Ok(bytes)
}

/// A base64url string of `n` random bytes.
pub fn random_token(n: usize) -> Result<String, LoginError> {
    Ok(b64::encode(random_bytes(n)?))
}

/// `crypto.subtle`, which exists only in a secure context (https, or
/// localhost); elsewhere this says so plainly instead of failing obscurely.
pub fn subtle_crypto() -> Result<web_sys::SubtleCrypto, LoginError> {
    let window = window()?;
    let not_secure = || {
        LoginError::Browser(
            "WebCrypto (crypto.subtle) is unavailable because this page is not a secure context; serve it over https or from localhost".into(),
        )
    };
    if !window.is_secure_context() {
        return Err(not_secure());
    }
    let crypto = window.crypto().map_err(|_| not_secure())?;
    // `crypto.subtle` is `undefined` outside a secure context; check before use.
    let subtle = js_sys::Reflect::get(&crypto, &JsValue::from_str("subtle")).map_err(|_| not_secure())?;
    if subtle.is_undefined() {
        return Err(not_secure());
    }
    Ok(subtle.unchecked_into())
}

/// SHA-256 through `crypto.subtle.digest`.
pub async fn sha256(data: &[u8]) -> Result<Vec<u8>, LoginError> {
    let subtle = subtle_crypto()?;
    let promise = subtle
        .digest_with_str_and_u8_array("SHA-256", data)
        .map_err(|e| LoginError::Browser(format!("SHA-256 failed: {}", describe(e))))?;
    let digest =
        JsFuture::from(promise).await.map_err(|e| LoginError::Browser(format!("SHA-256 failed: {}", describe(e))))?;
    Ok(js_sys::Uint8Array::new(&digest).to_vec())
}

/// A plain JavaScript object with these properties: a WebCrypto argument
/// (an algorithm, a JWK).
pub(crate) fn js_object(entries: &[(&str, JsValue)]) -> Result<js_sys::Object, LoginError> {
    let object = js_sys::Object::new();
    for (name, value) in entries {
        js_sys::Reflect::set(&object, &JsValue::from_str(name), value)
            .map_err(|e| LoginError::Browser(format!("cannot build a WebCrypto argument: {}", describe(e))))?;
    }
    Ok(object)
}

/// The PKCE S256 code challenge of `verifier`: `BASE64URL(SHA-256(ASCII(verifier)))`.
pub async fn pkce_challenge(verifier: &str) -> Result<String, LoginError> {
    Ok(b64::encode(sha256(verifier.as_bytes()).await?))
}

/// Which Web Storage area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageArea {
    /// Per tab; survives reloads of that tab.
    Session,
    /// Per origin; shared by every tab.
    Local,
}

fn storage(area: StorageArea) -> Result<web_sys::Storage, LoginError> {
    let window = window()?;
    let storage = match area {
        StorageArea::Session => window.session_storage(),
        StorageArea::Local => window.local_storage(),
    };
    match storage {
        Ok(Some(storage)) => Ok(storage),
        _ => Err(LoginError::Browser("Web Storage is disabled in this browser".into())),
    }
}

/// Reads a key; `None` when absent or when storage is unavailable.
pub fn storage_get(area: StorageArea, key: &str) -> Option<String> {
    storage(area).ok()?.get_item(key).ok().flatten()
}

/// Writes a key.
pub fn storage_set(area: StorageArea, key: &str, value: &str) -> Result<(), LoginError> {
    storage(area)?
        .set_item(key, value)
        .map_err(|e| LoginError::Browser(format!("cannot write to storage: {}", describe(e))))
}

/// Removes a key (nothing happens when storage is unavailable).
pub fn storage_remove(area: StorageArea, key: &str) {
    if let Ok(storage) = storage(area) {
        let _ = storage.remove_item(key);
    }
}

/// The keys present in a storage area.
pub fn storage_keys(area: StorageArea) -> Vec<String> {
    let Ok(storage) = storage(area) else { return Vec::new() };
    let len = storage.length().unwrap_or(0);
    (0..len).filter_map(|i| storage.key(i).ok().flatten()).collect()
}

/// How a request treats the browser's HTTP cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Cache {
    /// The browser's usual rules (the discovery document may be cached).
    #[default]
    Default,
    /// Revalidate with the server first (`cache: no-cache`): a key set or a
    /// token answer served from the cache would hide a rotation.
    Revalidate,
}

/// An HTTP answer, read whole. HTTP error statuses are answers too; only
/// network-level failures are errors.
#[derive(Debug, Clone)]
pub(crate) struct HttpResponse {
    /// The HTTP status.
    pub(crate) status: u16,
    /// The body, as text.
    pub(crate) body: String,
    /// How long the answer may be reused, from its `Cache-Control` (and
    /// `Age`, when readable) headers: see [`crate::provider_cache::reuse_seconds`].
    pub(crate) reuse_seconds: Option<i64>,
    /// RFC 9449 §8: the server's new nonce for DPoP proofs.
    pub(crate) dpop_nonce: Option<String>,
    /// The server's `Date`, which a refused DPoP proof's time is set by.
    pub(crate) date: Option<String>,
}

/// How long a request to the provider may take, answer read whole, before
/// it is abandoned as a network failure: a provider that accepts the
/// connection and never answers would otherwise hold the refresh lock (and
/// with it sign-out, and every other tab's refresh) for as long as the
/// browser keeps the connection.
pub const PROVIDER_REQUEST_TIMEOUT_MS: u32 = 15_000;

/// Sends `request`, with `body` if given, without cookies (`credentials:
/// omit`: tokens travel only in headers and bodies this code sets), and
/// reads the answer whole, within [`PROVIDER_REQUEST_TIMEOUT_MS`]. The error
/// is a network-level failure (offline, CORS, DNS, the timeout), as text.
async fn send(request: RequestBuilder, body: Option<&str>, cache: Cache) -> Result<HttpResponse, String> {
    // `AbortSignal.timeout` aborts the fetch and the body read alike.
    let deadline = web_sys::AbortSignal::timeout_with_u32(PROVIDER_REQUEST_TIMEOUT_MS);
    let request = request.credentials(web_sys::RequestCredentials::Omit).abort_signal(Some(&deadline));
    let request = match cache {
        Cache::Default => request,
        Cache::Revalidate => request.cache(web_sys::RequestCache::NoCache),
    };
    let request = match body {
        Some(body) => request.body(body),
        None => request.build(),
    }
    .map_err(|e| e.to_string())?;
    let timed_out = |e: gloo_net::Error| {
        if deadline.aborted() {
            format!("no answer within {} s", PROVIDER_REQUEST_TIMEOUT_MS / 1000)
        } else {
            e.to_string()
        }
    };
    let response = request.send().await.map_err(timed_out)?;
    let headers = response.headers();
    let reuse_seconds =
        crate::provider_cache::reuse_seconds(headers.get("cache-control").as_deref(), headers.get("age").as_deref());
    let (dpop_nonce, date) = (headers.get("dpop-nonce"), headers.get("date"));
    let body = response.text().await.map_err(timed_out)?;
    Ok(HttpResponse { status: response.status(), body, reuse_seconds, dpop_nonce, date })
}

/// Gets a JSON document (discovery, the key set).
pub(crate) async fn get_json(url: &str, cache: Cache) -> Result<HttpResponse, String> {
    send(Request::get(url).header("Accept", "application/json"), None, cache).await
}

/// Posts an `application/x-www-form-urlencoded` body (the token and
/// revocation endpoints), never from the cache, with a `DPoP` proof when
/// given one.
pub(crate) async fn post_form(url: &str, form: &str, dpop: Option<&str>) -> Result<HttpResponse, String> {
    let request = Request::post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json");
    let request = match dpop {
        Some(proof) => request.header("DPoP", proof),
        None => request,
    };
    send(request, Some(form), Cache::Revalidate).await
}

/// The page's origin (`https://app.example`).
pub fn origin() -> Result<String, LoginError> {
    window()?.location().origin().map_err(|e| LoginError::Browser(describe(e)))
}

/// What a navigation away from the app does to the current history entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryEntry {
    /// Keep it: Back returns to this page (the user clicked "Sign in").
    Keep,
    /// Replace it, so Back skips the page that navigated away (a guard
    /// that started a sign-in by itself would otherwise start it again).
    Replace,
}

/// Sends the browser to `url`, a full-page navigation.
pub fn navigate(url: &str, history: HistoryEntry) -> Result<(), LoginError> {
    let location = window()?.location();
    match history {
        HistoryEntry::Keep => location.assign(url),
        HistoryEntry::Replace => location.replace(url),
    }
    .map_err(|e| LoginError::Browser(format!("cannot navigate: {}", describe(e))))
}

/// Sends the browser to `url` with a form POST of `fields`
/// (`application/x-www-form-urlencoded`), a full-page navigation that keeps
/// the fields out of the URL, the history and the server's request line.
///
/// The form is built off-screen and submitted with `HTMLFormElement.submit()`,
/// which fires no `submit` event: nothing in the page can see or cancel it.
/// The page's Content-Security-Policy must allow `url`'s origin in
/// `form-action` (crates/spa-headers does, for the issuer).
pub fn submit_form(url: &str, fields: &[(&str, String)]) -> Result<(), LoginError> {
    let failed = |e: JsValue| LoginError::Browser(format!("cannot submit the form to {url}: {}", describe(e)));
    let document = window()?.document().ok_or_else(|| LoginError::Browser("no document".into()))?;
    let form: web_sys::HtmlFormElement = document.create_element("form").map_err(failed)?.unchecked_into();
    form.set_method("post");
    form.set_action(url);
    form.set_hidden(true);
    for (name, value) in fields {
        let input: web_sys::HtmlInputElement = document.create_element("input").map_err(failed)?.unchecked_into();
        input.set_type("hidden");
        input.set_name(name);
        input.set_value(value);
        form.append_child(&input).map_err(failed)?;
    }
    let body = document.body().ok_or_else(|| LoginError::Browser("no document body".into()))?;
    body.append_child(&form).map_err(failed)?;
    form.submit().map_err(failed)
}

/// Replaces the current history entry's URL with `path`, so that Back never
/// returns to it (used to drop the callback's code and state).
pub fn replace_url(path: &str) -> Result<(), LoginError> {
    window()?
        .history()
        .and_then(|h| h.replace_state_with_url(&JsValue::NULL, "", Some(path)))
        .map_err(|e| LoginError::Browser(describe(e)))
}
