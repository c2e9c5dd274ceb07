//! Hostile input: whatever arrives, the answer is a JSON 4xx, never a 500 or
//! a panic.

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::support::*;

const PROJECTS: &str = "/api/v1/projects";

#[track_caller]
fn assert_json_4xx(response: &TestResponse, what: &str) {
    assert!(response.status.is_client_error(), "{what}: {}", response.status);
    assert!(response.body["error"].is_string(), "{what}: {:?}", String::from_utf8_lossy(&response.raw));
}

#[tokio::test]
async fn garbage_tokens_are_refused_cleanly() {
    let app = test_app().await;
    let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s);
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let huge_string = format!(r#"{{"x":"{}"}}"#, "a".repeat(9_000));
    let tokens = vec![
        "a".repeat(api::auth::MAX_TOKEN_BYTES + 1),
        format!("{}.{}.{}", "A".repeat(6000), "B".repeat(6000), "C".repeat(3000)),
        format!("{}.{}.sig", b64("{"), b64("{}")),
        format!("{}.{}.sig", b64("null"), b64("{}")),
        format!("{}.{}.sig", b64(r#"{"alg":"RS256","kid":7}"#), b64("{}")),
        format!("{}.{}.sig", b64(r#"{"alg":"RS256","kid":"rsa-1","x":{"y":1}}"#), b64("{}")),
        format!("{}.{}.sig", b64(r#"{"alg":["RS256"]}"#), b64("{}")),
        format!("{}.{}.sig", b64(&deep), b64("{}")),
        format!("{}.{}.sig", b64(r#"{"alg":"RS256","kid":"rsa-1"}"#), b64(&deep)),
        format!("{}.{}.sig", b64(r#"{"alg":"RS256","kid":"rsa-1"}"#), b64(&huge_string)),
        format!("{}.{}.{}", b64(r#"{"alg":"RS256","kid":"rsa-1"}"#), b64("{}"), "A".repeat(4000)),
        format!("{}.%%%.sig", b64(r#"{"alg":"RS256"}"#)),
        format!("{}.{}.sig", URL_SAFE_NO_PAD.encode([0xff, 0xfe, 0x00]), b64("{}")),
        "eyJ.eyJ.eyJ".to_owned(),
        "..".to_owned(),
        "=".to_owned(),
    ];
    for token in tokens {
        let response = app.get(PROJECTS, Some(&token)).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{}", &token[..token.len().min(80)]);
        assert_eq!(response.body["error"], "invalid_token");
    }
}

#[tokio::test]
async fn validly_signed_but_strange_claims_are_refused_or_harmless() {
    let app = test_app().await;
    let sign_raw = |claims: &Value| sign_with(rsa_1(), Algorithm::RS256, claims);
    // Claims that are not an object.
    for claims in [json!([1, 2, 3]), json!("string"), json!(null), json!(42)] {
        let response = app.get(PROJECTS, Some(&sign_raw(&claims))).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{claims}");
    }
    // Absurd numbers and huge permission lists.
    for (name, value) in [
        ("exp", json!(u64::MAX)),
        ("exp", json!(1e300)),
        ("exp", json!(-5)),
        ("nbf", json!(u64::MAX)),
        ("nbf", json!("soon")),
        ("permissions", json!(vec!["read:project-list"; 5000])),
        ("permissions", json!({"permissions": {"permissions": []}})),
    ] {
        let mut claims = all_claims();
        claims[name] = value;
        let response = app.get(PROJECTS, Some(&sign_raw(&claims))).await;
        assert!(
            response.status == StatusCode::OK
                || response.status == StatusCode::UNAUTHORIZED
                || response.status == StatusCode::FORBIDDEN,
            "{name}: {}",
            response.status
        );
        assert!(response.body.is_array() || response.body["error"].is_string());
    }
}

#[tokio::test]
async fn odd_requests_get_json_errors() {
    let app = test_app().await;
    let long_header = HeaderValue::from_str(&format!("Bearer {}", "a".repeat(60_000))).unwrap();
    let requests = vec![
        ("long authorization header", Request::get(PROJECTS).header(header::AUTHORIZATION, long_header)),
        (
            "empty authorization header",
            Request::get(PROJECTS).header(header::AUTHORIZATION, HeaderValue::from_static("")),
        ),
        (
            "latin-1 authorization header",
            Request::get(PROJECTS).header(header::AUTHORIZATION, HeaderValue::from_bytes(b"Bearer \xe9").unwrap()),
        ),
        ("long query", Request::get(format!("{PROJECTS}?{}", "page=1&".repeat(5_000)))),
        ("odd query", Request::get(format!("{PROJECTS}?%%%&&==&page"))),
    ];
    for (what, request) in requests {
        let response = app.send(request.body(Body::empty()).unwrap()).await;
        assert_json_4xx(&response, what);
    }
    // Garbage in the query of an authorised request: a 400, not a 500.
    let token = sign(&all_claims());
    for query in ["%%%&&==&page", "page=%F0%9F%92%A9", "per_page=1&per_page", "page=1%00"] {
        let response = app.get(&format!("{PROJECTS}?{query}"), Some(&token)).await;
        assert_json_4xx(&response, query);
    }
}
