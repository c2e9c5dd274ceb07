//! URL rules with the browser's own parser, in headless Chromium: provider
//! URLs, same-origin paths, and the discovery document's endpoints.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oidc_login::LoginError;
use oidc_login::discovery::ProviderMetadata;
use oidc_login::urls::{check_provider_url, is_same_origin_path};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn provider_urls_are_https_or_loopback_http() {
    for ok in [
        "https://tenant.auth0.com/",
        "https://kc.example/realms/demo",
        "http://127.0.0.1:8081",
        "http://localhost:1",
        "http://[::1]:9",
        "http://127.0.0.2:8081/",
    ] {
        assert_eq!(check_provider_url(ok), Ok(()), "{ok}");
    }
}

#[wasm_bindgen_test]
fn provider_urls_that_only_look_like_loopback_or_https_are_refused() {
    for bad in [
        "http://idp.example",
        "ftp://x",
        "https://",
        "issuer",
        "/relative",
        "https://a/?x=1",
        "https://a/?",
        "https://a#b",
        "http://127.0.0.1.evil.example",
        "http://localhost.evil.example/",
        // The user-info trick: the host is evil.example, not 127.0.0.1.
        "http://127.0.0.1:1@evil.example/",
        "http://localhost@evil.example/",
        "https://user:secret@idp.example/",
        "https://bad host/",
        "javascript:alert(1)",
    ] {
        assert!(check_provider_url(bad).is_err(), "{bad}");
    }
    let why = check_provider_url("http://127.0.0.1:1@evil.example/").unwrap_err();
    assert!(why.contains("https"), "{why}");
}

#[wasm_bindgen_test]
fn same_origin_paths_resolve_to_this_origin() {
    let origin = "http://127.0.0.1:8080";
    for ok in ["/api/v1", "/", "/api/v1/../v2", "/a?b#c"] {
        assert!(is_same_origin_path(ok, origin), "{ok}");
    }
    for bad in [
        "//evil.example",
        "/\\evil.example",
        "/\\/evil.example",
        "\\\\evil.example",
        "https://evil.example/api",
        "http://127.0.0.1:8080/api",
        "api/v1",
        "",
    ] {
        assert!(!is_same_origin_path(bad, origin), "{bad}");
    }
    assert!(!is_same_origin_path("/api", "not an origin"));
}

fn doc(issuer: &str, extra: &str) -> String {
    format!(
        r#"{{"issuer":"{issuer}","authorization_endpoint":"{issuer}authorize","token_endpoint":"{issuer}oauth/token","jwks_uri":"{issuer}jwks"{extra}}}"#
    )
}

#[wasm_bindgen_test]
fn the_discovered_issuer_must_match_exactly() {
    let issuer = "https://t.auth0.com/";
    assert!(ProviderMetadata::parse(&doc(issuer, ""), issuer).is_ok());
    let err = ProviderMetadata::parse(&doc(issuer, ""), "https://t.auth0.com").unwrap_err();
    assert!(matches!(err, LoginError::Discovery(ref m) if m.contains("configured issuer")), "{err:?}");
}

#[wasm_bindgen_test]
fn unusable_discovery_documents_are_refused() {
    let issuer = "https://t.example/";
    assert!(ProviderMetadata::parse("not json", issuer).is_err());
    assert!(ProviderMetadata::parse(r#"{"issuer":"https://t.example/"}"#, issuer).is_err());
    assert!(ProviderMetadata::parse(&doc(issuer, r#","code_challenge_methods_supported":["plain"]"#), issuer).is_err());
    assert!(
        ProviderMetadata::parse(&doc(issuer, r##","end_session_endpoint":"http://evil.example/""##), issuer).is_err()
    );
    assert!(
        ProviderMetadata::parse(&doc(issuer, r##","revocation_endpoint":"http://127.0.0.1:1@evil.example/""##), issuer)
            .is_err()
    );
}
