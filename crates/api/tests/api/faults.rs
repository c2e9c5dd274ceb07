//! Faults the API meets at run time, and what it answers (issue 9, "Faults"): a database another process holds
//! locked for a moment (the write waits on SQLite's busy timeout and lands once, nothing lost or doubled), a
//! broken one (503, no internals), its file deleted or replaced under the running API (writes refused with 503
//! rather than acknowledged into a file no path names), and an issuer that goes down while the API runs (the
//! keys in hand keep working; new `kid`s fail cleanly and the API recovers by itself when the issuer is back).
//! The issuer down at start-up (503 with `Retry-After`, then recovery) is
//! `discovery::an_issuer_not_up_yet_gives_503_then_works`; one that accepts connections and never answers is
//! `discovery::an_issuer_that_accepts_and_never_answers_*` and `discovery::a_refetch_from_an_issuer_gone_silent_*`;
//! a database file missing or read-only, against the binary, is `database_files`.

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

/// The file at the path is no longer the one the API opened: deleted (SQLite would go on writing to the unlinked
/// file, and the next start would find none of it) or replaced, as a restore from a backup does. Writes are
/// refused with the plain 503 instead of acknowledged, the file now at the path is not touched, and `/healthz`
/// reports it.
#[tokio::test]
async fn a_database_file_replaced_under_the_running_api_refuses_writes_rather_than_lose_them() {
    let app = test_app().await;
    let token = sign(&claims(ADMIN));
    let body = json!({"name": "Before the restore", "description": ""});
    assert_eq!(app.json(Method::POST, PROJECTS, Some(&token), &body).await.status, StatusCode::CREATED);
    let backup = app.db_path.with_file_name("backup.db");
    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", app.db_path.display())).await.unwrap();
    sqlx::query("VACUUM INTO ?").bind(backup.display().to_string()).execute(&mut other).await.unwrap();
    other.close().await.unwrap();
    let in_backup = project_count(&app).await;

    // The operator restores the backup over the live file.
    std::fs::rename(&backup, &app.db_path).unwrap();
    for (method, path, body) in [
        (Method::POST, PROJECTS.to_owned(), json!({"name": "Into the old file", "description": ""})),
        (Method::PUT, "/api/v1/users/2/roles".to_owned(), json!({"roles": ["viewer"]})),
    ] {
        let response = app.json(method, &path, Some(&token), &body).await;
        response.assert_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
        assert_eq!(response.body["error_description"], "the database is unavailable; try again later");
        assert!(!String::from_utf8_lossy(&response.raw).contains("app.db"), "no path leaked");
    }
    let response = app.delete(&format!("{PROJECTS}/1"), Some(&token)).await;
    response.assert_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::SERVICE_UNAVAILABLE);

    let restored = store::Store::open(&app.db_path).await.unwrap();
    let total = restored.list_projects(PageRequest { page: 1, per_page: 1 }).await.unwrap().total;
    assert_eq!(total, in_backup, "the restored file is as it was restored");
    drop(restored);

    // Deleted outright: the same.
    std::fs::remove_file(&app.db_path).unwrap();
    let response = app.json(Method::POST, PROJECTS, Some(&token), &body).await;
    response.assert_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    assert!(!app.db_path.exists(), "and nothing is created in its place");
}
