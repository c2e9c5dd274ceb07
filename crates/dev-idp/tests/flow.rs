//! End-to-end behaviour of the provider through its router: the sign-in
//! flow, every refusal the brief lists, SSO and logout, and key persistence.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use contract::routes::{post_logout_uri, redirect_uri};
use dev_idp::config::{Config, Issuer, SpaOrigin};
use dev_idp::{AppState, REVOCATION_PATH, TOKEN_PATH, pkce};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use permissions::names::{
    ACCESS_TOKEN_PERMISSIONS_CLAIM, API_AUDIENCE, CLIENT_ID, DEV_IDP_SUBJECT_PREFIX, PERMISSIONS_CLAIM, ROLES_CLAIM,
};
use serde_json::{Value, json};
use support::*;

/// Fetches discovery, then the JWKS it names, and verifies `token` with the
/// key its header names.
async fn verify(idp: &Idp, token: &str, audience: &str) -> (jsonwebtoken::Header, Value) {
    let discovery = idp.get("/.well-known/openid-configuration", &mut Browser::default()).await.json();
    let jwks_uri = discovery["jwks_uri"].as_str().expect("jwks_uri");
    let jwks_path = jwks_uri.strip_prefix(ISSUER).expect("the JWKS is under the issuer");
    let jwks: JwkSet = serde_json::from_str(&idp.get(jwks_path, &mut Browser::default()).await.text).expect("JWKS");
    let header = jsonwebtoken::decode_header(token).expect("header");
    let jwk = jwks.find(header.kid.as_deref().expect("kid")).expect("the kid is in the JWKS");
    let key = DecodingKey::from_jwk(jwk).expect("usable JWK");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[discovery["issuer"].as_str().expect("issuer")]);
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).expect("a valid token");
    (data.header, data.claims)
}

#[tokio::test]
async fn happy_path_issues_verifiable_tokens_with_auth0_shaped_claims() {
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    let redirect = idp.sign_in(&AuthRequest::default(), "jhon", &mut browser).await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    let params = redirect.redirect_params();
    assert_eq!(params["state"], STATE);
    assert_eq!(params["iss"], ISSUER);
    assert_eq!(params["code"].len(), 43);
    assert!(browser.cookies.contains_key("dev_idp_session"), "the sign-in starts a provider session");
    let cookie = redirect.header("set-cookie").expect("session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");

    let reply = idp.exchange(&params["code"]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
    assert_eq!(reply.header("access-control-allow-origin"), Some(SPA_ORIGIN));
    let body = reply.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let all = ["create:project", "delete:project", "read:project-list", "read:user-list", "update:user-roles"];
    let expected_scope = format!("openid profile email {}", all.join(" "));
    assert_eq!(body["scope"], expected_scope.as_str());

    let (header, id) = verify(&idp, body["id_token"].as_str().unwrap(), CLIENT_ID).await;
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(header.kid.as_deref(), Some(idp.state.keys().active().kid()));
    let jhon = idp.state.store().user_by_username("jhon").await.unwrap().unwrap();
    assert_eq!(id["iss"], ISSUER);
    assert_eq!(id["sub"], format!("{DEV_IDP_SUBJECT_PREFIX}{}", jhon.id));
    assert_eq!(id["aud"], CLIENT_ID);
    assert_eq!(id["nonce"], NONCE);
    assert_eq!(id["name"], jhon.name.as_str());
    assert_eq!(id["email"], jhon.email.as_str());
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["preferred_username"], "jhon");
    assert_eq!(id[PERMISSIONS_CLAIM], json!(all));
    assert_eq!(id[ROLES_CLAIM], json!(["admin"]));
    let iat = id["iat"].as_i64().unwrap();
    assert_eq!(id["exp"].as_i64().unwrap(), iat + 3600);
    assert!((iat - id["auth_time"].as_i64().unwrap()).abs() <= 5);

    let (header, access) = verify(&idp, body["access_token"].as_str().unwrap(), API_AUDIENCE).await;
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.kid.as_deref(), Some(idp.state.keys().active().kid()));
    assert_eq!(access["iss"], ISSUER);
    assert_eq!(access["sub"], id["sub"]);
    assert_eq!(access["aud"], API_AUDIENCE);
    assert_eq!(access["client_id"], CLIENT_ID);
    assert_eq!(access["azp"], CLIENT_ID);
    assert!(access["jti"].as_str().is_some_and(|jti| !jti.is_empty()));
    assert_eq!(access[ACCESS_TOKEN_PERMISSIONS_CLAIM], json!(all));
    assert_eq!(access["scope"], expected_scope.as_str());
}

