//! Refresh tokens through the router: issuance with `offline_access`,
//! rotation, reuse detection and its interval, lifetimes, revocation (RFC
//! 7009), and the refusals.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use permissions::names::{ACCESS_TOKEN_PERMISSIONS_CLAIM, API_AUDIENCE, CLIENT_ID, PERMISSIONS_CLAIM, ROLES_CLAIM};
use serde_json::{Value, json};
use store::RefreshToken;
use support::*;

/// The refresh token of a token response.
fn refresh_token(body: &Value) -> String {
    body["refresh_token"].as_str().unwrap_or_else(|| panic!("no refresh_token in {body}")).to_owned()
}

/// The verified claims of a response's ID token.
async fn id_claims(idp: &Idp, body: &Value) -> Value {
    verify_with_jwks(idp, body["id_token"].as_str().expect("id_token"), CLIENT_ID).await.expect("a valid ID token").1
}

/// A successful refresh's body.
async fn refreshed(idp: &Idp, token: &str) -> Value {
    let reply = idp.refresh(token).await;
    assert_eq!(reply.status, StatusCode::OK, "refresh: {}", reply.text);
    reply.json()
}

#[tokio::test]
async fn offline_access_earns_a_refresh_token_that_rotates_into_fresh_tokens() {
    let idp = Idp::new().await;
    let first = idp.offline_tokens_for("jhon", &mut Browser::default()).await;
    let first_refresh = refresh_token(&first);
    assert_eq!(first_refresh.len(), 43, "32 random bytes in base64url");
    assert!(first["scope"].as_str().unwrap().starts_with("openid profile email offline_access "), "{first}");
    let signed_in = id_claims(&idp, &first).await;

    idp.state.clock().advance(120);
    let reply = idp.refresh(&first_refresh).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("access-control-allow-origin"), Some(SPA_ORIGIN));
    let second = reply.json();
    let second_refresh = refresh_token(&second);
    assert_ne!(second_refresh, first_refresh, "rotated");
    assert_eq!(second["token_type"], "Bearer");
    assert_eq!(second["expires_in"], 3600);
    assert_eq!(second["scope"], first["scope"]);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_ne!(second["id_token"], first["id_token"]);

    // OpenID Connect Core §12.2.
    let id = id_claims(&idp, &second).await;
    for claim in ["iss", "sub", "aud", "auth_time", "preferred_username", "email", PERMISSIONS_CLAIM, ROLES_CLAIM] {
        assert_eq!(id[claim], signed_in[claim], "{claim}");
    }
    assert!(signed_in.get("nonce").is_some());
    assert!(id.get("nonce").is_none(), "no nonce on refresh: {id}");
    let iat = id["iat"].as_i64().unwrap();
    assert!(iat >= signed_in["iat"].as_i64().unwrap() + 120, "fresh: {id}");
    assert_eq!(id["exp"].as_i64().unwrap(), iat + 3600);
    let (header, access) =
        verify_with_jwks(&idp, second["access_token"].as_str().unwrap(), API_AUDIENCE).await.unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(access["sub"], signed_in["sub"]);
    assert_eq!(access["auth_time"], signed_in["auth_time"]);
    assert!(access["iat"].as_i64().unwrap() >= iat);

    // The new token works; the old one is refused.
    let third = refreshed(&idp, &second_refresh).await;
    assert_ne!(refresh_token(&third), second_refresh);
    idp.refresh(&first_refresh).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn presenting_a_rotated_token_revokes_the_whole_family() {
    let idp = Idp::new().await;
    let first = refresh_token(&idp.offline_tokens_for("jhon", &mut Browser::default()).await);
    let second = refresh_token(&refreshed(&idp, &first).await);

    // The old token again (a thief, or a confused client): refused...
    let reply = idp.refresh(&first).await;
    reply.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    assert!(reply.json()["error_description"].as_str().unwrap().contains("revoked"), "{}", reply.text);
    // ...and the newest token of the family is dead too.
    idp.refresh(&second).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");

    // Another sign-in's family is unaffected.
    let other = refresh_token(&idp.offline_tokens_for("jhon", &mut Browser::default()).await);
    refreshed(&idp, &other).await;
}

