//! DPoP (RFC 9449) at the token endpoint, through the router: proofs made
//! with a real P-256 key bind the access token (`cnf.jkt`, `token_type:
//! DPoP`) and the refresh token; `dpop_jkt` binds the code; defective,
//! replayed and nonce-less proofs are refused with the RFC 9449 errors;
//! `--require-dpop`; discovery and CORS.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use permissions::names::{API_AUDIENCE, CLIENT_ID};
use serde_json::{Value, json};
use support::dpop_key::{DpopKey, new_jti, token_endpoint};
use support::*;

/// The refresh token of a token response.
fn refresh_token(body: &Value) -> String {
    body["refresh_token"].as_str().unwrap_or_else(|| panic!("no refresh_token in {body}")).to_owned()
}

/// The verified claims of a response's access token.
async fn access_claims(idp: &Idp, body: &Value) -> Value {
    let token = body["access_token"].as_str().expect("access_token");
    verify_with_jwks(idp, token, API_AUDIENCE).await.expect("a valid access token").1
}

/// The `dpop_jkt` stored with a refresh token.
async fn stored_binding(idp: &Idp, token: &str) -> Option<String> {
    let hash = dev_idp::refresh_tokens::hash(token);
    idp.state.store().refresh_token(&hash).await.unwrap().expect("stored").dpop_jkt
}

/// A code for `jhon` with `offline_access`, from `request` with that scope.
async fn offline_code(idp: &Idp, request: AuthRequest) -> String {
    idp.sign_in(&request.with("scope", OFFLINE_SCOPE), "jhon", &mut Browser::default()).await.code()
}