#[tokio::test]
async fn a_user_without_roles_gets_empty_permission_arrays() {
    let idp = Idp::new().await;
    let body = idp.tokens_for("nobody", &mut Browser::default()).await;
    let (_, id) = verify(&idp, body["id_token"].as_str().unwrap(), CLIENT_ID).await;
    assert_eq!(id[PERMISSIONS_CLAIM], json!([]));
    assert_eq!(id[ROLES_CLAIM], json!([]));
    let (_, access) = verify(&idp, body["access_token"].as_str().unwrap(), API_AUDIENCE).await;
    assert_eq!(access[ACCESS_TOKEN_PERMISSIONS_CLAIM], json!([]));
    assert_eq!(access["scope"], "openid profile email");
}

#[tokio::test]
async fn james_gets_the_project_manager_permissions() {
    let idp = Idp::new().await;
    let body = idp.tokens_for("james", &mut Browser::default()).await;
    let (_, id) = verify(&idp, body["id_token"].as_str().unwrap(), CLIENT_ID).await;
    assert_eq!(id[PERMISSIONS_CLAIM], json!(["create:project", "read:project-list"]));
    assert_eq!(id[ROLES_CLAIM], json!(["project-manager"]));
}

#[tokio::test]
async fn without_an_audience_the_access_token_is_still_for_the_api_and_scopes_limit_claims() {
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    let request = AuthRequest::default().without("audience").without("nonce").with("scope", "openid");
    let code = idp.sign_in(&request, "james", &mut browser).await.code();
    let body = idp.exchange(&code).await.json();
    assert_eq!(body["scope"], "openid create:project read:project-list");
    let (_, id) = verify(&idp, body["id_token"].as_str().unwrap(), CLIENT_ID).await;
    assert!(id.get("nonce").is_none() && id.get("name").is_none() && id.get("email").is_none(), "{id}");
    assert_eq!(id[PERMISSIONS_CLAIM], json!(["create:project", "read:project-list"]));
    let (_, access) = verify(&idp, body["access_token"].as_str().unwrap(), API_AUDIENCE).await;
    assert_eq!(access["aud"], API_AUDIENCE);
}

#[tokio::test]
async fn a_request_without_pkce_is_refused() {
    let idp = Idp::new().await;
    let request = AuthRequest::default().without("code_challenge").without("code_challenge_method");
    let reply = idp.get(&request.url(), &mut Browser::default()).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    reply.assert_authorization_error("invalid_request");
    // A challenge without a method would default to plain: refused as well.
    let reply = idp.get(&AuthRequest::default().without("code_challenge_method").url(), &mut Browser::default()).await;
    reply.assert_authorization_error("invalid_request");
}

#[tokio::test]
async fn plain_pkce_is_refused() {
    let idp = Idp::new().await;
    let request = AuthRequest::default().with("code_challenge", VERIFIER).with("code_challenge_method", "plain");
    let reply = idp.get(&request.url(), &mut Browser::default()).await;
    reply.assert_authorization_error("invalid_request");
    assert!(reply.redirect_params()["error_description"].contains("S256"));
}

#[tokio::test]
async fn a_malformed_challenge_is_refused() {
    let idp = Idp::new().await;
    let request = AuthRequest::default().with("code_challenge", "short");
    idp.get(&request.url(), &mut Browser::default()).await.assert_authorization_error("invalid_request");
}

