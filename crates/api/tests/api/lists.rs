//! The lists, pagination headers, health check, and the JSON answers for
//! everything else.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use sqlx::Connection;
use store::PageRequest;

use crate::support::*;

/// `rel` → target of a `Link` header.
fn parse_links(value: &str) -> HashMap<String, String> {
    value
        .split(", ")
        .map(|link| {
            let (target, rel) = link.split_once("; ").unwrap();
            let target = target.strip_prefix('<').unwrap().strip_suffix('>').unwrap();
            let rel = rel.strip_prefix("rel=\"").unwrap().strip_suffix('"').unwrap();
            (rel.to_owned(), target.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn projects_page_two_has_all_four_links() {
    let app = test_app().await;
    let total = app.store.list_projects(PageRequest { page: 1, per_page: 1 }).await.unwrap().total;
    assert!(total > 15, "the seed has enough projects for three pages of 5");
    let last = total.div_ceil(5);

    let response = app.get("/api/v1/projects?page=2&per_page=5", Some(&sign(&all_claims()))).await;
    let items = response.assert_ok_array();
    assert_eq!(items.len(), 5);
    let expected = app.store.list_projects(PageRequest { page: 2, per_page: 5 }).await.unwrap();
    assert_eq!(items[0]["id"], expected.items[0].id);
    assert_eq!(items[0]["name"], expected.items[0].name.as_str());
    assert_eq!(response.total_count(), total);
    assert!(response.header("content-type").unwrap().starts_with("application/json"));

    let links = parse_links(response.header("link").unwrap());
    assert_eq!(links.len(), 4, "{links:?}");
    assert_eq!(links["first"], "/api/v1/projects?page=1&per_page=5");
    assert_eq!(links["prev"], "/api/v1/projects?page=1&per_page=5");
    assert_eq!(links["next"], "/api/v1/projects?page=3&per_page=5");
    assert_eq!(links["last"], format!("/api/v1/projects?page={last}&per_page=5"));
}

#[tokio::test]
async fn users_are_listed_with_their_roles() {
    let app = test_app().await;
    let response = app.get("/api/v1/users?per_page=100", Some(&sign(&all_claims()))).await;
    let users = response.assert_ok_array();
    assert_eq!(users.len() as u64, response.total_count());
    let jhon = users.iter().find(|u| u["username"] == "jhon").expect("the seeded admin");
    assert_eq!(jhon["roles"], serde_json::json!(["admin"]));
    assert!(response.header("link").is_none(), "one page only: nowhere to go");

    let response = app.get("/api/v1/users?page=2&per_page=5", Some(&sign(&all_claims()))).await;
    assert_eq!(response.assert_ok_array().len(), 5);
    let links = parse_links(response.header("link").unwrap());
    assert_eq!(links["prev"], "/api/v1/users?page=1&per_page=5");
    assert_eq!(links["next"], "/api/v1/users?page=3&per_page=5");
}

#[tokio::test]
async fn the_default_page_is_the_first_twenty() {
    let app = test_app().await;
    let response = app.get("/api/v1/projects", Some(&sign(&all_claims()))).await;
    let items = response.assert_ok_array();
    assert_eq!(items.len() as u64, response.total_count().min(u64::from(contract::api::DEFAULT_PER_PAGE)));
    let links = parse_links(response.header("link").unwrap());
    assert_eq!(links.keys().count(), 2, "only next and last on the first page: {links:?}");
    assert_eq!(links["next"], "/api/v1/projects?page=2&per_page=20");
}

#[tokio::test]
async fn the_last_page_and_beyond() {
    let app = test_app().await;
    let token = sign(&all_claims());
    let total = app.store.list_projects(PageRequest { page: 1, per_page: 1 }).await.unwrap().total;
    let last = total.div_ceil(10);
    let response = app.get(&format!("/api/v1/projects?page={last}&per_page=10"), Some(&token)).await;
    assert!(!response.assert_ok_array().is_empty());
    let links = parse_links(response.header("link").unwrap());
    assert!(!links.contains_key("next") && !links.contains_key("last"), "{links:?}");

    let response = app.get("/api/v1/projects?page=4000000000&per_page=10", Some(&token)).await;
    assert!(response.assert_ok_array().is_empty());
    assert_eq!(response.total_count(), total);
    let links = parse_links(response.header("link").unwrap());
    assert_eq!(links["prev"], format!("/api/v1/projects?page={last}&per_page=10"));
}

#[tokio::test]
async fn bad_pagination_is_400() {
    let app = test_app().await;
    let token = sign(&all_claims());
    for query in [
        "page=0",
        "page=-1",
        "page=abc",
        "page=1.5",
        "page=",
        "page=99999999999999999999",
        "per_page=0",
        "per_page=101",
        "per_page=ten",
        "page=1&page=2",
        "page=%00",
        "page=%E2%82%AC",
    ] {
        for path in ["/api/v1/projects", "/api/v1/users"] {
            let response = app.get(&format!("{path}?{query}"), Some(&token)).await;
            assert_eq!(response.status, StatusCode::BAD_REQUEST, "{path}?{query}");
            assert_eq!(response.body["error"], "invalid_request");
            assert!(response.body["error_description"].as_str().unwrap().contains("page"));
        }
    }
}

#[tokio::test]
async fn authentication_and_permission_come_before_the_query() {
    let app = test_app().await;
    let response = app.get("/api/v1/users?per_page=1000", None).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    let response = app.get("/api/v1/users?per_page=1000", Some(&sign(&claims(&["read:project-list"])))).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn healthz_needs_no_token() {
    let app = test_app().await;
    let response = app.get("/healthz", None).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, serde_json::json!({"status": "ok"}));
}

#[tokio::test]
async fn a_database_failure_is_503_with_a_json_body() {
    let app = test_app().await;
    // Another connection renames the table from under the store, as a
    // broken migration or a damaged file would.
    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", app.db_path.display())).await.unwrap();
    sqlx::query("ALTER TABLE projects RENAME TO projects_gone").execute(&mut other).await.unwrap();
    let response = app.get("/api/v1/projects", Some(&sign(&all_claims()))).await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.body["error"], "service_unavailable");
    let description = response.body["error_description"].as_str().unwrap();
    assert!(!description.contains("projects") && !description.contains("table"), "no internals: {description}");
    // The health check still answers: the database itself is up.
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json() {
    let app = test_app().await;
    for path in ["/", "/api", "/api/v1/projects/", "/api/v1/users/1", "/%FF%FE", "/api/v1/users/../users"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.body["error"], "not_found");
    }
    let request = Request::builder().method(Method::DELETE).uri("/api/v1/projects").body(Body::empty()).unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.body["error"], "method_not_allowed");
    // A project's path exists (for DELETE): GET on it is 405, not 404.
    let response = app.get("/api/v1/projects/1", None).await;
    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.body["error"], "method_not_allowed");
}

#[tokio::test]
async fn large_bodies_are_refused() {
    let app = test_app().await;
    let request = Request::post("/api/v1/projects")
        .header(header::CONTENT_LENGTH, api::MAX_BODY_BYTES + 1)
        .body(Body::from(vec![b'x'; api::MAX_BODY_BYTES + 1]))
        .unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.body["error"], "payload_too_large");
}

