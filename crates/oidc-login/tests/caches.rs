//! The provider's documents remembered between page loads, in headless
//! Chromium: discovery and the key set are reused for as long as their
//! `max-age` allows and no longer; a malformed, expired or foreign entry is
//! dropped and the document fetched again; a token naming a key the
//! remembered set lacks is looked up at the provider before it fails.
//!
//! Each test uses an issuer of its own (nothing listens on port 9 of
//! loopback, so a fetch there is a network error): a discovery that
//! succeeds there came from the cache, one that fails tried the network.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

// The signing helpers serve `signature.rs` too; these tests use a few of them.
#[allow(dead_code)]
mod support;

use std::cell::Cell;

use oidc_login::discovery::discovery_url;
use oidc_login::provider_cache::{self, reuse_seconds};
use oidc_login::signature::{self, ProviderKeys};
use oidc_login::{ClientSettings, LoginError, OidcClient, browser};
use serde_json::json;
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// An issuer nobody answers for, unique to `test`.
fn unreachable_issuer(test: &str) -> String {
    format!("http://127.0.0.1:9/{test}")
}

fn settings(issuer: &str) -> ClientSettings {
    ClientSettings::for_origin("http://127.0.0.1:8080", issuer.to_owned(), "spa".to_owned())
}

/// A discovery document for `issuer` (endpoints below it).
fn discovery_document(issuer: &str) -> String {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "code_challenge_methods_supported": ["S256"],
    })
    .to_string()
}

/// Remembers `body` for `url` as if fetched `ago` seconds ago with `Cache-Control: cache_control`.
fn remember(url: &str, body: &str, cache_control: &str, ago: i64) {
    let now = browser::now_seconds();
    provider_cache::keep(url, body, reuse_seconds(Some(cache_control), None), now - ago);
}

fn is_network_error(result: &Result<OidcClient, LoginError>) -> bool {
    matches!(result, Err(LoginError::Network(_)))
}

#[wasm_bindgen_test]
fn a_document_is_reused_for_its_max_age_and_not_a_second_longer() {
    let url = "https://idp.example/max-age/.well-known/openid-configuration";
    let now = browser::now_seconds();
    provider_cache::keep(url, "{}", reuse_seconds(Some("public, max-age=300"), None), now);
    assert_eq!(provider_cache::recall(url, now + 299).as_deref(), Some("{}"));
    assert_eq!(provider_cache::recall(url, now + 300), None, "expired at max-age");
    // The expired entry is gone, even for a clock that goes back.
    assert_eq!(provider_cache::recall(url, now), None);

    // Without a lifetime nothing is kept, and an earlier copy is dropped.
    provider_cache::keep(url, "{}", Some(60), now);
    provider_cache::keep(url, "{}", reuse_seconds(Some("no-store"), None), now);
    assert_eq!(provider_cache::recall(url, now), None);
    // A year is cut to a day.
    provider_cache::keep(url, "{}", reuse_seconds(Some("max-age=31536000"), None), now);
    assert!(provider_cache::recall(url, now + provider_cache::MAX_REUSE_SECONDS - 1).is_some());
    assert_eq!(provider_cache::recall(url, now + provider_cache::MAX_REUSE_SECONDS), None);
}

#[wasm_bindgen_test]
fn a_damaged_entry_is_dropped() {
    let url = "https://idp.example/damaged/jwks";
    let key = provider_cache::storage_key(url);
    let now = browser::now_seconds();
    for damaged in [
        "not json".to_owned(),
        json!({ "body": "{}" }).to_string(),
        // Filed under another URL's key.
        json!({ "url": "https://evil.example/jwks", "stored_at": now, "expires_at": now + 60, "body": "{}" })
            .to_string(),
        // Longer-lived than any max-age is allowed to make it.
        json!({ "url": url, "stored_at": now, "expires_at": now + 10 * 86_400, "body": "{}" }).to_string(),
        // From the future: the clock went back since.
        json!({ "url": url, "stored_at": now + 600, "expires_at": now + 900, "body": "{}" }).to_string(),
    ] {
        browser::storage_set(browser::StorageArea::Local, &key, &damaged).unwrap();
        assert_eq!(provider_cache::recall(url, now), None, "{damaged}");
        assert_eq!(browser::storage_get(browser::StorageArea::Local, &key), None, "{damaged} was not removed");
    }
}

#[wasm_bindgen_test]
async fn discovery_uses_the_remembered_document_while_it_lasts() {
    let issuer = unreachable_issuer("fresh");
    remember(&discovery_url(&issuer), &discovery_document(&issuer), "max-age=3600", 10);
    // No request reaches the (absent) provider.
    let client = OidcClient::discover(settings(&issuer)).await.unwrap();
    drop(client);
    // Asked past every cache, the provider itself must answer: "Try again" relies on it.
    assert!(is_network_error(&OidcClient::rediscover(settings(&issuer)).await));
}