#[tokio::test]
async fn a_wrong_verifier_is_invalid_grant() {
    let idp = Idp::new().await;
    let code = idp.sign_in(&AuthRequest::default(), "jhon", &mut Browser::default()).await.code();
    let reply = idp.exchange_with_verifier(&code, &"x".repeat(43)).await;
    reply.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn a_code_is_single_use_even_when_its_first_use_failed() {
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    let code = idp.sign_in(&AuthRequest::default(), "jhon", &mut browser).await.code();
    let wrong = pkce::s256_challenge("not the verifier");
    let wrong_verifier = format!("{wrong}-padding");
    let first = idp.exchange_with_verifier(&code, &wrong_verifier).await;
    first.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    idp.exchange(&code).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");

    // And a code that worked once does not work twice.
    let code = idp.get(&AuthRequest::default().url(), &mut browser).await.code();
    assert_eq!(idp.exchange(&code).await.status, StatusCode::OK);
    idp.exchange(&code).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let idp = Idp::new().await;
    let code = idp.sign_in(&AuthRequest::default(), "jhon", &mut Browser::default()).await.code();
    idp.state.clock().advance(61);
    idp.exchange(&code).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn a_code_still_works_just_before_it_expires() {
    let idp = Idp::new().await;
    let code = idp.sign_in(&AuthRequest::default(), "jhon", &mut Browser::default()).await.code();
    idp.state.clock().advance(58);
    assert_eq!(idp.exchange(&code).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_different_redirect_uri_at_the_token_endpoint_is_refused() {
    let idp = Idp::new().await;
    let code = idp.sign_in(&AuthRequest::default(), "jhon", &mut Browser::default()).await.code();
    let reply = idp
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:18080/other"),
            ("client_id", CLIENT_ID),
            ("code_verifier", VERIFIER),
        ])
        .await;
    reply.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn an_unregistered_redirect_uri_gets_an_error_page_and_no_redirect() {
    let idp = Idp::new().await;
    for uri in ["https://evil.example/callback", "http://127.0.0.1:18080/callback/", "http://127.0.0.1:18080/"] {
        let request = AuthRequest::default().with("redirect_uri", uri);
        let reply = idp.get(&request.url(), &mut Browser::default()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(reply.header("location").is_none(), "{uri}");
        assert!(reply.header("content-type").unwrap().starts_with("text/html"));
        assert!(reply.text.contains("not registered"), "{}", reply.text);
    }
    // Even an otherwise broken request is not redirected there.
    let request = AuthRequest::default().with("redirect_uri", "https://evil.example/cb").without("code_challenge");
    let reply = idp.get(&request.url(), &mut Browser::default()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.header("location").is_none());
}

#[tokio::test]
async fn an_unknown_or_missing_client_gets_an_error_page() {
    let idp = Idp::new().await;
    for request in
        [AuthRequest::default().with("client_id", "someone-else"), AuthRequest::default().without("client_id")]
    {
        let reply = idp.get(&request.url(), &mut Browser::default()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.header("location").is_none());
    }
    let repeated = format!("{}&redirect_uri=https%3A%2F%2Fevil.example%2F", AuthRequest::default().url());
    let reply = idp.get(&repeated, &mut Browser::default()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.header("location").is_none());
}

#[tokio::test]
async fn other_bad_requests_are_redirected_with_the_right_error() {
    let idp = Idp::new().await;
    let cases = [
        (AuthRequest::default().with("response_type", "token"), "unsupported_response_type"),
        (AuthRequest::default().without("response_type"), "invalid_request"),
        (AuthRequest::default().with("scope", "profile email"), "invalid_scope"),
        (AuthRequest::default().with("audience", "https://other.example"), "invalid_request"),
        (AuthRequest::default().with("prompt", "none login"), "invalid_request"),
        (AuthRequest::default().with("response_mode", "fragment"), "invalid_request"),
        (AuthRequest::default().with("max_age", "soon"), "invalid_request"),
        (AuthRequest::default().with("request", "eyJ..."), "request_not_supported"),
    ];
    for (request, error) in cases {
        idp.get(&request.url(), &mut Browser::default()).await.assert_authorization_error(error);
    }
    let repeated = format!("{}&state=again", AuthRequest::default().url());
    let reply = idp.get(&repeated, &mut Browser::default()).await;
    assert_eq!(reply.redirect_params()["error"], "invalid_request");
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let idp = Idp::new().await;
    let reply = idp.get(&AuthRequest::default().with("prompt", "none").url(), &mut Browser::default()).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    reply.assert_authorization_error("login_required");
}

#[tokio::test]
async fn cancel_is_access_denied() {
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    let page = idp.get(&AuthRequest::default().url(), &mut browser).await;
    let mut form = hidden_fields(&page.text);
    form.push(("cancel".into(), "1".into()));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let reply = idp.post_form("/authorize", &pairs, &mut browser).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    reply.assert_authorization_error("access_denied");
    assert!(!browser.cookies.contains_key("dev_idp_session"), "cancelling signs no one in");
}

#[tokio::test]
async fn the_sign_in_page_cannot_be_framed_and_has_its_test_hooks() {
    let idp = Idp::new().await;
    let page = idp.get(&AuthRequest::default().url(), &mut Browser::default()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains(&format!("form-action 'self' {SPA_ORIGIN}")), "{csp}");
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(page.text.contains("Development only — do not use in production"));
    assert!(page.text.contains("data-testid=\"signin-jhon\""));
    assert!(page.text.contains("data-testid=\"signin-james\""));
    assert!(page.text.contains("data-testid=\"signin-nobody\""));
    assert!(page.text.contains("data-testid=\"signin-cancel\""));
    assert!(page.text.contains("project-manager"), "roles are shown");
    assert!(!page.text.contains("<script"), "no scripts at all");
}

#[tokio::test]
async fn the_sign_in_post_needs_the_browsers_csrf_cookie_and_untampered_fields() {
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    let page = idp.get(&AuthRequest::default().url(), &mut browser).await;
    let fields = hidden_fields(&page.text);
    let submit = |fields: &[(String, String)]| {
        let mut pairs: Vec<(String, String)> = fields.to_vec();
        pairs.push(("username".into(), "jhon".into()));
        pairs
    };

    // From another browser (no binding cookie): refused, nobody signed in.
    let pairs = submit(&fields);
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut stranger = Browser::default();
    let reply = idp.post_form("/authorize", &pairs, &mut stranger).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(!stranger.cookies.contains_key("dev_idp_session"));

    // A tampered hidden field (another challenge) breaks the token.
    let mut tampered = fields.clone();
    for (name, value) in &mut tampered {
        if name == "code_challenge" {
            *value = pkce::s256_challenge("attacker's verifier");
        }
    }
    let pairs = submit(&tampered);
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(idp.post_form("/authorize", &pairs, &mut browser).await.status, StatusCode::FORBIDDEN);

    // A stale form is refused too.
    idp.state.clock().advance(16 * 60);
    let pairs = submit(&fields);
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(idp.post_form("/authorize", &pairs, &mut browser).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_unknown_user_is_refused() {
    let idp = Idp::new().await;
    let reply = idp.sign_in(&AuthRequest::default(), "mallory", &mut Browser::default()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.header("location").is_none());
}

#[tokio::test]
async fn a_live_session_signs_in_silently_and_prompt_login_shows_the_page() {
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    idp.tokens_for("james", &mut browser).await;

    let reply = idp.get(&AuthRequest::default().with("prompt", "none").url(), &mut browser).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let params = reply.redirect_params();
    assert_eq!(params["state"], STATE);
    assert_eq!(params["iss"], ISSUER);
    let body = idp.exchange(&params["code"]).await.json();
    let (_, id) = verify(&idp, body["id_token"].as_str().unwrap(), CLIENT_ID).await;
    assert_eq!(id["preferred_username"], "james");

    // No prompt at all: SSO, as Auth0 does.
    let reply = idp.get(&AuthRequest::default().url(), &mut browser).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert!(reply.redirect_params().contains_key("code"));

    // prompt=login and select_account always show the page.
    for prompt in ["login", "select_account"] {
        let reply = idp.get(&AuthRequest::default().with("prompt", prompt).url(), &mut browser).await;
        assert_eq!(reply.status, StatusCode::OK, "{prompt}");
        assert!(reply.text.contains("data-testid=\"signin-jhon\""));
    }

    // max_age=0 makes an existing session too old once a second has passed.
    idp.state.clock().advance(2);
    let reply = idp.get(&AuthRequest::default().with("prompt", "none").with("max_age", "0").url(), &mut browser).await;
    reply.assert_authorization_error("login_required");
}

#[tokio::test]
async fn signing_in_again_as_someone_else_replaces_the_session() {
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    idp.tokens_for("james", &mut browser).await;
    let request = AuthRequest::default().with("prompt", "login");
    let code = idp.sign_in(&request, "jhon", &mut browser).await.code();
    idp.exchange(&code).await;
    let code = idp.get(&AuthRequest::default().with("prompt", "none").url(), &mut browser).await.code();
    let body = idp.exchange(&code).await.json();
    let (_, id) = verify(&idp, body["id_token"].as_str().unwrap(), CLIENT_ID).await;
    assert_eq!(id["preferred_username"], "jhon");
}

#[tokio::test]
async fn sessions_expire() {
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    idp.tokens_for("jhon", &mut browser).await;
    idp.state.clock().advance(8 * 3600 + 1);
    idp.assert_signed_out(&mut browser).await;
}

#[tokio::test]
async fn end_session_signs_out_and_returns_to_the_spa() {
    let home = post_logout_uri(SPA_ORIGIN);
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    let body = idp.tokens_for("jhon", &mut browser).await;
    let id_token = body["id_token"].as_str().unwrap();

    let query = encode(&[
        ("id_token_hint", id_token),
        ("post_logout_redirect_uri", home.as_str()),
        ("state", "bye"),
        ("client_id", CLIENT_ID),
    ]);
    let reply = idp.get(&format!("/v2/logout?{query}"), &mut browser).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let location = reply.location();
    assert_eq!(location.as_str(), format!("{home}?state=bye"));
    assert!(reply.header("set-cookie").unwrap().starts_with("dev_idp_session=;"));
    assert!(!browser.cookies.contains_key("dev_idp_session"));

    idp.assert_signed_out(&mut browser).await;
}

/// RP-Initiated Logout 1.0 §2: the OP accepts the request as a form POST too,
/// which is how the SPA sends it, so that its ID token stays out of URLs.
#[tokio::test]
async fn end_session_by_form_post_signs_out_and_returns_to_the_spa() {
    let home = post_logout_uri(SPA_ORIGIN);
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    let body = idp.tokens_for("jhon", &mut browser).await;
    let fields = [
        ("id_token_hint", body["id_token"].as_str().unwrap()),
        ("post_logout_redirect_uri", home.as_str()),
        ("state", "bye"),
        ("client_id", CLIENT_ID),
    ];
    let reply = idp.post_form("/v2/logout", &fields, &mut browser).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    assert_eq!(reply.location().as_str(), format!("{home}?state=bye"));
    assert!(!browser.cookies.contains_key("dev_idp_session"));
    idp.assert_signed_out(&mut browser).await;

    // A forged hint is refused by POST as by GET, and signs nobody out.
    let mut other = Browser::default();
    idp.tokens_for("james", &mut other).await;
    let reply = idp.post_form("/v2/logout", &[("id_token_hint", "e30.e30.AAAA")], &mut other).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_signed_in(&idp, &mut other).await;
}

/// A form POST from another site (the SPA on `localhost`, the provider on
/// `127.0.0.1`) carries no `SameSite=Lax` cookie: the hint alone names the
/// sign-in, and its session ends all the same, while another sign-in of the
/// same user lives on.
#[tokio::test]
async fn end_session_without_the_cookie_ends_the_sign_in_its_hint_names() {
    let home = post_logout_uri(SPA_ORIGIN);
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    let body = idp.tokens_for("jhon", &mut browser).await;
    idp.state.clock().advance(5);
    let mut elsewhere = Browser::default();
    idp.tokens_for("jhon", &mut elsewhere).await;

    let fields = [("id_token_hint", body["id_token"].as_str().unwrap()), ("post_logout_redirect_uri", home.as_str())];
    let reply = idp.post_form("/v2/logout", &fields, &mut Browser::default()).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    assert_eq!(reply.location().as_str(), home);
    idp.assert_signed_out(&mut browser).await;
    assert_signed_in(&idp, &mut elsewhere).await;
}

#[tokio::test]
async fn end_session_deletes_the_session_server_side() {
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    let body = idp.tokens_for("jhon", &mut browser).await;
    let stolen_cookie = browser.cookies.clone();
    let query = encode(&[("id_token_hint", body["id_token"].as_str().unwrap())]);
    idp.get(&format!("/v2/logout?{query}"), &mut browser).await;
    // Replaying the old cookie does not bring the session back.
    let mut replay = Browser { cookies: stolen_cookie };
    idp.assert_signed_out(&mut replay).await;
}

#[tokio::test]
async fn end_session_without_a_registered_return_uri_shows_a_signed_out_page() {
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    let body = idp.tokens_for("jhon", &mut browser).await;
    let query = encode(&[
        ("id_token_hint", body["id_token"].as_str().unwrap()),
        ("post_logout_redirect_uri", "https://evil.example/"),
    ]);
    let reply = idp.get(&format!("/v2/logout?{query}"), &mut browser).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.header("location").is_none());
    assert!(reply.text.contains("data-testid=\"signed-out\""));
    assert!(!browser.cookies.contains_key("dev_idp_session"));
}

/// Asserts that `browser` has a live provider session: a silent sign-in
/// (`prompt=none`) comes back with a code.
async fn assert_signed_in(idp: &Idp, browser: &mut Browser) {
    let params = idp.get(&AuthRequest::default().with("prompt", "none").url(), browser).await.redirect_params();
    assert!(params.contains_key("code"), "still signed in: {params:?}");
}

/// The `Set-Cookie` values of a reply.
fn set_cookies(reply: &Reply) -> Vec<&str> {
    reply.headers.get_all("set-cookie").iter().map(|value| value.to_str().unwrap()).collect()
}

/// Pairs for `post_form`.
fn pairs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Issue 9, item 12 (RP-Initiated Logout 1.0 §2 and §4): any site can send
/// the browser to the logout URL, so without an id_token_hint the provider
/// asks before it ends the session; the confirmation then signs out and
/// returns to the registered URI as a logout with a hint does.
#[tokio::test]
async fn a_logout_without_a_hint_asks_first_and_the_confirmation_signs_out() {
    let home = post_logout_uri(SPA_ORIGIN);
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    idp.tokens_for("jhon", &mut browser).await;
    let query = encode(&[("post_logout_redirect_uri", home.as_str()), ("state", "bye"), ("client_id", CLIENT_ID)]);
    let page = idp.get(&format!("/v2/logout?{query}"), &mut browser).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("data-testid=\"confirm-sign-out\""), "{}", page.text);
    assert!(page.text.contains("jhon"), "says who would be signed out: {}", page.text);
    assert!(
        set_cookies(&page).iter().all(|cookie| !cookie.starts_with("dev_idp_session=")),
        "{:?}",
        set_cookies(&page)
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains(&format!("form-action 'self' {SPA_ORIGIN};")), "{csp}");
    assert_signed_in(&idp, &mut browser).await;

    let fields = hidden_fields(&page.text);
    let reply = idp.post_form("/v2/logout", &pairs(&fields), &mut browser).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    assert_eq!(reply.location().as_str(), format!("{home}?state=bye"));
    assert!(!browser.cookies.contains_key("dev_idp_session"));
    idp.assert_signed_out(&mut browser).await;
}

#[tokio::test]
async fn without_a_return_uri_the_confirmation_ends_on_the_signed_out_page() {
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    idp.tokens_for("jhon", &mut browser).await;
    let page = idp.get("/v2/logout", &mut browser).await;
    assert!(page.text.contains("data-testid=\"confirm-sign-out\""), "{}", page.text);
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("form-action 'self';"), "{csp}");
    let reply = idp.post_form("/v2/logout", &pairs(&hidden_fields(&page.text)), &mut browser).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text.contains("data-testid=\"signed-out\""), "{}", reply.text);
    idp.assert_signed_out(&mut browser).await;
}

#[tokio::test]
async fn the_logout_confirmation_needs_the_browsers_csrf_cookie_and_untampered_fields() {
    let home = post_logout_uri(SPA_ORIGIN);
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    idp.tokens_for("jhon", &mut browser).await;
    let query = encode(&[("post_logout_redirect_uri", home.as_str())]);
    let page = idp.get(&format!("/v2/logout?{query}"), &mut browser).await;
    let fields = hidden_fields(&page.text);
    assert!(fields.iter().any(|(name, _)| name == "csrf_token"), "{fields:?}");

    // A forged form: the session cookie, but not the form's binding cookie.
    let session = browser.cookies["dev_idp_session"].clone();
    let mut forger = Browser { cookies: [("dev_idp_session".to_owned(), session)].into() };
    let reply = idp.post_form("/v2/logout", &pairs(&fields), &mut forger).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    // No token at all: that is a new logout request by POST, without a hint, so the provider asks again.
    let without: Vec<_> = fields.iter().filter(|(name, _)| name != "csrf_token").cloned().collect();
    let again = idp.post_form("/v2/logout", &pairs(&without), &mut browser).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert!(again.text.contains("data-testid=\"confirm-sign-out\""), "{}", again.text);
    // Another destination than the one confirmed.
    let mut tampered = fields.clone();
    tampered.push(("state".into(), "injected".into()));
    assert_eq!(idp.post_form("/v2/logout", &pairs(&tampered), &mut browser).await.status, StatusCode::FORBIDDEN);
    // A sign-in form's token is no logout token.
    let sign_in = idp.get(&AuthRequest::default().with("prompt", "login").url(), &mut browser).await;
    let sign_in_token = hidden_fields(&sign_in.text).into_iter().find(|(name, _)| name == "csrf_token").unwrap();
    let mut swapped = without.clone();
    swapped.push(sign_in_token);
    assert_eq!(idp.post_form("/v2/logout", &pairs(&swapped), &mut browser).await.status, StatusCode::FORBIDDEN);
    assert_signed_in(&idp, &mut browser).await;
}

/// A hint that is valid but names another sign-in (another user's, or an
/// earlier or later session of the same user) is no proof that this
/// browser's session asked to end: the provider asks.
#[tokio::test]
async fn a_hint_for_another_session_asks_first() {
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    idp.tokens_for("jhon", &mut browser).await;
    let another_user = idp.tokens_for("james", &mut Browser::default()).await;
    idp.state.clock().advance(1);
    let another_session = idp.tokens_for("jhon", &mut Browser::default()).await;
    for body in [another_user, another_session] {
        let query = encode(&[("id_token_hint", body["id_token"].as_str().unwrap())]);
        let page = idp.get(&format!("/v2/logout?{query}"), &mut browser).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(page.text.contains("data-testid=\"confirm-sign-out\""), "{}", page.text);
        assert_signed_in(&idp, &mut browser).await;
    }
}

/// With nothing to end, there is nothing to confirm: the logout answers as
/// always, with or without a hint.
#[tokio::test]
async fn without_a_session_a_logout_returns_at_once() {
    let home = post_logout_uri(SPA_ORIGIN);
    let idp = Idp::new().await;
    let body = idp.tokens_for("jhon", &mut Browser::default()).await;
    for query in [
        encode(&[("post_logout_redirect_uri", home.as_str())]),
        encode(&[("id_token_hint", body["id_token"].as_str().unwrap()), ("post_logout_redirect_uri", home.as_str())]),
    ] {
        let reply = idp.get(&format!("/v2/logout?{query}"), &mut Browser::default()).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text);
        assert_eq!(reply.location().as_str(), home);
    }
}

#[tokio::test]
async fn end_session_accepts_an_expired_hint_but_not_a_forged_one() {
    let home = post_logout_uri(SPA_ORIGIN);
    let idp = Idp::new().await;
    let mut browser = Browser::default();
    // Tokens issued two hours ago have expired by now.
    idp.state.clock().advance(-7200);
    let body = idp.tokens_for("jhon", &mut browser).await;
    idp.state.clock().advance(7200);
    let id_token = body["id_token"].as_str().unwrap().to_owned();

    // A token whose signature is not ours: flip the payload.
    let mut parts: Vec<String> = id_token.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].chars().rev().collect();
    let forged = parts.join(".");
    let reply = idp.get(&format!("/v2/logout?{}", encode(&[("id_token_hint", &forged)])), &mut browser).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(browser.cookies.contains_key("dev_idp_session"), "a bad hint signs no one out");

    let query = encode(&[("id_token_hint", &id_token), ("post_logout_redirect_uri", home.as_str())]);
    let reply = idp.get(&format!("/v2/logout?{query}"), &mut browser).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(reply.location().as_str(), home.as_str());
    assert!(!browser.cookies.contains_key("dev_idp_session"));
}