#[tokio::test]
async fn responses_are_not_cacheable() {
    let app = test_app().await;
    let response = app.get("/api/v1/projects", Some(&sign(&all_claims()))).await;
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    let response = app.get("/api/v1/projects", None).await;
    assert_eq!(response.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn cors_is_off_by_default_and_exposes_the_pagination_headers_when_on() {
    let app = test_app().await;
    let request = Request::get("/api/v1/projects")
        .header(header::ORIGIN, "http://spa.example")
        .header(header::AUTHORIZATION, format!("Bearer {}", sign(&all_claims())))
        .body(Body::empty())
        .unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.header("access-control-allow-origin").is_none());

    let (_dir, store) = fresh_store().await;
    let verifier = api::auth::Verifier::new(default_config(), api::auth::KeyStore::fixed(default_keys()));
    let state = api::AppState::new(store, std::sync::Arc::new(verifier))
        .with_cors_origins([HeaderValue::from_static("http://spa.example")]);
    let router = api::app(state);
    let request = Request::get("/api/v1/projects")
        .header(header::ORIGIN, "http://spa.example")
        .header(header::AUTHORIZATION, format!("Bearer {}", sign(&all_claims())))
        .body(Body::empty())
        .unwrap();
    let response = send(&router, request).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("access-control-allow-origin"), Some("http://spa.example"));
    let exposed = response.header("access-control-expose-headers").unwrap().to_ascii_lowercase();
    assert!(exposed.contains("link") && exposed.contains("x-total-count"), "{exposed}");
    assert!(exposed.contains("location"), "{exposed}");

    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/v1/projects")
        .header(header::ORIGIN, "http://spa.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
        .body(Body::empty())
        .unwrap();
    let response = send(&router, preflight).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("access-control-allow-origin"), Some("http://spa.example"));

    // The write routes' preflight: their methods and a JSON body.
    for method in ["POST", "PUT", "DELETE"] {
        let preflight = Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/v1/users/1/roles")
            .header(header::ORIGIN, "http://spa.example")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, method)
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization,content-type")
            .body(Body::empty())
            .unwrap();
        let response = send(&router, preflight).await;
        assert_eq!(response.status, StatusCode::OK, "{method}");
        let methods = response.header("access-control-allow-methods").unwrap();
        assert!(methods.contains(method), "{method}: {methods}");
        let headers = response.header("access-control-allow-headers").unwrap().to_ascii_lowercase();
        assert!(headers.contains("content-type") && headers.contains("authorization"), "{headers}");
    }

    let other_origin =
        Request::get("/healthz").header(header::ORIGIN, "http://evil.example").body(Body::empty()).unwrap();
    let response = send(&router, other_origin).await;
    assert!(response.header("access-control-allow-origin").is_none());
}