#[wasm_bindgen_test]
async fn an_expired_document_is_fetched_again() {
    let issuer = unreachable_issuer("expired");
    let url = discovery_url(&issuer);
    remember(&url, &discovery_document(&issuer), "max-age=3600", 3600);
    assert!(is_network_error(&OidcClient::discover(settings(&issuer)).await));
    assert_eq!(provider_cache::recall(&url, browser::now_seconds()), None);
}

#[wasm_bindgen_test]
async fn a_remembered_document_that_no_longer_passes_is_dropped_and_fetched_again() {
    // Not a discovery document, and one naming another issuer (the configuration changed since).
    let malformed = |_: &str| "<html>".to_owned();
    let foreign = |issuer: &str| discovery_document(&format!("{issuer}/other"));
    for (test, document) in [("malformed", &malformed as &dyn Fn(&str) -> String), ("foreign", &foreign)] {
        let issuer = unreachable_issuer(test);
        let url = discovery_url(&issuer);
        remember(&url, &document(&issuer), "max-age=3600", 0);
        assert!(is_network_error(&OidcClient::discover(settings(&issuer)).await), "{test}");
        assert_eq!(provider_cache::recall(&url, browser::now_seconds()), None, "{test} was kept");
    }
}

/// Keys for `jwks_uri` with `kids`' public keys remembered, as discovery leaves them.
fn remembered_keys(jwks_uri: &str, keys: &[&TestKey]) -> ProviderKeys {
    let published: Vec<&serde_json::Value> = keys.iter().map(|key| &key.public_jwk).collect();
    remember(jwks_uri, &jwks(&published), "max-age=300", 0);
    let provider = ProviderKeys::new(jwks_uri);
    provider.recall(browser::now_seconds());
    provider
}

#[wasm_bindgen_test]
async fn remembered_keys_verify_without_a_fetch_and_an_unknown_kid_is_looked_up_at_once() {
    let old = TestKey::generate("ES256", "old").await;
    let new = TestKey::generate("ES256", "new").await;
    let now = browser::now_seconds();
    // The provider now publishes both (it rotated since the set was remembered).
    let served = data_url(&jwks(&[&new.public_jwk, &old.public_jwk]));
    let keys = remembered_keys(&served, &[&old]);
    assert_eq!(keys.current().unwrap().keys().len(), 1);
    let fetches = Cell::new(0);
    let counted = async |uri: &str| {
        fetches.set(fetches.get() + 1);
        signature::fetch_jwks(uri).await
    };
    keys.verify_with(&old.sign(&claims(now)).await, now, counted).await.unwrap();
    assert_eq!(fetches.get(), 0, "the remembered key verifies without a request");
    // A token by the new key: fetched once, at once (no waiting out a refetch interval), and accepted.
    keys.verify_with(&new.sign(&claims(now)).await, now, counted).await.unwrap();
    assert_eq!(fetches.get(), 1);
    assert_eq!(keys.current().unwrap().keys().len(), 2);
}

#[wasm_bindgen_test]
async fn remembered_keys_that_fail_a_token_give_way_to_the_provider_s() {
    // The remembered `k1` is not the key the provider signs with as `k1` now (a damaged or planted entry, or
    // a provider that reused the kid): the token verifies against a fresh fetch, and the entry is dropped.
    let remembered = TestKey::generate("RS256", "k1").await;
    let actual = TestKey::generate("RS256", "k1").await;
    let served = data_url(&jwks(&[&actual.public_jwk]));
    let keys = remembered_keys(&served, &[&remembered]);
    let raw = actual.sign(&claims(browser::now_seconds())).await;
    keys.verify(&raw).await.unwrap();
    assert_eq!(keys.current().unwrap().keys(), [actual.library_jwk()]);
    assert_eq!(provider_cache::recall(&served, browser::now_seconds()), None);

    // A forgery still fails, against the remembered key and then the provider's.
    let impostor = TestKey::generate("RS256", "k1").await;
    let keys = remembered_keys(&served, &[&actual]);
    let forged = impostor.sign(&claims(browser::now_seconds())).await;
    match keys.verify(&forged).await {
        Err(LoginError::InvalidIdToken(why)) => assert!(why.contains("signature is invalid"), "{why}"),
        other => panic!("a forged token passed or failed oddly: {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn a_remembered_key_set_that_is_not_one_is_dropped() {
    let uri = "https://idp.example/not-a-jwks/jwks";
    remember(uri, "{\"keys\": 7}", "max-age=300", 0);
    let keys = ProviderKeys::new(uri);
    keys.recall(browser::now_seconds());
    assert_eq!(keys.current(), None);
    assert_eq!(provider_cache::recall(uri, browser::now_seconds()), None);
    // And an expired one is not used.
    let key = TestKey::generate("ES256", "k1").await;
    remember(uri, &jwks(&[&key.public_jwk]), "max-age=300", 300);
    keys.recall(browser::now_seconds());
    assert_eq!(keys.current(), None);
}