#[tokio::test]
async fn the_token_endpoint_reports_rfc6749_errors() {
    let callback = redirect_uri(SPA_ORIGIN);
    let idp = Idp::new().await;
    let code = idp.sign_in(&AuthRequest::default(), "jhon", &mut Browser::default()).await.code();
    let base = [
        ("grant_type", "authorization_code"),
        ("redirect_uri", callback.as_str()),
        ("client_id", CLIENT_ID),
        ("code_verifier", VERIFIER),
    ];
    let with = |changes: &[(&'static str, Option<&'static str>)]| {
        let mut pairs: Vec<(&str, &str)> = base.to_vec();
        for (name, value) in changes {
            pairs.retain(|(k, _)| k != name);
            if let Some(value) = value {
                pairs.push((name, value));
            }
        }
        pairs
    };
    let reply = idp.token(&with(&[("grant_type", Some("client_credentials"))])).await;
    reply.assert_token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    let reply = idp.token(&with(&[("grant_type", None)])).await;
    reply.assert_token_error(StatusCode::BAD_REQUEST, "invalid_request");
    let reply = idp.token(&with(&[("client_id", Some("other-client"))])).await;
    reply.assert_token_error(StatusCode::UNAUTHORIZED, "invalid_client");
    let reply = idp.token(&with(&[("client_secret", Some("s3cret"))])).await;
    reply.assert_token_error(StatusCode::UNAUTHORIZED, "invalid_client");
    let reply = idp.token(&with(&[])).await;
    reply.assert_token_error(StatusCode::BAD_REQUEST, "invalid_request");
    let reply = idp.token(&with(&[("code", Some("unknown-code"))])).await;
    reply.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");

    let mut pairs = with(&[("code_verifier", None)]);
    pairs.push(("code", &code));
    idp.token(&pairs).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_request");
    // That attempt presented the code, so it is gone.
    idp.exchange(&code).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_grant");

    let request = Request::post("/oauth/token")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"grant_type":"authorization_code"}"#))
        .unwrap();
    idp.send(request).await.assert_token_error(StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn cors_admits_the_spa_origin_only() {
    let idp = Idp::new().await;
    idp.assert_preflight_admits_only_the_spa("/oauth/token").await;

    for path in ["/.well-known/openid-configuration", "/.well-known/jwks.json"] {
        let request = Request::get(path).header("origin", SPA_ORIGIN).body(Body::empty()).unwrap();
        let reply = idp.send(request).await;
        assert_eq!(reply.header("access-control-allow-origin"), Some(SPA_ORIGIN), "{path}");
    }
}

#[tokio::test]
async fn the_spa_signs_in_from_each_registered_origin_and_from_no_other() {
    let idp = Idp::with_origins(&[SPA_ORIGIN, LOCALHOST_ORIGIN]).await;
    let callback = redirect_uri(LOCALHOST_ORIGIN);
    let request = AuthRequest::default().with("redirect_uri", &callback);
    let page = idp.get(&request.url(), &mut Browser::default()).await;
    // The browser applies form-action to the redirect after the sign-in
    // POST: the page must allow the origin it returns to.
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains(&format!("form-action 'self' {LOCALHOST_ORIGIN}")), "{csp}");

    let redirect = idp.sign_in(&request, "jhon", &mut Browser::default()).await;
    let location = redirect.location();
    assert_eq!(format!("{}{}", location.origin().ascii_serialization(), location.path()), callback);
    let reply = idp.exchange_from(LOCALHOST_ORIGIN, &redirect.code()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.header("access-control-allow-origin"), Some(LOCALHOST_ORIGIN));
    // The first origin still works beside it.
    idp.tokens_for("jhon", &mut Browser::default()).await;

    // An origin nobody registered gets an error page, never a redirect.
    // A provider that registers only the first origin refuses localhost.
    for (idp, stranger) in [(idp, "http://localhost:18081"), (Idp::new().await, LOCALHOST_ORIGIN)] {
        let request = AuthRequest::default().with("redirect_uri", &redirect_uri(stranger));
        let reply = idp.get(&request.url(), &mut Browser::default()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{stranger}");
        assert!(reply.header("location").is_none(), "{stranger}");
        assert!(reply.text.contains("not registered"), "{}", reply.text);
    }
}

#[tokio::test]
async fn sign_out_returns_to_the_registered_origin_it_names() {
    let idp = Idp::with_origins(&[SPA_ORIGIN, LOCALHOST_ORIGIN]).await;
    for origin in [LOCALHOST_ORIGIN, SPA_ORIGIN] {
        let home = post_logout_uri(origin);
        let query = encode(&[("post_logout_redirect_uri", &home)]);
        let reply = idp.get(&format!("/v2/logout?{query}"), &mut Browser::default()).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{origin}");
        assert_eq!(reply.location().as_str(), home);
    }
}

#[tokio::test]
async fn cors_admits_each_registered_origin_on_the_token_and_revocation_endpoints() {
    let both = Idp::with_origins(&[SPA_ORIGIN, LOCALHOST_ORIGIN]).await;
    let one = Idp::new().await;
    for path in [TOKEN_PATH, REVOCATION_PATH] {
        both.assert_preflight_admits_only(path, &[SPA_ORIGIN, LOCALHOST_ORIGIN]).await;
        // Unregistered, localhost stays a stranger.
        one.assert_preflight_admits_only(path, &[SPA_ORIGIN]).await;
    }
}

#[tokio::test]
async fn discovery_describes_this_provider() {
    let idp = Idp::new().await;
    let reply = idp.get("/.well-known/openid-configuration", &mut Browser::default()).await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = reply.json();
    assert_eq!(doc["issuer"], ISSUER);
    assert_eq!(doc["authorization_endpoint"], format!("{ISSUER}/authorize"));
    assert_eq!(doc["token_endpoint"], format!("{ISSUER}/oauth/token"));
    assert_eq!(doc["jwks_uri"], format!("{ISSUER}/.well-known/jwks.json"));
    assert_eq!(doc["end_session_endpoint"], format!("{ISSUER}/v2/logout"));
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["grant_types_supported"], json!(["authorization_code", "refresh_token"]));
    assert_eq!(doc["revocation_endpoint"], format!("{ISSUER}/oauth/revoke"));
    assert!(doc["scopes_supported"].as_array().unwrap().contains(&json!("offline_access")));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    assert_eq!(doc["token_endpoint_auth_methods_supported"], json!(["none"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert!(doc["claims_supported"].as_array().unwrap().contains(&json!(PERMISSIONS_CLAIM)));

    let jwks = idp.get("/.well-known/jwks.json", &mut Browser::default()).await.json();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["kid"], idp.state.keys().active().kid());
    assert_eq!(key["e"], "AQAB");
    assert!(key["n"].as_str().unwrap().len() >= 342, "a 2048-bit modulus");

    let health = idp.get("/healthz", &mut Browser::default()).await;
    assert_eq!(health.status, StatusCode::OK);
}

#[tokio::test]
async fn the_signing_key_persists_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:18081".parse().unwrap(),
        database: dir.path().join("db").join("app.db"),
        data_dir: dir.path().join("idp"),
        spa_origins: vec![SpaOrigin::parse(SPA_ORIGIN).unwrap()],
        issuer: None,
        token_ttl: std::time::Duration::from_secs(600),
        refresh_token_ttl: dev_idp::config::DEFAULT_REFRESH_TOKEN_TTL,
        refresh_idle_ttl: dev_idp::config::DEFAULT_REFRESH_IDLE_TTL,
        refresh_reuse_interval: std::time::Duration::ZERO,
        dpop_nonce: false,
        require_dpop: false,
        allow_non_loopback: false,
    };
    let issuer = Issuer::parse(ISSUER).unwrap();
    let first = AppState::open(&config, issuer.clone()).await.expect("first start generates a key");
    let kid = first.keys().active().kid().to_owned();
    drop(first);
    let second = AppState::open(&config, issuer).await.expect("second start loads it");
    assert_eq!(second.keys().active().kid(), kid);
    assert_eq!(second.keys().jwks().keys.len(), 1);

    let files: Vec<_> = std::fs::read_dir(config.data_dir.join("keys")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let pem = std::fs::read_to_string(&files[0]).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8 PEM");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