/// Signs in with `offline_access` and exchanges the code with a proof by
/// `key`: the token response.
async fn dpop_sign_in(idp: &Idp, key: &DpopKey) -> Value {
    let code = offline_code(idp, AuthRequest::default()).await;
    let reply = idp.exchange_with_proof(&code, &key.token_proof(idp)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json()
}

/// A successful refresh with a proof by `key`: the token response.
async fn dpop_refresh(idp: &Idp, key: &DpopKey, token: &str) -> Value {
    let reply = idp.refresh_with_proof(token, &key.token_proof(idp)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json()
}

#[tokio::test]
async fn a_code_exchanged_with_a_proof_earns_dpop_tokens_bound_to_the_key() {
    let idp = Idp::new().await;
    let key = DpopKey::generate();
    let body = dpop_sign_in(&idp, &key).await;
    assert_eq!(body["token_type"], "DPoP", "{body}");
    let access = access_claims(&idp, &body).await;
    assert_eq!(access["cnf"], json!({ "jkt": key.thumbprint() }), "{access}");
    // The ID token is for the client, not a resource: it names no key.
    let id = verify_with_jwks(&idp, body["id_token"].as_str().unwrap(), CLIENT_ID).await.unwrap().1;
    assert!(id.get("cnf").is_none(), "{id}");
    // RFC 9449 §5: the public client's refresh token is bound too.
    assert_eq!(stored_binding(&idp, &refresh_token(&body)).await, Some(key.thumbprint()));
}

#[tokio::test]
async fn without_a_proof_the_tokens_are_bearer_tokens_as_before() {
    let idp = Idp::new().await;
    let body = idp.offline_tokens_for("jhon", &mut Browser::default()).await;
    assert_eq!(body["token_type"], "Bearer");
    assert!(access_claims(&idp, &body).await.get("cnf").is_none());
    let token = refresh_token(&body);
    assert_eq!(stored_binding(&idp, &token).await, None);
    // Without --dpop-nonce there is no nonce to hand out.
    let reply = idp.refresh(&token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["token_type"], "Bearer");
    assert!(reply.header("dpop-nonce").is_none());
}

#[tokio::test]
async fn a_bound_refresh_token_refreshes_with_its_key_and_stays_bound_across_rotation() {
    let idp = Idp::new().await;
    let key = DpopKey::generate();
    let mut token = refresh_token(&dpop_sign_in(&idp, &key).await);
    for _ in 0..3 {
        idp.state.clock().advance(30);
        let body = dpop_refresh(&idp, &key, &token).await;
        assert_eq!(body["token_type"], "DPoP");
        assert_eq!(access_claims(&idp, &body).await["cnf"]["jkt"], key.thumbprint());
        let next = refresh_token(&body);
        assert_ne!(next, token);
        assert_eq!(stored_binding(&idp, &next).await, Some(key.thumbprint()), "the successor is bound");
        token = next;
    }
}

/// RFC 9449 §5: a bound refresh token is refused without a proof by its
/// key; and the refusal changes nothing, so whoever copied the token
/// cannot sign the user out by presenting it (see `refresh_tokens`).
#[tokio::test]
async fn a_bound_refresh_token_without_its_key_is_refused_and_the_family_lives_on() {
    let idp = Idp::new().await;
    let key = DpopKey::generate();
    let thief = DpopKey::generate();
    let first = refresh_token(&dpop_sign_in(&idp, &key).await);

    idp.refresh(&first).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    let reply = idp.refresh_with_proof(&first, &thief.token_proof(&idp)).await;
    reply.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    assert!(reply.json()["error_description"].as_str().unwrap().contains("DPoP key"), "{}", reply.text);
    let hash = dev_idp::refresh_tokens::hash(&first);
    let record = idp.state.store().refresh_token(&hash).await.unwrap().unwrap();
    assert_eq!((record.used_at, record.revoked_at), (None, None), "not rotated, not revoked");

    // The client refreshes with its key; then the thief presents the
    // rotated token, without the key: refused, and not taken as reuse.
    let second = refresh_token(&dpop_refresh(&idp, &key, &first).await);
    idp.refresh(&first).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    idp.refresh_with_proof(&first, &thief.token_proof(&idp))
        .await
        .assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    idp.refresh(&second).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    let third = refresh_token(&dpop_refresh(&idp, &key, &second).await);
    let family = idp.state.store().refresh_token_family(&record.family_id).await.unwrap();
    assert!(family.iter().all(|t| t.revoked_at.is_none()), "{family:?}");

    // The rotated token with the key is reuse, as ever: whoever holds the
    // key can use the family.
    idp.refresh_with_proof(&first, &key.token_proof(&idp))
        .await
        .assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    idp.refresh_with_proof(&third, &key.token_proof(&idp))
        .await
        .assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn a_bearer_family_becomes_bound_at_its_first_refresh_with_a_proof() {
    let idp = Idp::new().await;
    let key = DpopKey::generate();
    let first = refresh_token(&idp.offline_tokens_for("jhon", &mut Browser::default()).await);
    let body = dpop_refresh(&idp, &key, &first).await;
    assert_eq!(body["token_type"], "DPoP");
    let second = refresh_token(&body);
    assert_eq!(stored_binding(&idp, &second).await, Some(key.thumbprint()));
    idp.refresh(&second).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    dpop_refresh(&idp, &key, &second).await;
}

/// RFC 9449 §10: `dpop_jkt` at the authorization endpoint binds the code
/// to a key before it exists.
#[tokio::test]
async fn dpop_jkt_binds_the_code_to_the_key_it_names() {
    let idp = Idp::new().await;
    let key = DpopKey::generate();
    let other = DpopKey::generate();
    let bound = || AuthRequest::default().with("dpop_jkt", &key.thumbprint());

    // Carried through the sign-in page (its CSRF token covers it).
    let page = idp.get(&bound().url(), &mut Browser::default()).await;
    assert!(hidden_fields(&page.text).contains(&("dpop_jkt".into(), key.thumbprint())), "{}", page.text);

    let code = offline_code(&idp, bound()).await;
    let reply = idp.exchange(&code).await;
    reply.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    assert!(reply.json()["error_description"].as_str().unwrap().contains("dpop_jkt"), "{}", reply.text);

    let code = offline_code(&idp, bound()).await;
    let reply = idp.exchange_with_proof(&code, &other.token_proof(&idp)).await;
    reply.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");

    let code = offline_code(&idp, bound()).await;
    let reply = idp.exchange_with_proof(&code, &key.token_proof(&idp)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["token_type"], "DPoP");
    assert_eq!(access_claims(&idp, &body).await["cnf"]["jkt"], key.thumbprint());
    assert_eq!(stored_binding(&idp, &refresh_token(&body)).await, Some(key.thumbprint()));
}

#[tokio::test]
async fn a_malformed_dpop_jkt_is_an_invalid_request() {
    let idp = Idp::new().await;
    // (An empty value is an omitted one, RFC 6749 §3.1.)
    for bad in ["short", "NzbLsXh8uDCcd+6MNwXF4W/7noWXFZAfHkxZsRGC9Xs", &"A".repeat(44)] {
        let request = AuthRequest::default().with("dpop_jkt", bad);
        let reply = idp.get(&request.url(), &mut Browser::default()).await;
        reply.assert_authorization_error("invalid_request");
    }
}

#[tokio::test]
async fn a_replayed_proof_is_refused_and_spends_nothing() {
    let idp = Idp::new().await;
    let key = DpopKey::generate();
    let token = refresh_token(&dpop_sign_in(&idp, &key).await);
    let proof = key.token_proof(&idp);
    let reply = idp.refresh_with_proof(&token, &proof).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let next = refresh_token(&reply.json());

    let replayed = idp.refresh_with_proof(&next, &proof).await;
    replayed.assert_token_error(StatusCode::BAD_REQUEST, "invalid_dpop_proof");
    assert!(replayed.json()["error_description"].as_str().unwrap().contains("already used"), "{}", replayed.text);
    // The token was not rotated: a fresh proof uses it.
    dpop_refresh(&idp, &key, &next).await;
}

#[tokio::test]
async fn proofs_for_another_request_or_time_are_refused_before_the_code_is_spent() {
    let idp = Idp::new().await;
    let key = DpopKey::generate();
    let now = idp.state.now();
    let claims = |htm: &str, htu: &str, iat: i64| json!({ "jti": new_jti(), "htm": htm, "htu": htu, "iat": iat });
    let defective = [
        ("another endpoint", key.sign(&claims("POST", &format!("{ISSUER}/oauth/revoke"), now))),
        ("another host", key.sign(&claims("POST", "http://localhost:18081/oauth/token", now))),
        ("another method", key.sign(&claims("GET", &token_endpoint(), now))),
        ("lower-case method", key.sign(&claims("post", &token_endpoint(), now))),
        ("too old", key.sign(&claims("POST", &token_endpoint(), now - 600))),
        ("from the future", key.sign(&claims("POST", &token_endpoint(), now + 600))),
        ("no jti", key.sign(&json!({ "htm": "POST", "htu": token_endpoint(), "iat": now }))),
        ("not a JWS", "not.a.proof".to_owned()),
    ];
    let code = offline_code(&idp, AuthRequest::default()).await;
    for (what, proof) in &defective {
        let reply = idp.exchange_with_proof(&code, proof).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{what}: {}", reply.text);
        assert_eq!(reply.json()["error"], "invalid_dpop_proof", "{what}: {}", reply.text);
    }
    // The query and fragment are not part of the comparison (RFC 9449 §4.3).
    let with_query = key.sign(&claims("POST", &format!("{}?x=1#f", token_endpoint()), now));
    let reply = idp.exchange_with_proof(&code, &with_query).await;
    assert_eq!(reply.status, StatusCode::OK, "the code survived the refused proofs: {}", reply.text);
}

#[tokio::test]
async fn two_dpop_headers_are_an_invalid_proof() {
    let idp = Idp::new().await;
    let key = DpopKey::generate();
    let code = offline_code(&idp, AuthRequest::default()).await;
    let redirect = contract::routes::redirect_uri(SPA_ORIGIN);
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("client_id", CLIENT_ID),
        ("code_verifier", VERIFIER),
    ];
    let (one, two) = (key.token_proof(&idp), key.token_proof(&idp));
    let reply =
        idp.fetch_form_with_headers(dev_idp::TOKEN_PATH, SPA_ORIGIN, &pairs, &[("DPoP", &one), ("DPoP", &two)]).await;
    reply.assert_token_error(StatusCode::BAD_REQUEST, "invalid_dpop_proof");
}

/// RFC 9449 §8: with `--dpop-nonce`, a proof without the server's nonce is
/// answered `use_dpop_nonce` with one in `DPoP-Nonce`, and the retry with
/// it succeeds: the code was not spent by the first attempt.
#[tokio::test]
async fn with_nonces_required_the_client_retries_with_the_nonce_it_was_sent() {
    let idp = Idp::with_settings(|s| s.dpop_nonce = true).await;
    let key = DpopKey::generate();
    let code = offline_code(&idp, AuthRequest::default()).await;

    let challenge = idp.exchange_with_proof(&code, &key.token_proof(&idp)).await;
    challenge.assert_token_error(StatusCode::BAD_REQUEST, "use_dpop_nonce");
    let nonce = challenge.header("dpop-nonce").expect("a DPoP-Nonce header").to_owned();
    // The SPA reads it cross-origin, and `Date` (to correct its clock):
    // CORS must expose both.
    let exposed = challenge.header("access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
    let exposed: Vec<&str> = exposed.split(',').map(str::trim).collect();
    assert!(exposed.contains(&"dpop-nonce") && exposed.contains(&"date"), "{exposed:?}");

    let wrong = key.token_proof_with_nonce(&idp, "not-the-servers-nonce");
    idp.exchange_with_proof(&code, &wrong).await.assert_token_error(StatusCode::BAD_REQUEST, "use_dpop_nonce");

    let reply = idp.exchange_with_proof(&code, &key.token_proof_with_nonce(&idp, &nonce)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["token_type"], "DPoP");
    // Successful answers carry the current nonce too (see endpoints::token).
    assert_eq!(reply.header("dpop-nonce"), Some(nonce.as_str()));
    let token = refresh_token(&reply.json());

    // The same nonce serves the next request; ten minutes on it is stale.
    let reply = idp.refresh_with_proof(&token, &key.token_proof_with_nonce(&idp, &nonce)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let token = refresh_token(&reply.json());
    idp.state.clock().advance(600);
    let stale = idp.refresh_with_proof(&token, &key.token_proof_with_nonce(&idp, &nonce)).await;
    stale.assert_token_error(StatusCode::BAD_REQUEST, "use_dpop_nonce");
    let fresh = stale.header("dpop-nonce").expect("a new nonce").to_owned();
    assert_ne!(fresh, nonce);
    let reply = idp.refresh_with_proof(&token, &key.token_proof_with_nonce(&idp, &fresh)).await;
    assert_eq!(reply.status, StatusCode::OK, "the refused attempt did not rotate the token: {}", reply.text);
}

#[tokio::test]
async fn nonces_concern_proofs_only_bearer_requests_still_work() {
    let idp = Idp::with_settings(|s| s.dpop_nonce = true).await;
    let body = idp.offline_tokens_for("jhon", &mut Browser::default()).await;
    assert_eq!(body["token_type"], "Bearer");
}

#[tokio::test]
async fn with_dpop_required_a_request_without_a_proof_is_refused() {
    let idp = Idp::with_settings(|s| s.require_dpop = true).await;
    let key = DpopKey::generate();
    let code = offline_code(&idp, AuthRequest::default()).await;
    let reply = idp.exchange(&code).await;
    reply.assert_token_error(StatusCode::BAD_REQUEST, "invalid_dpop_proof");
    assert!(reply.json()["error_description"].as_str().unwrap().contains("requires DPoP"), "{}", reply.text);
    // Refused before the grant: the code is still good, with a proof.
    let reply = idp.exchange_with_proof(&code, &key.token_proof(&idp)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let token = refresh_token(&reply.json());
    idp.refresh(&token).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_dpop_proof");
    dpop_refresh(&idp, &key, &token).await;
}

#[tokio::test]
async fn discovery_advertises_the_proof_algorithms() {
    let idp = Idp::new().await;
    let discovery = idp.get("/.well-known/openid-configuration", &mut Browser::default()).await.json();
    let algs = discovery["dpop_signing_alg_values_supported"].as_array().expect("an array");
    assert!(algs.contains(&json!("ES256")), "{algs:?}");
    assert!(!algs.iter().any(|alg| alg == "none" || alg.as_str().is_some_and(|a| a.starts_with("HS"))), "{algs:?}");
    assert_eq!(discovery["token_endpoint"], token_endpoint(), "the htu proofs must name");
}

/// The SPA's proof header is not CORS-safelisted: the preflight must allow it.
#[tokio::test]
async fn the_token_endpoints_preflight_allows_the_dpop_header() {
    let idp = Idp::new().await;
    let preflight = Request::options(dev_idp::TOKEN_PATH)
        .header("origin", SPA_ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,dpop")
        .body(Body::empty())
        .unwrap();
    let reply = idp.send(preflight).await;
    assert!(reply.status.is_success(), "{}", reply.status);
    assert_eq!(reply.header("access-control-allow-origin"), Some(SPA_ORIGIN));
    let allowed = reply.header("access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    assert!(allowed.split(',').any(|h| h.trim() == "dpop"), "{allowed:?}");
}
