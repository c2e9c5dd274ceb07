//! DPoP (RFC 9449) in the browser: the key that sender-constrains this
//! client's tokens, and the proofs that show its possession.
//!
//! - **The key** is an ECDSA P-256 pair made by WebCrypto with its private
//!   half *non-extractable*: script in the page can ask the browser to sign
//!   with it, but no script can read it, so a token copied out of the page
//!   is useless anywhere else. It is kept in IndexedDB (`CryptoKey` objects
//!   survive a structured clone; `localStorage` holds only strings), one per
//!   client id, so reloads and the app's other tabs use the same key, and it
//!   is deleted at sign-out, so the next user of the browser gets a new one.
//!   Two tabs creating it at once cannot end with two keys: the second `add`
//!   fails and that tab takes the first one's key.
//! - **A proof** is a compact JWS (`typ: dpop+jwt`, ES256, the public key in
//!   the header) over the request's method and URL (without query and
//!   fragment, as the server compares it), a fresh `jti`, the time, the hash
//!   of the access token (`ath`) for a resource request, and the server's
//!   latest nonce when it gave one.
//! - **Server nonces and clock skew** are remembered in memory per origin:
//!   a server that answers `use_dpop_nonce` gets one retry with the nonce
//!   its `DPoP-Nonce` header carried, and a server that refuses a proof
//!   while its `Date` is far from ours gets one retry with our clock moved
//!   to its.
//!
//! Deliberately absent: a way to read the access token's binding. The
//! client learns that a token is bound from `token_type: DPoP` and never
//! parses the access token.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use js_sys::{Function, Promise, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::LoginError;
use crate::browser::{self, describe, js_object};
use crate::{b64, json};

/// Whether the client sender-constrains its tokens (`dpop` in `/config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DpopMode {
    /// When the provider advertises ES256 in `dpop_signing_alg_values_supported`.
    #[default]
    Auto,
    /// Always; a token the provider issues as `Bearer` is refused.
    Required,
    /// Never: Bearer tokens, as before DPoP.
    Off,
}

impl DpopMode {
    /// The mode named `name` (`auto`, `required`, `off`).
    pub fn from_name(name: &str) -> Option<DpopMode> {
        match name {
            "auto" => Some(DpopMode::Auto),
            "required" => Some(DpopMode::Required),
            "off" => Some(DpopMode::Off),
            _ => None,
        }
    }
}

/// The one signing algorithm the client uses (WebCrypto ECDSA P-256).
pub const ALGORITHM: &str = "ES256";

/// The IndexedDB database and object store of the keys, keyed by client id.
const DATABASE: &str = "oidc-login";
const STORE: &str = "dpop-keys";

#[wasm_bindgen]
extern "C" {
    // The few IndexedDB calls this module makes, bound by hand: web-sys's
    // bindings would be the same calls, behind eight crate features.
    type IdbFactory;
    #[wasm_bindgen(method, catch)]
    fn open(this: &IdbFactory, name: &str, version: u32) -> Result<IdbRequest, JsValue>;

    #[derive(Clone)]
    type IdbRequest;
    #[wasm_bindgen(method, getter, catch)]
    fn result(this: &IdbRequest) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn error(this: &IdbRequest) -> JsValue;
    #[wasm_bindgen(method, setter)]
    fn set_onsuccess(this: &IdbRequest, handler: &Function);
    #[wasm_bindgen(method, setter)]
    fn set_onerror(this: &IdbRequest, handler: &Function);
    #[wasm_bindgen(method, setter)]
    fn set_onupgradeneeded(this: &IdbRequest, handler: &JsValue);

    type IdbDatabase;
    #[wasm_bindgen(method, catch, js_name = createObjectStore)]
    fn create_object_store(this: &IdbDatabase, name: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn transaction(this: &IdbDatabase, store: &str, mode: &str) -> Result<IdbTransaction, JsValue>;
    #[wasm_bindgen(method)]
    fn close(this: &IdbDatabase);

    type IdbTransaction;
    #[wasm_bindgen(method, catch, js_name = objectStore)]
    fn object_store(this: &IdbTransaction, name: &str) -> Result<IdbObjectStore, JsValue>;

    type IdbObjectStore;
    #[wasm_bindgen(method, catch)]
    fn get(this: &IdbObjectStore, key: &str) -> Result<IdbRequest, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn add(this: &IdbObjectStore, value: &JsValue, key: &str) -> Result<IdbRequest, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn delete(this: &IdbObjectStore, key: &str) -> Result<IdbRequest, JsValue>;
}

fn storage_error(what: &str, err: JsValue) -> LoginError {
    LoginError::Browser(format!("the DPoP key store (IndexedDB) failed to {what}: {}", describe(err)))
}

/// The request's result once it succeeds, or its error.
async fn settled(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(&resolve);
        request.set_onerror(&reject);
    });
    match JsFuture::from(promise).await {
        Ok(_) => request.result(),
        // The rejection is the error event; the reason is on the request.
        Err(_) => Err(request.error()),
    }
}

