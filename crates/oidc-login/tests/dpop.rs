//! The DPoP key and its proofs in headless Chromium: one non-extractable
//! key per client in IndexedDB, the same for every caller until it is
//! discarded; proofs that WebCrypto verifies with the key their header
//! carries, naming the request (method, URL without query and fragment),
//! the token's hash and the server's nonce; the nonce and clock-skew
//! retries.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oidc_login::browser;
use oidc_login::dpop::{self, DpopKey, ProofVerdict};
use serde_json::Value;
use support::subtle;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn part(raw: &str, index: usize) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(raw.split('.').nth(index).unwrap()).unwrap()).unwrap()
}

/// Whether WebCrypto verifies `proof`'s signature with the public key in its own header.
async fn signature_holds(proof: &str) -> bool {
    let header = part(proof, 0);
    let jwk = js_sys::JSON::parse(&header["jwk"].to_string()).unwrap();
    let algorithm = js_sys::JSON::parse(r#"{"name":"ECDSA","namedCurve":"P-256"}"#).unwrap();
    let usages = js_sys::Array::of1(&JsValue::from_str("verify"));
    let import = subtle().import_key_with_object("jwk", jwk.unchecked_ref(), algorithm.unchecked_ref(), true, &usages);
    let key: web_sys::CryptoKey = JsFuture::from(import.unwrap()).await.unwrap().unchecked_into();
    let (input, signature) = proof.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let verify = js_sys::JSON::parse(r#"{"name":"ECDSA","hash":"SHA-256"}"#).unwrap();
    let valid = subtle().verify_with_object_and_u8_array_and_u8_array(
        verify.unchecked_ref(),
        &key,
        &signature,
        input.as_bytes(),
    );
    JsFuture::from(valid.unwrap()).await.unwrap().as_bool() == Some(true)
}

/// RFC 7638 §3: the thumbprint of the JWK a proof's header carries.
async fn thumbprint_of(proof: &str) -> String {
    let jwk = &part(proof, 0)["jwk"];
    let canonical = format!(r#"{{"crv":{},"kty":{},"x":{},"y":{}}}"#, jwk["crv"], jwk["kty"], jwk["x"], jwk["y"]);
    URL_SAFE_NO_PAD.encode(browser::sha256(canonical.as_bytes()).await.unwrap())
}

#[wasm_bindgen_test]
async fn one_key_per_client_until_discarded_and_its_proofs_verify() {
    let client = "dpop-test-key";
    DpopKey::discard(client).await;
    // Two callers at once (two tabs starting): one key, not two.
    let (a, b) = futures_join(DpopKey::load_or_create(client), DpopKey::load_or_create(client)).await;
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.thumbprint(), b.thumbprint());
    assert_eq!(a.thumbprint().len(), 43, "a base64url SHA-256");
    assert_eq!(DpopKey::load_or_create(client).await.unwrap(), a, "a reload reads the same key");

    let proof = a.proof("GET", "/api/v1/projects?page=2#top", Some("the-access-token")).await.unwrap();
    let (header, claims) = (part(&proof, 0), part(&proof, 1));
    assert_eq!(header["typ"], "dpop+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["jwk"]["kty"], "EC");
    assert!(header["jwk"].get("d").is_none(), "the header carries the public key only");
    assert!(signature_holds(&proof).await, "WebCrypto verifies the proof with its header's key");
    assert_eq!(thumbprint_of(&proof).await, a.thumbprint(), "the thumbprint is RFC 7638's");
    assert_eq!(claims["htm"], "GET");
    let origin = browser::origin().unwrap();
    assert_eq!(claims["htu"], format!("{origin}/api/v1/projects"), "absolute, without query and fragment");
    let ath = URL_SAFE_NO_PAD.encode(browser::sha256(b"the-access-token").await.unwrap());
    assert_eq!(claims["ath"], ath.as_str());
    assert!((claims["iat"].as_i64().unwrap() - browser::now_seconds()).abs() <= 2);
    let again = a.proof("GET", "/api/v1/projects", Some("the-access-token")).await.unwrap();
    assert_ne!(claims["jti"], part(&again, 1)["jti"], "every proof has its own jti");
    let token_request = a.proof("POST", "https://IdP.example:443/oauth/token", None).await.unwrap();
    assert_eq!(part(&token_request, 1)["htu"], "https://idp.example/oauth/token");
    assert!(part(&token_request, 1).get("ath").is_none(), "no token, no ath");

    // The private key cannot be read by script.
    let record = stored_record(client).await;
    let private = js_sys::Reflect::get(&record, &"privateKey".into()).unwrap();
    assert_eq!(js_sys::Reflect::get(&private, &"extractable".into()).unwrap(), JsValue::FALSE);

    // Sign-out: the next key is another.
    DpopKey::discard(client).await;
    let next = DpopKey::load_or_create(client).await.unwrap();
    assert_ne!(next.thumbprint(), a.thumbprint());
    // A session still holding the old key can still prove with it until it ends.
    assert!(signature_holds(&a.proof("GET", "/x", None).await.unwrap()).await);
    DpopKey::discard(client).await;
}

#[wasm_bindgen_test]
async fn a_damaged_record_is_replaced() {
    let client = "dpop-test-damaged";
    put_record(client, &JsValue::from_str("not a key pair")).await;
    let key = DpopKey::load_or_create(client).await.unwrap();
    assert!(signature_holds(&key.proof("GET", "/x", None).await.unwrap()).await);
    DpopKey::discard(client).await;
}

#[wasm_bindgen_test]
async fn a_server_s_nonce_is_used_and_its_clock_believed_once() {
    let key = DpopKey::load_or_create("dpop-test-nonce").await.unwrap();
    let api = "https://api.nonce.example/v1/projects";
    assert_eq!(part(&key.proof("GET", api, None).await.unwrap(), 1).get("nonce"), None);
    // `use_dpop_nonce` with a nonce: one retry, and the next proofs carry it.
    assert_eq!(dpop::read_answer(api, Some("use_dpop_nonce"), Some("n-1"), None), ProofVerdict::Retry);
    assert_eq!(part(&key.proof("GET", api, None).await.unwrap(), 1)["nonce"], "n-1");
    // The same nonce again: the server refuses it, and a retry would loop.
    assert_eq!(dpop::read_answer(api, Some("use_dpop_nonce"), Some("n-1"), None), ProofVerdict::Done);
    // Another origin has nonces of its own.
    let other = "https://idp.nonce.example/token";
    assert_eq!(part(&key.proof("POST", other, None).await.unwrap(), 1).get("nonce"), None);
    // A nonce on a success is remembered without a retry.
    assert_eq!(dpop::read_answer(api, None, Some("n-2"), None), ProofVerdict::Done);
    assert_eq!(part(&key.proof("GET", api, None).await.unwrap(), 1)["nonce"], "n-2");

    // A refused proof while the server's clock is an hour ahead: one retry, `iat` by its clock.
    let ahead = js_sys::Date::new(&JsValue::from_f64(js_sys::Date::now() + 3_600_000.0)).to_utc_string();
    let date = String::from(ahead);
    assert_eq!(dpop::read_answer(api, Some("invalid_dpop_proof"), None, Some(&date)), ProofVerdict::Retry);
    let iat = part(&key.proof("GET", api, None).await.unwrap(), 1)["iat"].as_i64().unwrap();
    assert!((iat - browser::now_seconds() - 3600).abs() <= 2, "iat {iat}");
    // Refused again at the same skew: not a clock problem, no loop.
    assert_eq!(dpop::read_answer(api, Some("invalid_dpop_proof"), None, Some(&date)), ProofVerdict::Done);
    let now = String::from(js_sys::Date::new_0().to_utc_string());
    assert_eq!(dpop::read_answer(api, Some("invalid_dpop_proof"), None, Some(&now)), ProofVerdict::Retry);
    assert_eq!(dpop::read_answer(api, Some("invalid_dpop_proof"), None, Some("garbage")), ProofVerdict::Done);
    DpopKey::discard("dpop-test-nonce").await;
}

/// Runs two futures side by side.
async fn futures_join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let a = std::pin::pin!(a);
    let b = std::pin::pin!(b);
    let (mut a, mut b) = (a, b);
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(|cx| {
        if ra.is_none() {
            ra = match a.as_mut().poll(cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            };
        }
        if rb.is_none() {
            rb = match b.as_mut().poll(cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            };
        }
        if ra.is_some() && rb.is_some() {
            std::task::Poll::Ready((ra.take().unwrap(), rb.take().unwrap()))
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}

/// Runs `script` (an async function body given `db`) against the key database and returns its result.
async fn with_database(script: &str, client: &str, value: &JsValue) -> JsValue {
    let body = format!(
        "return new Promise((ok, no) => {{ const r = indexedDB.open('oidc-login', 1);
         r.onupgradeneeded = () => r.result.createObjectStore('dpop-keys');
         r.onerror = () => no(r.error);
         r.onsuccess = () => {{ const db = r.result; const t = db.transaction('dpop-keys', 'readwrite');
           const s = t.objectStore('dpop-keys'); const q = {script};
           q.onsuccess = () => {{ db.close(); ok(q.result); }}; q.onerror = () => {{ db.close(); no(q.error); }}; }}; }});"
    );
    let function = js_sys::Function::new_with_args("client, value", &body);
    let promise = function.call2(&JsValue::NULL, &JsValue::from_str(client), value).unwrap();
    JsFuture::from(js_sys::Promise::from(promise)).await.unwrap()
}

async fn stored_record(client: &str) -> JsValue {
    with_database("s.get(client)", client, &JsValue::NULL).await
}

async fn put_record(client: &str, value: &JsValue) {
    with_database("s.put(value, client)", client, value).await;
}
