//! `GET /api/v1/me/capabilities`: what the API reads from the caller's own
//! token, from the configured claim, with the parser's warnings.

use axum::http::{Method, StatusCode};
use permissions::ClaimPath;
use serde_json::json;

use crate::support::*;

const CAPABILITIES: &str = "/api/v1/me/capabilities";

#[tokio::test]
async fn permissions_come_sorted_from_the_permissions_claim() {
    let app = test_app().await;
    let mut claims = claims(&["read:user-list", "create:project", "read:project-list", "launch:rocket"]);
    // Ignored: the app reads `permissions`.
    claims["scope"] = json!("delete:project");
    let response = app.get(CAPABILITIES, Some(&sign(&claims))).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    assert_eq!(
        response.body,
        json!({
            "subject": "auth0|user-1",
            "permissions": ["create:project", "launch:rocket", "read:project-list", "read:user-list"],
            "source": "permissions",
            "warnings": [],
        })
    );
}

#[tokio::test]
async fn with_the_scope_claim_permissions_come_from_scope() {
    let app = test_app_with(|config| config.claim_path = ClaimPath::Claim("scope".into())).await;
    let mut claims = claims(&["read:user-list"]);
    claims["scope"] = json!("openid read:project-list create:project");
    let token = sign(&claims);
    let response = app.get(CAPABILITIES, Some(&token)).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    assert_eq!(response.body["source"], "scope");
    // The parser keeps OIDC scopes as permissions this build does not know.
    assert_eq!(response.body["permissions"], json!(["create:project", "openid", "read:project-list"]));
    assert_eq!(response.body["warnings"], json!([]));

    // And the checks read the same claim: `read:user-list` is only in `permissions`.
    app.get("/api/v1/users", Some(&token)).await.assert_insufficient_scope("read:user-list");
    let created =
        app.json(Method::POST, "/api/v1/projects", Some(&token), &json!({"name": "x", "description": ""})).await;
    assert_eq!(created.status, StatusCode::CREATED);
}

#[tokio::test]
async fn parser_warnings_are_reported_as_strings() {
    let app = test_app().await;
    let mut claims = claims(&[]);
    claims.as_object_mut().unwrap().remove("permissions");
    let response = app.get(CAPABILITIES, Some(&sign(&claims))).await;
    assert_eq!(response.status, StatusCode::OK, "a token without permissions may still ask");
    assert_eq!(response.body["permissions"], json!([]));
    assert_eq!(response.body["warnings"], json!(["claim `permissions` is missing: no permissions"]));

    let mut claims = claims_as("dev-idp|3", &[]);
    claims["permissions"] = json!(["read:user-list", "read:user-list", 7]);
    let response = app.get(CAPABILITIES, Some(&sign(&claims))).await;
    assert_eq!(response.body["subject"], "dev-idp|3");
    assert_eq!(response.body["permissions"], json!(["read:user-list"]));
    let warnings = response.body["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings.iter().any(|w| w.as_str().unwrap().contains("not non-empty strings")), "{warnings:?}");
    assert!(warnings.iter().any(|w| w.as_str().unwrap().contains("duplicate")), "{warnings:?}");

    let mut claims = claims_as("x", &[]);
    claims["permissions"] = json!(42);
    claims.as_object_mut().unwrap().remove("sub");
    let response = app.get(CAPABILITIES, Some(&sign(&claims))).await;
    assert_eq!(response.body["subject"], serde_json::Value::Null);
    assert_eq!(
        response.body["warnings"],
        json!(["claim `permissions` is a number, not a list of permissions: no permissions"])
    );
}

#[tokio::test]
async fn capabilities_need_a_valid_token() {
    let app = test_app().await;
    let response = app.get(CAPABILITIES, None).await;
    response.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let mut claims = all_claims();
    claims["exp"] = json!(now() - 3600);
    app.get(CAPABILITIES, Some(&sign(&claims))).await.assert_invalid_token("expired");
}