/// The key database, created on first use.
async fn database() -> Result<IdbDatabase, LoginError> {
    let factory = Reflect::get(&browser::window()?.into(), &JsValue::from_str("indexedDB"))
        .ok()
        .filter(|f| f.is_object())
        .ok_or_else(|| LoginError::Browser("IndexedDB is unavailable, so no DPoP key can be kept".into()))?
        .unchecked_into::<IdbFactory>();
    let request = factory.open(DATABASE, 1).map_err(|e| storage_error("open", e))?;
    let upgrading = request.clone();
    request.set_onupgradeneeded(&Closure::once_into_js(move |_: JsValue| {
        if let Ok(db) = upgrading.result() {
            // A failure here aborts the upgrade, and `open` reports it.
            let _ = db.unchecked_into::<IdbDatabase>().create_object_store(STORE);
        }
    }));
    Ok(settled(&request).await.map_err(|e| storage_error("open", e))?.unchecked_into())
}

/// One request on the key store.
enum Op<'a> {
    Get,
    Add(&'a JsValue),
    Delete,
}

/// Runs `op` on `client_id`'s record, in a transaction of its own. One
/// function for the three, not one per caller: every instance of an async
/// function is code every first load downloads.
async fn on_store(op: Op<'_>, client_id: &str) -> Result<JsValue, LoginError> {
    let db = database().await?;
    let mode = if matches!(op, Op::Get) { "readonly" } else { "readwrite" };
    let answer = async {
        let store = db.transaction(STORE, mode)?.object_store(STORE)?;
        let request = match op {
            Op::Get => store.get(client_id)?,
            Op::Add(value) => store.add(value, client_id)?,
            Op::Delete => store.delete(client_id)?,
        };
        settled(&request).await
    }
    .await;
    db.close();
    answer.map_err(|e| storage_error("use the key", e))
}

/// A client's DPoP key, by the public key's JWK as the proofs' header
/// carries it and its thumbprint. The private key, a JS object, stays in
/// this thread's [`PRIVATE_KEYS`], so that a session holding a `DpopKey` can
/// live in a signal shared across threads, as Leptos's signals require.
#[derive(Clone)]
pub struct DpopKey(Arc<KeyParts>);

struct KeyParts {
    /// `BASE64URL(header)` of every proof made with this key.
    header: String,
    /// The RFC 7638 thumbprint of the public key (`jkt`, `dpop_jkt`).
    thumbprint: String,
}

thread_local! {
    /// The private keys this page has loaded, by thumbprint: a handful at
    /// most (one per sign-in), kept while the page lives, since a session
    /// in memory may still hold a key that sign-out deleted from IndexedDB.
    static PRIVATE_KEYS: RefCell<Vec<(String, web_sys::CryptoKey)>> = const { RefCell::new(Vec::new()) };
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DpopKey({})", self.0.thumbprint)
    }
}

impl PartialEq for DpopKey {
    fn eq(&self, other: &DpopKey) -> bool {
        self.0.thumbprint == other.0.thumbprint
    }
}

fn crypto_error(what: &str) -> impl Fn(JsValue) -> LoginError + '_ {
    move |e| LoginError::Browser(format!("WebCrypto could not {what}: {}", describe(e)))
}

