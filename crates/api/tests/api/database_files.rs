//! The database file missing or read-only, against the real binary (issue 9, "Faults"): a `--database` whose
//! directory cannot be made, or that cannot be opened, stops the API at start-up with a message naming the file
//! and a plain exit code (no panic); a read-only file is served for reads, writes are refused with the usual
//! `503` and nothing is half-written, and the same process writes again once the file is writable.
//!
//! What is not here, and why: a file that becomes read-only *under* a running API is only what the kernel makes
//! of it. A `chmod` does not revoke an open descriptor, so the connections the API holds keep writing (nothing is
//! lost), and only connections opened afterwards are read-only, which is the case tested here (the whole process
//! starts on a read-only file). A filesystem remounted read-only (`EROFS` on the open descriptors) needs
//! `CAP_SYS_ADMIN` to stage, which CI does not grant; SQLite reports it as an I/O error, which the API answers
//! with the same `503` (`faults::a_database_error_is_a_503_with_a_clear_body_and_no_internals` shows that path).
//! The file deleted or replaced while the API runs is `faults::a_database_file_replaced_under_the_running_api_*`.

use std::time::Duration;

use axum::http::StatusCode;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::discovery::start_issuer;
use crate::process::{ApiProcess, api_command, running_as_root, set_mode, shared_tempdir};
use crate::support::*;

const PROJECTS: &str = "/api/v1/projects";

/// Runs the binary to its end, expecting it to refuse to start; its exit code and its stderr.
async fn refused_start(database: &std::path::Path) -> (Option<i32>, String) {
    let mut command = api_command();
    command.args(["--issuer", "http://127.0.0.1:1", "--listen", "127.0.0.1:0", "--database"]).arg(database);
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("it stops by itself")
        .expect("the api binary can be started");
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[tokio::test]
async fn a_database_that_cannot_be_created_stops_the_api_with_a_clear_message() {
    let dir = shared_tempdir();
    // Its directory cannot be made: a file stands where a directory should (refused even to root).
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "not a directory").unwrap();
    // Its directory is not writable (to the unprivileged user the binary runs as).
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    set_mode(&locked, 0o555);
    let cases = [
        (blocker.join("data").join("app.db"), "cannot create the directory"),
        (locked.join("app.db"), "writable by this process"),
        // The path names a directory.
        (locked.clone(), "the path must name a file"),
    ];
    for (database, expected) in cases {
        let (code, stderr) = refused_start(&database).await;
        assert_eq!(code, Some(1), "{}: {stderr}", database.display());
        assert!(stderr.contains(expected), "{}: {stderr}", database.display());
        let shown = database.parent().filter(|_| expected.contains("create the directory")).unwrap_or(&database);
        assert!(stderr.contains(&shown.display().to_string()), "the path is named: {stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "a panic: {stderr}");
    }
    assert!(!locked.join("app.db").exists());
}

/// Sets the mode of the database file and of its `-wal` and `-shm` files, those that exist.
fn set_modes(database: &std::path::Path, mode: u32) {
    for suffix in ["", "-wal", "-shm"] {
        let path = std::path::PathBuf::from(format!("{}{suffix}", database.display()));
        if path.exists() {
            set_mode(&path, mode);
        }
    }
}

/// The API at `api` with a bearer token.
async fn call(api: &ApiProcess, method: reqwest::Method, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", api.base)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn project_names(api: &ApiProcess, token: &str) -> Vec<String> {
    let (status, body) = call(api, reqwest::Method::GET, &format!("{PROJECTS}?per_page=100"), token, None).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap().iter().map(|project| project["name"].as_str().unwrap().to_owned()).collect()
}

async fn create(api: &ApiProcess, token: &str, name: &str) -> (u16, Value) {
    call(api, reqwest::Method::POST, PROJECTS, token, Some(json!({"name": name, "description": ""}))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_serves_reads_refuses_writes_with_503_and_writes_again_once_writable() {
    let issuer = start_issuer(&[rsa_1()]).await;
    let mut claims = claims(ADMIN);
    claims["iss"] = json!(issuer.issuer);
    let token = sign_with(rsa_1(), Algorithm::RS256, &claims);
    let dir = shared_tempdir();
    let database = dir.path().join("app.db");

    // A writable file, with one project of ours.
    let api = ApiProcess::start(&issuer.issuer, &database).await;
    let (status, before) = create(&api, &token, "Before").await;
    assert_eq!(status, 201, "{before}");
    api.kill().await;

    // The same file, read-only to the process that opens it (with its WAL and shared-memory files, which SQLite
    // creates with the file's mode: an operator's `chmod a-w app.db*`).
    set_modes(&database, 0o444);
    let api = ApiProcess::start(&issuer.issuer, &database).await;
    assert!(api.logged("is read-only"), "it says so at start-up: {:#?}", api.log());
    let names = project_names(&api, &token).await;
    assert!(names.contains(&"Before".to_owned()), "reads are served: {names:?}");

    let (status, refused) = create(&api, &token, "Refused").await;
    assert_eq!(status, 503, "{refused}");
    assert_eq!(refused["error"], "service_unavailable");
    assert_eq!(refused["error_description"], "the database is unavailable; try again later");
    let text = refused.to_string().to_lowercase();
    assert!(!text.contains("readonly") && !text.contains("read-only") && !text.contains("sqlite"), "{text}");
    let path = format!("{PROJECTS}/{}", before["id"]);
    let (status, _) = call(&api, reqwest::Method::DELETE, &path, &token, None).await;
    assert_eq!(status, 503, "a delete is refused too");
    let (status, _) =
        call(&api, reqwest::Method::PUT, "/api/v1/users/1/roles", &token, Some(json!({"roles": []}))).await;
    assert_eq!(status, 503, "and a role change");
    assert_eq!(project_names(&api, &token).await, names, "nothing was half-written");
    // A read on the writer's pool while the file is read-only opens a read-only connection there.
    assert_eq!(reqwest::get(format!("{}/healthz", api.base)).await.unwrap().status(), StatusCode::OK);

    // Writable again: the same process writes, at the first attempt.
    set_modes(&database, 0o644);
    let (status, after) = create(&api, &token, "After").await;
    assert_eq!(status, 201, "{after}: {:#?}", api.log());
    let (status, _) = call(&api, reqwest::Method::DELETE, &path, &token, None).await;
    assert_eq!(status, 204);
    api.kill().await;

    // Nothing lost, nothing refused slipped in: a new process reads exactly what was acknowledged.
    let api = ApiProcess::start(&issuer.issuer, &database).await;
    let names = project_names(&api, &token).await;
    assert!(names.contains(&"After".to_owned()), "{names:?}");
    assert!(!names.contains(&"Before".to_owned()) && !names.contains(&"Refused".to_owned()), "{names:?}");
    api.kill().await;
    if running_as_root() {
        // The files were the unprivileged user's: file modes really applied.
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::metadata(&database).unwrap().uid(), 65534);
    }
}
