//! The write routes: creating and deleting projects, replacing a user's
//! roles. Each is refused without a token (`401`) and without its permission
//! (`403`, before any look at the input), and answers bad input with a JSON
//! `4xx`, never a `5xx`.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use store::PageRequest;

use crate::support::*;

const PROJECTS: &str = "/api/v1/projects";

fn roles_path(user_id: i64) -> String {
    format!("/api/v1/users/{user_id}/roles")
}

async fn user_id(app: &TestApp, username: &str) -> i64 {
    app.store.user_by_username(username).await.unwrap().unwrap().id
}

async fn project_count(app: &TestApp) -> u64 {
    app.store.list_projects(PageRequest { page: 1, per_page: 1 }).await.unwrap().total
}

/// The project with this id as `GET /api/v1/projects` lists it.
async fn listed_project(app: &TestApp, id: &Value) -> Option<Value> {
    let response = app.get("/api/v1/projects?per_page=100", Some(&sign(&all_claims()))).await;
    response.assert_ok_array().iter().find(|p| p["id"] == *id).cloned()
}

/// The user with this id as `GET /api/v1/users` lists them.
async fn listed_user(app: &TestApp, id: i64) -> Value {
    let response = app.get("/api/v1/users?per_page=100", Some(&sign(&all_claims()))).await;
    response.assert_ok_array().iter().find(|u| u["id"] == id).cloned().expect("listed")
}

// --- POST /api/v1/projects ---------------------------------------------------

#[tokio::test]
async fn a_project_is_created_with_201_and_a_location() {
    let app = test_app().await;
    let james = user_id(&app, "james").await;
    let token = sign(&claims_as(&format!("dev-idp|{james}"), PROJECT_MANAGER));
    let before = project_count(&app).await;

    let response = app
        .json(Method::POST, PROJECTS, Some(&token), &json!({"name": "  Orbit  ", "description": "To the moon"}))
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
    let id = response.body["id"].as_i64().expect("a numeric id");
    assert_eq!(response.header("location"), Some(format!("/api/v1/projects/{id}").as_str()));
    assert!(response.header("content-type").unwrap().starts_with("application/json"));
    assert_eq!(response.body["name"], "Orbit", "trimmed");
    assert_eq!(response.body["description"], "To the moon");
    assert_eq!(response.body["status"], "planned", "the default status");
    assert_eq!(response.body["owner"], "James Carter", "the caller, through the dev-idp subject");
    assert!(response.body["created_at"].is_string());

    assert_eq!(project_count(&app).await, before + 1);
    let listed = listed_project(&app, &response.body["id"]).await.expect("the new project is listed");
    assert_eq!(listed, response.body, "the same shape as the list items");
}

#[tokio::test]
async fn a_project_gets_the_status_asked_for_and_no_owner_for_other_providers() {
    let app = test_app().await;
    // `claims` has an Auth0 subject: no user of the store.
    let token = sign(&claims(PROJECT_MANAGER));
    let body = json!({"name": "Done deal", "description": "", "status": "done"});
    let response = app.json(Method::POST, PROJECTS, Some(&token), &body).await;
    assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
    assert_eq!(response.body["status"], "done");
    assert_eq!(response.body["owner"], Value::Null);

    // A dev-idp subject naming no user: no owner either, and no error.
    let token = sign(&claims_as("dev-idp|999999", PROJECT_MANAGER));
    let response = app.json(Method::POST, PROJECTS, Some(&token), &json!({"name": "X", "description": ""})).await;
    assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
    assert_eq!(response.body["owner"], Value::Null);

    for status in ["planned", "active", "on-hold", "done"] {
        let body = json!({"name": status, "description": "", "status": status});
        let response = app.json(Method::POST, PROJECTS, Some(&token), &body).await;
        assert_eq!(response.body["status"], status);
    }
}