fn field(value: &JsValue, name: &str) -> Option<JsValue> {
    Reflect::get(value, &JsValue::from_str(name)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

impl DpopKey {
    /// The key `client_id` keeps in this browser, made and kept first if it
    /// has none (or a damaged record, which is replaced).
    pub async fn load_or_create(client_id: &str) -> Result<DpopKey, LoginError> {
        // Twice at most: a lost race to `add` is followed by reading the winner's key.
        for _ in 0..2 {
            let stored = on_store(Op::Get, client_id).await?;
            let record = match DpopKey::from_record(&stored).await {
                Some(key) => return Ok(key),
                None if !stored.is_undefined() => {
                    // Not a usable key pair (another library's record, a
                    // browser that cannot clone keys): replaced.
                    DpopKey::discard(client_id).await;
                    continue;
                }
                None => DpopKey::generate().await?,
            };
            if on_store(Op::Add(&record), client_id).await.is_ok() {
                return DpopKey::from_record(&record)
                    .await
                    .ok_or_else(|| LoginError::Browser("WebCrypto made an unusable DPoP key".into()));
            }
        }
        Err(LoginError::Browser("no DPoP key could be kept in IndexedDB".into()))
    }

    /// Deletes `client_id`'s key from this browser (sign-out). Best effort:
    /// a key that cannot be deleted binds tokens that are revoked anyway.
    pub async fn discard(client_id: &str) {
        let _ = on_store(Op::Delete, client_id).await;
    }

    /// A new key pair (`{privateKey, publicKey}`), the private half unreadable.
    async fn generate() -> Result<JsValue, LoginError> {
        let subtle = browser::subtle_crypto()?;
        let algorithm = js_object(&[("name", "ECDSA".into()), ("namedCurve", "P-256".into())])?;
        let usages = js_sys::Array::of1(&JsValue::from_str("sign"));
        let promise =
            subtle.generate_key_with_object(&algorithm, false, &usages).map_err(crypto_error("make a DPoP key"))?;
        JsFuture::from(promise).await.map_err(crypto_error("make a DPoP key"))
    }

    /// The key of a stored pair, if `record` is one.
    async fn from_record(record: &JsValue) -> Option<DpopKey> {
        let private: web_sys::CryptoKey = field(record, "privateKey")?.dyn_into().ok()?;
        let public = field(record, "publicKey")?;
        let subtle = browser::subtle_crypto().ok()?;
        let jwk = JsFuture::from(subtle.export_key("jwk", public.unchecked_ref()).ok()?).await.ok()?;
        let (x, y) = (field(&jwk, "x")?.as_string()?, field(&jwk, "y")?.as_string()?);
        if field(&jwk, "crv")?.as_string()? != "P-256" {
            return None;
        }
        // RFC 7638 §3.2: the required members, in lexicographic order, no
        // white space. x and y are base64url, which needs no escaping.
        let public_jwk = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let thumbprint = b64::encode(browser::sha256(public_jwk.as_bytes()).await.ok()?);
        let header = b64::encode(format!(r#"{{"alg":"{ALGORITHM}","typ":"dpop+jwt","jwk":{public_jwk}}}"#));
        PRIVATE_KEYS.with(|keys| {
            let mut keys = keys.borrow_mut();
            if !keys.iter().any(|(known, _)| *known == thumbprint) {
                keys.push((thumbprint.clone(), private));
            }
        });
        Some(DpopKey(Arc::new(KeyParts { header, thumbprint })))
    }

    /// The RFC 7638 thumbprint of the public key: the `dpop_jkt` of an
    /// authorization request, and the `cnf.jkt` of the tokens bound to it.
    pub fn thumbprint(&self) -> &str {
        &self.0.thumbprint
    }

    /// A proof for a `method` request to `url` (RFC 9449 §4.2): with the
    /// hash of `access_token` when one is sent, and the nonce the server of
    /// `url` last gave.
    pub async fn proof(&self, method: &str, url: &str, access_token: Option<&str>) -> Result<String, LoginError> {
        let target = resolve(url)?;
        // RFC 9449 §4.2: without query and fragment; the origin as the URL
        // standard writes it (lowercase, the default port left out), as
        // servers normalise it.
        let origin = target.origin();
        let htu = format!("{origin}{}", target.pathname());
        let mut claims = json::object([
            ("jti", Value::String(browser::random_token(16)?)),
            ("htm", Value::String(method.to_owned())),
            ("htu", Value::String(htu)),
            ("iat", Value::from(server_now())),
        ]);
        if let (Some(token), Value::Object(fields)) = (access_token, &mut claims) {
            fields.insert("ath".into(), Value::String(b64::encode(browser::sha256(token.as_bytes()).await?)));
        }
        if let (Some(nonce), Value::Object(fields)) = (nonce_for(&origin), &mut claims) {
            fields.insert("nonce".into(), Value::String(nonce));
        }
        let signing_input = format!("{}.{}", self.0.header, b64::encode(json::to_string(&claims)));
        let private = PRIVATE_KEYS
            .with(|keys| keys.borrow().iter().find(|(known, _)| *known == self.0.thumbprint).map(|(_, k)| k.clone()))
            .ok_or_else(|| LoginError::Browser("the DPoP key of this session is not loaded in this page".into()))?;
        let subtle = browser::subtle_crypto()?;
        let algorithm = js_object(&[("name", "ECDSA".into()), ("hash", "SHA-256".into())])?;
        let promise = subtle
            .sign_with_object_and_u8_array(&algorithm, &private, signing_input.as_bytes())
            .map_err(crypto_error("sign a DPoP proof"))?;
        // WebCrypto's ECDSA signature is `r || s`, as JWS wants (RFC 7518 §3.4).
        let signature = JsFuture::from(promise).await.map_err(crypto_error("sign a DPoP proof"))?;
        Ok(format!("{signing_input}.{}", b64::encode(js_sys::Uint8Array::new(&signature).to_vec())))
    }
}

/// `url` resolved against the page (the API's base may be a path).
fn resolve(url: &str) -> Result<web_sys::Url, LoginError> {
    let base = browser::window()?.location().href().unwrap_or_default();
    web_sys::Url::new_with_base(url, &base)
        .map_err(|_| LoginError::Browser(format!("`{url}` is not a URL a DPoP proof can name")))
}

thread_local! {
    /// The latest `DPoP-Nonce` of each server origin.
    static NONCES: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
    /// Seconds to add to this clock to read the servers' (from their `Date`).
    static SKEW: Cell<i64> = const { Cell::new(0) };
}

/// The latest nonce the server at `origin` gave.
fn nonce_for(origin: &str) -> Option<String> {
    NONCES.with(|nonces| nonces.borrow().iter().find(|(o, _)| *o == origin).map(|(_, n)| n.clone()))
}

/// Remembers the nonce a server at `url` gave; `true` when it is new.
fn remember_nonce(url: &str, nonce: &str) -> bool {
    let origin = resolve(url).map(|url| url.origin()).unwrap_or_default();
    NONCES.with(|nonces| {
        let mut nonces = nonces.borrow_mut();
        match nonces.iter_mut().find(|(o, _)| *o == origin) {
            Some((_, known)) if known == nonce => false,
            Some((_, known)) => {
                *known = nonce.to_owned();
                true
            }
            None => {
                nonces.push((origin, nonce.to_owned()));
                true
            }
        }
    })
}

/// Now, by the servers' clock as far as their `Date` told it.
fn server_now() -> i64 {
    browser::now_seconds() + SKEW.get()
}

/// The difference from which a server's `Date` moves our proofs' clock:
/// below it, `iat` is within any server's window anyway.
const SKEW_THRESHOLD_SECONDS: i64 = 10;

/// What a server's answer to a request with a proof says about that proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofVerdict {
    /// Nothing to do again.
    Done,
    /// Try the request once more with a new proof: the server asked for its
    /// nonce (and gave it), or refused the proof while its clock is far from
    /// ours (which is now corrected).
    Retry,
}

/// Reads the DPoP parts of an answer from the server at `url`: remembers a
/// `DPoP-Nonce` it gives, and decides whether a refused proof (`error`,
/// `use_dpop_nonce` or `invalid_dpop_proof`, from an OAuth error body or a
/// `WWW-Authenticate` header) is worth one more try.
pub fn read_answer(url: &str, error: Option<&str>, dpop_nonce: Option<&str>, date: Option<&str>) -> ProofVerdict {
    let new_nonce = dpop_nonce.is_some_and(|nonce| !nonce.is_empty() && remember_nonce(url, nonce));
    match error {
        Some("use_dpop_nonce") if new_nonce => ProofVerdict::Retry,
        Some("invalid_dpop_proof") => {
            let server = date.map(js_sys::Date::parse).filter(|ms| ms.is_finite()).map(|ms| (ms / 1000.0) as i64);
            match server.map(|server| server - browser::now_seconds()) {
                Some(skew) if (skew - SKEW.get()).abs() > SKEW_THRESHOLD_SECONDS => {
                    SKEW.set(skew);
                    ProofVerdict::Retry
                }
                _ => ProofVerdict::Done,
            }
        }
        _ => ProofVerdict::Done,
    }
}

/// The `error` of a `WWW-Authenticate: DPoP error="..."` challenge.
pub fn challenge_error(www_authenticate: &str) -> Option<&str> {
    let (_, rest) = www_authenticate.split_once("error=\"")?;
    rest.split_once('"').map(|(error, _)| error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_by_name() {
        assert_eq!(DpopMode::from_name("auto"), Some(DpopMode::Auto));
        assert_eq!(DpopMode::from_name("required"), Some(DpopMode::Required));
        assert_eq!(DpopMode::from_name("off"), Some(DpopMode::Off));
        assert_eq!(DpopMode::from_name("on"), None);
        assert_eq!(DpopMode::default(), DpopMode::Auto);
    }

    #[test]
    fn challenges_name_their_error() {
        assert_eq!(
            challenge_error(r#"DPoP error="use_dpop_nonce", error_description="fresh nonce""#),
            Some("use_dpop_nonce")
        );
        assert_eq!(challenge_error(r#"DPoP algs="ES256", error="invalid_dpop_proof""#), Some("invalid_dpop_proof"));
        assert_eq!(challenge_error("Bearer"), None);
        assert_eq!(challenge_error(r#"DPoP error="unterminated"#), None);
    }
}
