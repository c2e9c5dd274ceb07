//! `dev-idp rotate-key` against a provider that keeps running: the new key
//! is picked up without a restart, new tokens carry its kid, and tokens
//! signed before still verify against the JWKS until they expire.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::StatusCode;
use permissions::names::{API_AUDIENCE, CLIENT_ID};
use support::*;

/// Runs the real binary, as an end-to-end harness would; returns its stdout.
async fn rotate_key(data_dir: &std::path::Path) -> String {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_dev-idp"))
        .arg("rotate-key")
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("DEV_IDP_DATA_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("dev-idp runs");
    assert!(output.status.success(), "rotate-key failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8 stdout")
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).expect("a JWT").kid.expect("a kid")
}

#[tokio::test]
async fn a_running_provider_picks_up_a_rotated_key_and_keeps_the_old_one_published() {
    let idp = Idp::on_data_dir().await;
    let mut browser = Browser::default();
    let before = idp.offline_tokens_for("jhon", &mut browser).await;
    let old_kid = kid_of(before["id_token"].as_str().unwrap());
    assert_eq!(published_kids(&idp).await, vec![old_kid.clone()]);

    let stdout = rotate_key(&idp.data_dir()).await;
    let new_kid = stdout.trim().to_owned();
    assert_eq!(stdout, format!("{new_kid}\n"), "stdout is the kid alone");
    assert_ne!(new_kid, old_kid);
    assert_eq!(new_kid.len(), 43, "an RFC 7638 thumbprint");

    // No restart, no waiting: the next request uses the new key.
    let after = idp.refresh(before["refresh_token"].as_str().unwrap()).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.text);
    let after = after.json();
    for token in ["id_token", "access_token"] {
        assert_eq!(kid_of(after[token].as_str().unwrap()), new_kid, "{token}");
    }
    let code = idp.get(&AuthRequest::default().url(), &mut browser).await.code();
    let fresh = idp.exchange(&code).await.json();
    assert_eq!(kid_of(fresh["access_token"].as_str().unwrap()), new_kid);
    assert_eq!(idp.get("/healthz", &mut Browser::default()).await.json()["kid"], new_kid.as_str());

    // Both generations verify against the JWKS served now, new key first.
    assert_eq!(published_kids(&idp).await, [new_kid.clone(), old_kid.clone()]);
    for (body, generation) in [(&before, "before"), (&after, "after")] {
        verify_with_jwks(&idp, body["id_token"].as_str().unwrap(), CLIENT_ID).await.expect(generation);
        verify_with_jwks(&idp, body["access_token"].as_str().unwrap(), API_AUDIENCE).await.expect(generation);
    }

    // Once every token the old key signed has expired (lifetime plus the
    // margin), it is no longer published; the active key always is.
    let retention = idp.state.settings().key_retention().as_secs() as i64;
    idp.state.clock().advance(retention - 60);
    assert_eq!(published_kids(&idp).await, [new_kid.clone(), old_kid.clone()]);
    idp.state.clock().advance(120);
    assert_eq!(published_kids(&idp).await, vec![new_kid.clone()]);

    // A logout hint signed by the retired key is still recognised.
    let hint = before["id_token"].as_str().unwrap();
    let reply = idp.get(&format!("/v2/logout?{}", encode(&[("id_token_hint", hint)])), &mut browser).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(reply.text.contains("data-testid=\"signed-out\""), "signed out without asking: {}", reply.text);
}

#[tokio::test]
async fn rotate_key_on_an_empty_directory_makes_the_first_key() {
    let dir = tempfile::tempdir().unwrap();
    let kid = rotate_key(dir.path()).await.trim().to_owned();
    let keys = dev_idp::signing_keys::KeySet::load(dir.path()).expect("a key");
    assert_eq!(keys.active().kid(), kid);
    assert_eq!(keys.len(), 1);
}
