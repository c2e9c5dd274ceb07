//! `GET /api/v1/roles`, and who owns users' roles (`--roles-managed-by`).

use api::auth::{KeyStore, Verifier};
use axum::http::{Method, StatusCode};
use contract::wire::RolesManagedBy;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn the_roles_are_listed_for_those_who_see_the_user_list() {
    let app = test_app().await;
    let response = app.get("/api/v1/roles", Some(&sign(&claims(&["read:user-list"])))).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body["editable"], json!(true));
    assert_eq!(response.body["managed_by"], json!("api"));
    let names: Vec<&str> =
        response.body["roles"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin", "auditor", "project-manager", "viewer"]);

    let refused = app.get("/api/v1/roles", Some(&sign(&claims(&["read:project-list", "create:project"])))).await;
    refused.assert_insufficient_scope("read:user-list");
    assert_eq!(app.get("/api/v1/roles", None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn with_an_external_provider_role_edits_are_refused_and_say_why() {
    let verifier = Verifier::new(default_config(), KeyStore::fixed(default_keys()));
    let app = app_with_state(verifier, |s| s.with_roles_managed_by(RolesManagedBy::Provider)).await;
    let admin = sign(&claims(ADMIN));

    let listed = app.get("/api/v1/roles", Some(&admin)).await;
    assert_eq!(listed.body["editable"], json!(false));
    assert_eq!(listed.body["managed_by"], json!("provider"));
    assert!(listed.body["reason"].as_str().unwrap().contains("identity provider"));

    let james = app.store.user_by_username("james").await.unwrap().unwrap();
    let put = app
        .json(Method::PUT, &format!("/api/v1/users/{}/roles", james.id), Some(&admin), &json!({"roles": ["admin"]}))
        .await;
    put.assert_error(StatusCode::CONFLICT, "conflict");
    assert_eq!(app.store.user_roles(james.id).await.unwrap(), ["project-manager"]);
}