#[tokio::test]
async fn creating_needs_a_token_and_create_project() {
    let app = test_app().await;
    let before = project_count(&app).await;
    let good = json!({"name": "Orbit", "description": ""});

    let response = app.json(Method::POST, PROJECTS, None, &good).await;
    response.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(response.header("www-authenticate"), Some(r#"Bearer realm="api""#));

    let viewer = sign(&claims(&["read:project-list", "delete:project"]));
    app.json(Method::POST, PROJECTS, Some(&viewer), &good).await.assert_insufficient_scope("create:project");
    assert_eq!(project_count(&app).await, before, "nothing was created");
}

#[tokio::test]
async fn a_forbidden_caller_learns_nothing_about_the_body() {
    let app = test_app().await;
    let viewer = sign(&claims(&["read:project-list"]));
    let invalid = json!({"name": "", "description": 7, "status": "nope", "extra": true});
    app.json(Method::POST, PROJECTS, Some(&viewer), &invalid).await.assert_insufficient_scope("create:project");
    let malformed = app.with_body(Method::POST, PROJECTS, Some(&viewer), Some("application/json"), "{oops").await;
    malformed.assert_insufficient_scope("create:project");
    let wrong_type = app.with_body(Method::POST, PROJECTS, Some(&viewer), Some("text/plain"), "name=x").await;
    wrong_type.assert_insufficient_scope("create:project");
    // And without a token, 401 comes first.
    let response = app.with_body(Method::POST, PROJECTS, None, Some("text/plain"), "{oops").await;
    response.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn invalid_projects_are_422_naming_the_field() {
    let app = test_app().await;
    let token = sign(&claims(PROJECT_MANAGER));
    let before = project_count(&app).await;
    let long_name = "n".repeat(81);
    let long_description = "d".repeat(501);
    for (body, field, reason) in [
        (json!({"name": "", "description": ""}), "name", "must not be empty"),
        (json!({"name": "   ", "description": ""}), "name", "must not be empty"),
        (json!({"name": long_name, "description": ""}), "name", "at most 80 characters"),
        (json!({"description": ""}), "name", "required"),
        (json!({"name": 42, "description": ""}), "name", "must be a string"),
        (json!({"name": "x"}), "description", "required"),
        (json!({"name": "x", "description": long_description}), "description", "at most 500 characters"),
        (json!({"name": "x", "description": "", "status": "archived"}), "status", "planned, active, on-hold, done"),
        (json!({"name": "x", "description": "", "status": "ACTIVE"}), "status", "planned, active, on-hold, done"),
        (json!({"name": "x", "description": "", "status": true}), "status", "planned, active, on-hold, done"),
        (json!({"name": "x", "description": "", "owner": "jhon"}), "owner", "unknown member"),
    ] {
        app.json(Method::POST, PROJECTS, Some(&token), &body).await.assert_invalid(field, reason);
    }
    // The limits themselves are accepted.
    let body = json!({"name": "n".repeat(80), "description": "d".repeat(500)});
    assert_eq!(app.json(Method::POST, PROJECTS, Some(&token), &body).await.status, StatusCode::CREATED);
    assert_eq!(project_count(&app).await, before + 1, "only the valid one was created");
}

#[tokio::test]
async fn bodies_that_are_not_json_objects_are_4xx_json() {
    let app = test_app().await;
    let token = sign(&claims(PROJECT_MANAGER));
    let json_type = Some("application/json");
    for (content_type, body, status, error) in [
        (json_type, "{oops", StatusCode::BAD_REQUEST, "invalid_request"),
        (json_type, "", StatusCode::BAD_REQUEST, "invalid_request"),
        (json_type, r#"{"name": "x", "description": ""} trailing"#, StatusCode::BAD_REQUEST, "invalid_request"),
        (json_type, "\u{feff}{}", StatusCode::BAD_REQUEST, "invalid_request"),
        (json_type, "[1, 2]", StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
        (json_type, "null", StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
        (json_type, r#""a string""#, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
        (
            Some("text/plain"),
            r#"{"name": "x", "description": ""}"#,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            Some("application/x-www-form-urlencoded"),
            "name=x",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (None, r#"{"name": "x", "description": ""}"#, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
    ] {
        let response = app.with_body(Method::POST, PROJECTS, Some(&token), content_type, body).await;
        response.assert_error(status, error);
    }
    // Deeply nested JSON is refused by the parser's depth limit, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    let response = app.with_body(Method::POST, PROJECTS, Some(&token), json_type, deep).await;
    response.assert_error(StatusCode::BAD_REQUEST, "invalid_request");
    // `application/*+json` and a charset are JSON too.
    let body = r#"{"name": "x", "description": ""}"#;
    for content_type in ["application/json; charset=utf-8", "application/merge-patch+json"] {
        let response = app.with_body(Method::POST, PROJECTS, Some(&token), Some(content_type), body).await;
        assert_eq!(response.status, StatusCode::CREATED, "{content_type}");
    }
}

#[tokio::test]
async fn an_oversized_body_without_a_declared_length_is_413() {
    let app = test_app().await;
    let token = sign(&claims(PROJECT_MANAGER));
    // Valid JSON, padded past the limit, with no Content-Length header (as a
    // chunked upload would come): only the limit on reading the body catches it.
    let body = format!(r#"{{"name": "x", "description": ""}}{}"#, " ".repeat(api::MAX_BODY_BYTES));
    let response = app.with_body(Method::POST, PROJECTS, Some(&token), Some("application/json"), body).await;
    response.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

// --- DELETE /api/v1/projects/{id} --------------------------------------------

#[tokio::test]
async fn a_project_is_deleted_with_204() {
    let app = test_app().await;
    let admin = sign(&claims(ADMIN));
    let created = app.json(Method::POST, PROJECTS, Some(&admin), &json!({"name": "Brief", "description": ""})).await;
    let location = created.header("location").unwrap().to_owned();
    let before = project_count(&app).await;

    let response = app.delete(&location, Some(&admin)).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT, "{:?}", response.body);
    assert!(response.raw.is_empty());
    assert_eq!(project_count(&app).await, before - 1);
    assert!(listed_project(&app, &created.body["id"]).await.is_none());

    // Again: it is gone.
    let again = app.delete(&location, Some(&admin)).await;
    again.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(again.body["error_description"].as_str().unwrap().contains("no project"));

    // A seeded project too.
    let seeded = app.store.list_projects(PageRequest { page: 1, per_page: 1 }).await.unwrap().items[0].id;
    assert_eq!(app.delete(&format!("{PROJECTS}/{seeded}"), Some(&admin)).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn deleting_needs_a_token_and_delete_project() {
    let app = test_app().await;
    let before = project_count(&app).await;
    let response = app.delete("/api/v1/projects/1", None).await;
    response.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");

    let manager = sign(&claims(PROJECT_MANAGER));
    app.delete("/api/v1/projects/1", Some(&manager)).await.assert_insufficient_scope("delete:project");
    // Nothing about the id leaks to a forbidden caller either.
    app.delete("/api/v1/projects/abc", Some(&manager)).await.assert_insufficient_scope("delete:project");
    app.delete("/api/v1/projects/999999", Some(&manager)).await.assert_insufficient_scope("delete:project");
    assert_eq!(project_count(&app).await, before, "nothing was deleted");
}

#[tokio::test]
async fn unknown_and_malformed_project_ids_are_404_json() {
    let app = test_app().await;
    let admin = sign(&claims(ADMIN));
    let before = project_count(&app).await;
    for id in [
        "999999",
        "0",
        "-1",
        "+1",
        "1.5",
        "1e3",
        "abc",
        "%20",
        "%FF%FE",
        "%E2%82%AC",
        "99999999999999999999999999",
        "9223372036854775808",
    ] {
        let response = app.delete(&format!("{PROJECTS}/{id}"), Some(&admin)).await;
        response.assert_error(StatusCode::NOT_FOUND, "not_found");
    }
    assert_eq!(project_count(&app).await, before);
}

// --- PUT /api/v1/users/{id}/roles ---------------------------------------------

#[tokio::test]
async fn roles_are_replaced_and_the_user_returned() {
    let app = test_app().await;
    let admin = sign(&claims(ADMIN));
    let bruno = user_id(&app, "bruno").await;
    let body = json!({"roles": ["viewer", "auditor", "project-manager", "auditor"]});
    let response = app.json(Method::PUT, &roles_path(bruno), Some(&admin), &body).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    assert_eq!(response.body["username"], "bruno");
    assert_eq!(response.body["roles"], json!(["auditor", "project-manager", "viewer"]), "sorted, once each");
    assert_eq!(response.body, listed_user(&app, bruno).await, "the same shape as the User List items");
    assert_eq!(
        app.store.user_permissions(bruno).await.unwrap(),
        ["create:project", "read:project-list", "read:user-list"]
    );

    let response = app.json(Method::PUT, &roles_path(bruno), Some(&admin), &json!({"roles": []})).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body["roles"], json!([]));
    assert!(app.store.user_roles(bruno).await.unwrap().is_empty());
}

#[tokio::test]
async fn changing_roles_needs_a_token_and_update_user_roles() {
    let app = test_app().await;
    let jhon = user_id(&app, "jhon").await;
    let body = json!({"roles": ["viewer"]});
    let response = app.json(Method::PUT, &roles_path(jhon), None, &body).await;
    response.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");

    let manager = sign(&claims(PROJECT_MANAGER));
    app.json(Method::PUT, "/api/v1/users/1/roles", Some(&manager), &body)
        .await
        .assert_insufficient_scope("update:user-roles");
    // Forbidden first, whatever the body or the id.
    let invalid = json!({"roles": ["no-such-role", 7]});
    app.json(Method::PUT, &roles_path(jhon), Some(&manager), &invalid)
        .await
        .assert_insufficient_scope("update:user-roles");
    app.with_body(Method::PUT, "/api/v1/users/abc/roles", Some(&manager), Some("text/plain"), "{")
        .await
        .assert_insufficient_scope("update:user-roles");
    // Reading users is not enough.
    let auditor = sign(&claims(&["read:project-list", "read:user-list"]));
    app.json(Method::PUT, &roles_path(jhon), Some(&auditor), &body)
        .await
        .assert_insufficient_scope("update:user-roles");
    assert_eq!(app.store.user_roles(jhon).await.unwrap(), ["admin"], "unchanged");
}

#[tokio::test]
async fn an_unknown_role_is_422_and_changes_nothing() {
    let app = test_app().await;
    let admin = sign(&claims(ADMIN));
    let emeka = user_id(&app, "emeka").await;
    let before = app.store.user_roles(emeka).await.unwrap();
    let body = json!({"roles": ["viewer", "superuser"]});
    let response = app.json(Method::PUT, &roles_path(emeka), Some(&admin), &body).await;
    response.assert_invalid("roles", "no role named `superuser`");
    assert!(response.body["error_description"].as_str().unwrap().contains("admin, auditor, project-manager, viewer"));
    assert_eq!(app.store.user_roles(emeka).await.unwrap(), before);
}

#[tokio::test]
async fn bad_role_bodies_and_users_are_4xx_json() {
    let app = test_app().await;
    let admin = sign(&claims(ADMIN));
    let bruno = roles_path(user_id(&app, "bruno").await);
    for (body, reason) in [
        (json!({}), "required"),
        (json!({"roles": "admin"}), "array"),
        (json!({"roles": [["admin"]]}), "roles[0]"),
        (json!({"roles": ["admin", ""]}), "roles[1]"),
        (json!({"roles": ["admin viewer"]}), "roles[0]"),
        (json!({"roles": ["r".repeat(65)]}), "roles[0]"),
        (json!({"roles": vec!["viewer"; 33]}), "at most 32"),
    ] {
        app.json(Method::PUT, &bruno, Some(&admin), &body).await.assert_invalid("roles", reason);
    }
    let response = app.json(Method::PUT, &bruno, Some(&admin), &json!({"roles": [], "user": "jhon"})).await;
    response.assert_invalid("user", "unknown member");
    let response = app.with_body(Method::PUT, &bruno, Some(&admin), Some("application/json"), r#"{"roles": ["#).await;
    response.assert_error(StatusCode::BAD_REQUEST, "invalid_request");
    let response = app.with_body(Method::PUT, &bruno, Some(&admin), None, r#"{"roles": []}"#).await;
    response.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");

    let body = json!({"roles": ["viewer"]});
    for path in
        ["/api/v1/users/999999/roles", "/api/v1/users/abc/roles", "/api/v1/users/-1/roles", "/api/v1/users/%FF/roles"]
    {
        let response = app.json(Method::PUT, path, Some(&admin), &body).await;
        response.assert_error(StatusCode::NOT_FOUND, "not_found");
    }
}

#[tokio::test]
async fn the_last_admin_cannot_lose_the_role() {
    let app = test_app().await;
    let admin = sign(&claims(ADMIN));
    let jhon = user_id(&app, "jhon").await;
    let fatima = user_id(&app, "fatima").await;
    // Two admins: one may step down.
    let response = app.json(Method::PUT, &roles_path(fatima), Some(&admin), &json!({"roles": ["viewer"]})).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);

    // Now jhon is the only one.
    let response = app.json(Method::PUT, &roles_path(jhon), Some(&admin), &json!({"roles": ["viewer"]})).await;
    response.assert_error(StatusCode::CONFLICT, "conflict");
    assert!(response.body["error_description"].as_str().unwrap().contains("last one with the `admin` role"));
    assert_eq!(app.store.user_roles(jhon).await.unwrap(), ["admin"], "unchanged");

    // Keeping admin while adding a role is fine.
    let response = app.json(Method::PUT, &roles_path(jhon), Some(&admin), &json!({"roles": ["viewer", "admin"]})).await;
    assert_eq!(response.body["roles"], json!(["admin", "viewer"]));
}

// --- method and route plumbing ----------------------------------------------

#[tokio::test]
async fn other_methods_on_the_new_paths_are_405_json() {
    let app = test_app().await;
    let admin = sign(&claims(ADMIN));
    for (method, path) in [
        (Method::GET, "/api/v1/projects/1"),
        (Method::PUT, "/api/v1/projects/1"),
        (Method::PATCH, "/api/v1/projects"),
        (Method::GET, "/api/v1/users/1/roles"),
        (Method::POST, "/api/v1/users/1/roles"),
        (Method::DELETE, "/api/v1/me/capabilities"),
    ] {
        let response = app.json(method.clone(), path, Some(&admin), &json!({})).await;
        assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(response.body["error"], "method_not_allowed");
    }
}