#[tokio::test]
async fn two_concurrent_uses_of_one_token_cannot_both_succeed() {
    let idp = Idp::new().await;
    let token = refresh_token(&idp.offline_tokens_for("james", &mut Browser::default()).await);
    let (a, b) = tokio::join!(idp.refresh(&token), idp.refresh(&token));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::BAD_REQUEST], "{} / {}", a.text, b.text);
    // The loser was reuse: the winner's new token is revoked with its family.
    let winner = if a.status == StatusCode::OK { a } else { b };
    idp.refresh(&refresh_token(&winner.json())).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn within_the_reuse_interval_a_rotated_token_is_answered_again_without_revoking() {
    let idp = Idp::with_settings(|s| s.refresh_reuse_interval = std::time::Duration::from_secs(30)).await;
    let first = refresh_token(&idp.offline_tokens_for("jhon", &mut Browser::default()).await);
    let second = refresh_token(&refreshed(&idp, &first).await);

    // The response carrying `second` was lost: the client tries `first` again.
    idp.state.clock().advance(10);
    let again = refreshed(&idp, &first).await;
    let third = refresh_token(&again);
    assert!(third != second && third != first, "a new token of the family");
    let id = id_claims(&idp, &again).await;
    assert!(id.get("nonce").is_none());
    // Nothing was revoked: both successors work, each once.
    let fourth = refresh_token(&refreshed(&idp, &second).await);
    let fifth = refresh_token(&refreshed(&idp, &third).await);

    // After the interval (anchored at the first rotation), reuse revokes.
    idp.state.clock().advance(25);
    idp.refresh(&first).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    for token in [&fourth, &fifth] {
        idp.refresh(token).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
}

#[tokio::test]
async fn without_a_reuse_interval_even_an_immediate_retry_revokes() {
    let idp = Idp::new().await;
    let first = refresh_token(&idp.offline_tokens_for("jhon", &mut Browser::default()).await);
    let second = refresh_token(&refreshed(&idp, &first).await);
    idp.refresh(&first).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    idp.refresh(&second).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn without_offline_access_there_is_no_refresh_token() {
    let idp = Idp::new().await;
    let body = idp.tokens_for("jhon", &mut Browser::default()).await;
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(!body["scope"].as_str().unwrap().contains("offline_access"));
}

#[tokio::test]
async fn role_changes_show_up_at_the_next_refresh() {
    let idp = Idp::new().await;
    let first = idp.offline_tokens_for("james", &mut Browser::default()).await;
    assert_eq!(id_claims(&idp, &first).await[ROLES_CLAIM], json!(["project-manager"]));

    // Behind the provider's back, as the API's role editor would.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", idp.database().display())).await.unwrap();
    sqlx::query("INSERT INTO user_roles (user_id, role) SELECT id, 'auditor' FROM users WHERE username = 'james'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let second = refreshed(&idp, &refresh_token(&first)).await;
    let id = id_claims(&idp, &second).await;
    assert_eq!(id[ROLES_CLAIM], json!(["auditor", "project-manager"]));
    assert_eq!(id[PERMISSIONS_CLAIM], json!(["create:project", "read:project-list", "read:user-list"]));
    let (_, access) = verify_with_jwks(&idp, second["access_token"].as_str().unwrap(), API_AUDIENCE).await.unwrap();
    assert_eq!(
        access[ACCESS_TOKEN_PERMISSIONS_CLAIM],
        json!(["create:project", "read:project-list", "read:user-list"])
    );
}

#[tokio::test]
async fn a_refresh_may_narrow_the_scope_and_the_family_keeps_the_full_one() {
    let idp = Idp::new().await;
    let first = refresh_token(&idp.offline_tokens_for("james", &mut Browser::default()).await);

    // Widening is refused, and costs the client nothing.
    let pairs = [
        ("grant_type", "refresh_token"),
        ("refresh_token", &first),
        ("client_id", CLIENT_ID),
        ("scope", "openid admin"),
    ];
    idp.token(&pairs).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_scope");

    let pairs =
        [("grant_type", "refresh_token"), ("refresh_token", &first), ("client_id", CLIENT_ID), ("scope", "openid")];
    let reply = idp.token(&pairs).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let narrow = reply.json();
    assert_eq!(narrow["scope"], "openid create:project read:project-list");
    let id = id_claims(&idp, &narrow).await;
    assert!(id.get("email").is_none() && id.get("name").is_none(), "{id}");

    let full = refreshed(&idp, &refresh_token(&narrow)).await;
    assert!(full["scope"].as_str().unwrap().starts_with("openid profile email offline_access"), "{full}");
    assert_eq!(id_claims(&idp, &full).await["preferred_username"], "james");
}

#[tokio::test]
async fn refresh_tokens_survive_the_end_of_the_provider_session() {
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    let body = idp.offline_tokens_for("jhon", &mut browser).await;
    let token = refresh_token(&body);
    let query = encode(&[("id_token_hint", body["id_token"].as_str().unwrap())]);
    idp.get(&format!("/v2/logout?{query}"), &mut browser).await;
    assert!(!browser.cookies.contains_key("dev_idp_session"));
    refreshed(&idp, &token).await;
}

#[tokio::test]
async fn refresh_tokens_expire_when_idle_and_at_the_family_end() {
    let idp = Idp::new().await;
    // Idle: unused for eight hours.
    let idle = refresh_token(&idp.offline_tokens_for("jhon", &mut Browser::default()).await);
    idp.state.clock().advance(8 * 3600 + 1);
    idp.refresh(&idle).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");

    // Absolute: a day after sign-in, however often it was rotated.
    let mut token = refresh_token(&idp.offline_tokens_for("jhon", &mut Browser::default()).await);
    for _ in 0..3 {
        idp.state.clock().advance(7 * 3600);
        token = refresh_token(&refreshed(&idp, &token).await);
    }
    idp.state.clock().advance(3 * 3600 + 1);
    idp.refresh(&token).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn a_refresh_token_of_another_client_is_refused() {
    let idp = Idp::new().await;
    let token = refresh_token(&idp.offline_tokens_for("jhon", &mut Browser::default()).await);
    // The SPA's own token, presented as another client: that client is unknown.
    let pairs = [("grant_type", "refresh_token"), ("refresh_token", token.as_str()), ("client_id", "another-client")];
    idp.token(&pairs).await.assert_token_error(StatusCode::UNAUTHORIZED, "invalid_client");

    // A token the provider issued to another client, presented by the SPA.
    let jhon = idp.state.store().user_by_username("jhon").await.unwrap().unwrap();
    let foreign = "another-clients-refresh-token-0123456789abcdef";
    let now = idp.state.now();
    let record = RefreshToken {
        token_hash: dev_idp::refresh_tokens::hash(foreign),
        family_id: "foreign-family".into(),
        user_id: jhon.id,
        client_id: "another-client".into(),
        scope: "openid offline_access".into(),
        audience: None,
        auth_time: now,
        created_at: now,
        expires_at: now + 3600,
        idle_expires_at: now + 3600,
        used_at: None,
        revoked_at: None,
        dpop_jkt: None,
    };
    idp.state.store().insert_refresh_token(&record).await.unwrap();
    idp.refresh(foreign).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    // Nor may the SPA revoke it.
    idp.revoke(&[("token", foreign), ("client_id", CLIENT_ID)])
        .await
        .assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    let stored = idp.state.store().refresh_token(&record.token_hash).await.unwrap().unwrap();
    assert_eq!((stored.used_at, stored.revoked_at), (None, None), "untouched");
}

#[tokio::test]
async fn bad_refresh_requests_get_rfc6749_errors() {
    let idp = Idp::new().await;
    let token = refresh_token(&idp.offline_tokens_for("jhon", &mut Browser::default()).await);
    let reply = idp.token(&[("grant_type", "refresh_token"), ("client_id", CLIENT_ID)]).await;
    reply.assert_token_error(StatusCode::BAD_REQUEST, "invalid_request");
    idp.refresh("not-a-token-we-issued").await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    let pairs = [
        ("grant_type", "refresh_token"),
        ("refresh_token", token.as_str()),
        ("refresh_token", token.as_str()),
        ("client_id", CLIENT_ID),
    ];
    idp.token(&pairs).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_request");
    let pairs = [("grant_type", "refresh_token"), ("refresh_token", token.as_str())];
    idp.token(&pairs).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_request");
    let pairs = [
        ("grant_type", "refresh_token"),
        ("refresh_token", token.as_str()),
        ("client_id", CLIENT_ID),
        ("client_secret", "s"),
    ];
    idp.token(&pairs).await.assert_token_error(StatusCode::UNAUTHORIZED, "invalid_client");
    // None of that consumed the token.
    refreshed(&idp, &token).await;
}

#[tokio::test]
async fn revocation_kills_the_family_and_answers_200_even_for_unknown_tokens() {
    // A reuse interval, so that only the revocation can explain a refusal
    // of the just-rotated token.
    let idp = Idp::with_settings(|s| s.refresh_reuse_interval = std::time::Duration::from_secs(60)).await;
    let first = refresh_token(&idp.offline_tokens_for("jhon", &mut Browser::default()).await);
    let second = refresh_token(&refreshed(&idp, &first).await);

    let reply = idp.revoke(&[("token", &second), ("token_type_hint", "refresh_token"), ("client_id", CLIENT_ID)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(reply.text.is_empty(), "an empty body: {}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("access-control-allow-origin"), Some(SPA_ORIGIN));
    idp.refresh(&second).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    idp.refresh(&first).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");

    // Again, unknown tokens, access tokens, any hint: all 200 (RFC 7009 §2.2).
    for (token, hint) in
        [(second.as_str(), "refresh_token"), ("never-issued", "refresh_token"), ("eyJ.x.y", "access_token")]
    {
        let reply = idp.revoke(&[("token", token), ("token_type_hint", hint), ("client_id", CLIENT_ID)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{token}: {}", reply.text);
    }
}

#[tokio::test]
async fn bad_revocation_requests_get_rfc6749_errors() {
    let idp = Idp::new().await;
    let token = refresh_token(&idp.offline_tokens_for("jhon", &mut Browser::default()).await);
    let reply = idp.revoke(&[("token", &token), ("client_id", "another-client")]).await;
    reply.assert_token_error(StatusCode::UNAUTHORIZED, "invalid_client");
    let reply = idp.revoke(&[("token", &token), ("client_id", CLIENT_ID), ("client_secret", "s")]).await;
    reply.assert_token_error(StatusCode::UNAUTHORIZED, "invalid_client");
    idp.revoke(&[("token", &token)]).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_request");
    idp.revoke(&[("client_id", CLIENT_ID)]).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_request");
    let reply = idp.revoke(&[("token", &token), ("token", "other"), ("client_id", CLIENT_ID)]).await;
    reply.assert_token_error(StatusCode::BAD_REQUEST, "invalid_request");
    let request = Request::post("/oauth/revoke")
        .header("content-type", "application/json")
        .body(Body::from(format!(r#"{{"token":"{token}","client_id":"{CLIENT_ID}"}}"#)))
        .unwrap();
    idp.send(request).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_request");
    // None of that revoked anything.
    refreshed(&idp, &token).await;
}

#[tokio::test]
async fn the_revocation_endpoint_admits_the_spa_origin_only() {
    let idp = Idp::new().await;
    idp.assert_preflight_admits_only_the_spa("/oauth/revoke").await;
}

#[tokio::test]
async fn the_store_keeps_only_a_hash_of_each_token() {
    let idp = Idp::new().await;
    let token = refresh_token(&idp.offline_tokens_for("jhon", &mut Browser::default()).await);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", idp.database().display())).await.unwrap();
    let hashes: Vec<String> =
        sqlx::query_scalar("SELECT token_hash FROM refresh_tokens").fetch_all(&pool).await.unwrap();
    assert_eq!(hashes, [dev_idp::refresh_tokens::hash(&token)]);
    // Nothing in the row spells the token.
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT token_hash, family_id, scope FROM refresh_tokens").fetch_all(&pool).await.unwrap();
    assert!(rows.iter().all(|(a, b, c)| ![a, b, c].contains(&&token)));
    pool.close().await;
}

/// The stored record of a refresh token.
async fn stored(idp: &Idp, token: &str) -> RefreshToken {
    idp.state.store().refresh_token(&dev_idp::refresh_tokens::hash(token)).await.unwrap().expect("stored")
}

/// RFC 6749 §4.1.2: a code used twice is refused, and what its first use
/// issued is revoked, since one of the two presenters was not the client.
#[tokio::test]
async fn a_reused_code_revokes_the_refresh_token_its_first_use_issued() {
    let idp = Idp::new().await;
    let request = AuthRequest::default().with("scope", OFFLINE_SCOPE);
    let code = idp.sign_in(&request, "jhon", &mut Browser::default()).await.code();
    let first = idp.exchange(&code).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let first_refresh = refresh_token(&first.json());

    idp.exchange(&code).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    idp.refresh(&first_refresh).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    let record = stored(&idp, &first_refresh).await;
    assert!(record.revoked_at.is_some(), "revoked, not merely refused: {record:?}");
    assert_eq!(record.used_at, None, "refused because its family is revoked, not as reuse: {record:?}");
}

/// The revocation reaches the whole family: tokens rotated from the first
/// one since, and a second, failed presentation with a wrong verifier.
#[tokio::test]
async fn a_reused_code_revokes_the_tokens_rotated_since_whatever_the_second_request_says() {
    let idp = Idp::new().await;
    let request = AuthRequest::default().with("scope", OFFLINE_SCOPE);
    let code = idp.sign_in(&request, "jhon", &mut Browser::default()).await.code();
    let first = idp.exchange(&code).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let rotated = refresh_token(&refreshed(&idp, &refresh_token(&first.json())).await);

    let second = idp.exchange_with_verifier(&code, &"x".repeat(43)).await;
    second.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    idp.refresh(&rotated).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    let family = idp.state.store().refresh_token_family(&stored(&idp, &rotated).await.family_id).await.unwrap();
    assert_eq!(family.len(), 2);
    assert!(family.iter().all(|token| token.revoked_at.is_some()), "{family:?}");
}
