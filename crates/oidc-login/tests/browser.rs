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

/// Issue 9, item 2: sign-out takes the refresh token under the refresh lock. A refresh under way in another tab
/// (here: a holder of that lock that writes the rotated token just before it lets go) finishes first, and the
/// rotated token is forgotten with the rest; before, sign-out forgot the old token at once and the refresh wrote
/// the new one back afterwards, so the next reload signed the user in again.
#[wasm_bindgen_test]
async fn sign_out_waits_for_a_refresh_under_way_and_forgets_the_rotated_token() {
    use std::cell::Cell;
    use std::rc::Rc;

    use oidc_login::discovery::discovery_url;
    use oidc_login::locks::with_lock;
    use oidc_login::provider_cache;
    use oidc_login::refresh::{lock_name, storage_key};

    // A provider remembered from an earlier page load (nothing is fetched) with no revocation endpoint, and a
    // post-logout address in this document, so that sign-out's navigation does not leave the test page.
    let issuer = "http://127.0.0.1:9/sign-out-under-the-lock";
    let document = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
    });
    provider_cache::keep(&discovery_url(issuer), &document.to_string(), Some(300), browser::now_seconds());
    let mut settings = settings(issuer);
    settings.post_logout_redirect_uri = "#signed-out".to_owned();
    let client = OidcClient::discover(settings).await.unwrap();
    let key = storage_key("spa");
    browser::storage_set(StorageArea::Local, &key, r#"{"refresh_token":"old","subject":"u1"}"#).unwrap();

    let (holding, done) = (Rc::new(Cell::new(false)), Rc::new(Cell::new(false)));
    let (holding_in_tab, done_in_tab, key_in_tab) = (holding.clone(), done.clone(), key.clone());
    wasm_bindgen_futures::spawn_local(async move {
        with_lock(&lock_name("spa"), move || async move {
            holding_in_tab.set(true);
            browser::sleep_seconds(1).await;
            let rotated = r#"{"refresh_token":"rotated","subject":"u1"}"#;
            browser::storage_set(StorageArea::Local, &key_in_tab, rotated).unwrap();
            done_in_tab.set(true);
        })
        .await;
    });
    while !holding.get() {
        browser::sleep_seconds(0).await;
    }

    client.sign_out(None).await.unwrap();
    while !done.get() {
        browser::sleep_seconds(0).await;
    }
    assert_eq!(browser::storage_get(StorageArea::Local, &key), None, "a refresh token outlived sign-out");
    assert!(!client.has_session_hint());
}
