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

/// The answer is `status` with a JSON body naming `error`.
#[track_caller]
fn assert_json_error(response: &TestResponse, status: StatusCode, error: &str, what: &str) {
    assert_eq!(response.status, status, "{what}");
    assert_eq!(response.body["error"], error, "{what}: {:?}", String::from_utf8_lossy(&response.raw));
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

/// Validly signed tokens with absurd claims get exactly the answer the
/// claims call for: a date in the past (RFC 7519 §4.1.4: `exp` on or before
/// now, beyond the leeway, must be refused) or ahead (§4.1.5) is a `401`, a
/// claim of the wrong type a `401`, and a permissions claim of the wrong
/// shape grants nothing (`403`), never a `500`.
#[tokio::test]
async fn validly_signed_but_strange_claims_get_the_answer_they_call_for() {
    let app = test_app().await;
    let sign_raw = |claims: &Value| sign_with(rsa_1(), Algorithm::RS256, claims);
    // Claims that are not an object.
    for claims in [json!([1, 2, 3]), json!("string"), json!(null), json!(42)] {
        let response = app.get(PROJECTS, Some(&sign_raw(&claims))).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{claims}");
        assert_eq!(response.body["error"], "invalid_token", "{claims}");
    }
    let expired = "the token has expired";
    let not_yet = "the token is not valid yet";
    let invalid_claim = "a claim of the token has an invalid format";
    let mut wrong = Vec::new();
    for (name, value, status, description) in [
        // Far in the future: a valid token.
        ("exp", json!(u64::MAX), StatusCode::OK, None),
        ("exp", json!(1e300), StatusCode::OK, None),
        // A fractional NumericDate (RFC 7519 §2).
        ("exp", json!(now() as f64 + 600.5), StatusCode::OK, None),
        // Before 1970: long past.
        ("exp", json!(-5), StatusCode::UNAUTHORIZED, Some(expired)),
        ("exp", json!(0), StatusCode::UNAUTHORIZED, Some(expired)),
        ("exp", json!(now() - 3600), StatusCode::UNAUTHORIZED, Some(expired)),
        ("exp", json!("tomorrow"), StatusCode::UNAUTHORIZED, Some(invalid_claim)),
        ("nbf", json!(u64::MAX), StatusCode::UNAUTHORIZED, Some(not_yet)),
        ("nbf", json!("soon"), StatusCode::UNAUTHORIZED, Some(invalid_claim)),
        // 500 copies of one permission: deduplicated, within the cap.
        ("permissions", json!(vec!["read:project-list"; 500]), StatusCode::OK, None),
        // 5000 copies: the token is over `MAX_TOKEN_BYTES` before anything is read.
        (
            "permissions",
            json!(vec!["read:project-list"; 5000]),
            StatusCode::UNAUTHORIZED,
            Some("the token is too large"),
        ),
        // Not a list: no permissions at all.
        ("permissions", json!({"permissions": {"permissions": []}}), StatusCode::FORBIDDEN, None),
    ] {
        let mut claims = all_claims();
        claims[name] = value.clone();
        let response = app.get(PROJECTS, Some(&sign_raw(&claims))).await;
        let expected_error = match (status, description) {
            (StatusCode::OK, _) => None,
            (_, None) => Some("insufficient_scope"),
            (_, Some(_)) => Some("invalid_token"),
        };
        let answered = (response.status, response.body["error"].as_str(), response.body["error_description"].as_str());
        if answered != (status, expected_error, description.or(answered.2.filter(|_| description.is_none()))) {
            wrong.push(format!("{name}: {:.60}: {answered:?}", value.to_string()));
        }
        if status == StatusCode::OK && !response.body.is_array() {
            wrong.push(format!("{name}: {:.60}: not the list", value.to_string()));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
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
    // Authentication comes first: without a usable token, nothing of the
    // query is read, so every one of these is refused for its header (RFC
    // 6750 §3.1): a header that is not text is a malformed request, an
    // empty one names no scheme (no credentials), and a too-long token is
    // invalid.
    for (what, request) in requests {
        let response = app.send(request.body(Body::empty()).unwrap()).await;
        let (status, error) = match what {
            "latin-1 authorization header" => (StatusCode::BAD_REQUEST, "invalid_request"),
            "long authorization header" => (StatusCode::UNAUTHORIZED, "invalid_token"),
            _ => (StatusCode::UNAUTHORIZED, "unauthorized"),
        };
        assert_json_error(&response, status, error, what);
    }
    // Garbage in the query of an authorised request: a 400, not a 500.
    let token = sign(&all_claims());
    for query in ["%%%&&==&page", "page=%F0%9F%92%A9", "per_page=1&per_page", "page=1%00"] {
        let response = app.get(&format!("{PROJECTS}?{query}"), Some(&token)).await;
        assert_json_error(&response, StatusCode::BAD_REQUEST, "invalid_request", query);
    }
}
