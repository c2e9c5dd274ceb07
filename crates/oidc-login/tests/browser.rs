//! The login module's browser-only parts, in headless Chromium.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oidc_login::browser::{self, StorageArea};
use oidc_login::{ClientSettings, LoginError, OidcClient};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn pkce_challenge_matches_rfc_7636_appendix_b() {
    let challenge = browser::pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").await.unwrap();
    assert_eq!(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

#[wasm_bindgen_test]
async fn sha256_uses_webcrypto() {
    let digest = browser::sha256(b"abc").await.unwrap();
    assert_eq!(digest[..4], [0xba, 0x78, 0x16, 0xbf]);
    assert_eq!(digest.len(), 32);
}

#[wasm_bindgen_test]
fn verifiers_are_43_unreserved_characters_and_unique() {
    let a = browser::random_token(32).unwrap();
    let b = browser::random_token(32).unwrap();
    assert_eq!(a.len(), 43);
    assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "{a}");
    assert_ne!(a, b);
}

#[wasm_bindgen_test]
fn storage_round_trips_and_removes() {
    browser::storage_set(StorageArea::Session, "oidc-login.test", "v").unwrap();
    assert_eq!(browser::storage_get(StorageArea::Session, "oidc-login.test").as_deref(), Some("v"));
    assert!(browser::storage_keys(StorageArea::Session).iter().any(|k| k == "oidc-login.test"));
    browser::storage_remove(StorageArea::Session, "oidc-login.test");
    assert_eq!(browser::storage_get(StorageArea::Session, "oidc-login.test"), None);
}

/// Settings for a provider whose issuer is `issuer`.
fn settings(issuer: &str) -> ClientSettings {
    ClientSettings::for_origin("http://127.0.0.1:8080", issuer.to_owned(), "spa".to_owned())
}

#[wasm_bindgen_test]
async fn an_unreachable_provider_is_a_network_error_not_a_panic() {
    // Port 9 (discard) on loopback: nothing listens there.
    let err = OidcClient::discover(settings("http://127.0.0.1:9")).await.unwrap_err();
    assert!(matches!(err, LoginError::Network(ref why) if why.contains("127.0.0.1:9")), "{err:?}");
}

#[wasm_bindgen_test]
async fn an_http_error_status_is_an_answer_not_a_network_failure() {
    // The test runner's own server has no discovery document: a 404.
    let origin = browser::origin().unwrap();
    let err = OidcClient::discover(settings(&origin)).await.unwrap_err();
    assert!(matches!(err, LoginError::Discovery(ref why) if why.contains("HTTP 404")), "{err:?}");
}
