//! Token validation through the real router: each check, and each attack,
//! once.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;

use api::auth::TokenTypes;

use crate::support::*;

const PROJECTS: &str = "/api/v1/projects";
const USERS: &str = "/api/v1/users";

#[tokio::test]
async fn a_valid_token_is_accepted() {
    let app = test_app().await;
    let response = app.get(PROJECTS, Some(&sign(&all_claims()))).await;
    assert!(!response.assert_ok_array().is_empty());
}

#[tokio::test]
async fn no_token_is_401_with_a_bare_challenge() {
    let app = test_app().await;
    let response = app.get(PROJECTS, None).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    // RFC 6750 §3.1: no error code when the request has no credentials.
    assert_eq!(response.header("www-authenticate"), Some(r#"Bearer realm="api""#));
    assert_eq!(response.body["error"], "unauthorized");
    assert!(response.body["error_description"].is_string());
}

#[tokio::test]
async fn malformed_bearer_tokens_are_invalid_token() {
    let app = test_app().await;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"Bearer".to_vec(), "empty"),
        (b"Bearer ".to_vec(), "empty"),
        (b"Bearer a b c".to_vec(), "invalid characters"),
        (b"Bearer \"quoted\"".to_vec(), "invalid characters"),
        (b"Bearer not-a-jwt".to_vec(), "not a well-formed JWT"),
        (b"Bearer a.b".to_vec(), "not a well-formed JWT"),
        (b"Bearer a.b.c.d".to_vec(), "not a well-formed JWT"),
        (b"Bearer ...".to_vec(), "not a well-formed JWT"),
        (b"Bearer !!!.???.***".to_vec(), "invalid characters"),
    ];
    for (value, reason) in cases {
        let request = Request::get(PROJECTS)
            .header(header::AUTHORIZATION, axum::http::HeaderValue::from_bytes(&value).unwrap())
            .body(Body::empty())
            .unwrap();
        let response = app.send(request).await;
        response.assert_invalid_token(reason);
    }
}

/// RFC 6750 §3.1: another scheme is no credentials at all, so the bare
/// challenge, as for a request without any. (`DPoP` is a scheme of its own:
/// see `dpop.rs`.)
#[tokio::test]
async fn another_scheme_gets_the_bare_challenge() {
    let app = test_app().await;
    let token = sign(&all_claims());
    for value in [format!("Basic {token}"), format!("DPoP{token}"), format!("Bearer{token}"), "Negotiate".to_owned()] {
        let request = Request::get(PROJECTS).header(header::AUTHORIZATION, value.as_str()).body(Body::empty()).unwrap();
        let response = app.send(request).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{value}");
        assert_eq!(response.header("www-authenticate"), Some(r#"Bearer realm="api""#), "{value}");
        assert_eq!(response.body["error"], "unauthorized", "{value}");
        assert!(response.body["error_description"].as_str().unwrap().contains("Bearer"), "{value}");
    }
}

/// RFC 6750 §3.1: a request that is malformed as such is `400 invalid_request`,
/// whatever its tokens.
#[tokio::test]
async fn a_malformed_request_is_400_invalid_request() {
    let app = test_app().await;
    let token = sign(&all_claims());
    let two_headers = Request::get(PROJECTS)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let not_text = Request::get(PROJECTS)
        .header(header::AUTHORIZATION, axum::http::HeaderValue::from_bytes(b"Bearer \xc3\xa9t\xc3\xa9").unwrap())
        .body(Body::empty())
        .unwrap();
    for (request, reason) in [(two_headers, "more than one Authorization header"), (not_text, "not visible ASCII")] {
        let response = app.send(request).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{:?}", response.body);
        assert_eq!(response.body["error"], "invalid_request");
        let description = response.body["error_description"].as_str().unwrap();
        assert!(description.contains(reason), "{description}");
        assert_eq!(
            response.header("www-authenticate").unwrap(),
            format!(r#"Bearer realm="api", error="invalid_request", error_description="{description}""#)
        );
    }
}

#[tokio::test]
async fn a_bad_signature_is_refused() {
    let app = test_app().await;
    // Signed by a key the issuer never published, under the published kid.
    let forged =
        jsonwebtoken::encode(&header(Algorithm::RS256, Some(rsa_1().kid)), &all_claims(), &rsa_2().encoding).unwrap();
    app.get(PROJECTS, Some(&forged)).await.assert_invalid_token("signature is invalid");

    // A genuine signature over other claims: the payload was swapped.
    let genuine = sign(&claims(&[]));
    let other = sign(&all_claims());
    let (head, rest) = genuine.split_once('.').unwrap();
    let signature = rest.rsplit_once('.').unwrap().1;
    let payload = other.split('.').nth(1).unwrap();
    let tampered = format!("{head}.{payload}.{signature}");
    app.get(PROJECTS, Some(&tampered)).await.assert_invalid_token("signature is invalid");

    // No signature at all.
    let stripped = format!("{}.", genuine.rsplit_once('.').unwrap().0);
    app.get(PROJECTS, Some(&stripped)).await.assert_invalid_token("signature is invalid");
}

#[tokio::test]
async fn a_wrong_issuer_is_refused() {
    let app = test_app().await;
    for iss in [json!("https://evil.test"), json!("https://issuer.test/"), json!([ISSUER]), json!(42)] {
        let mut claims = all_claims();
        claims["iss"] = iss.clone();
        let response = app.get(PROJECTS, Some(&sign(&claims))).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "iss {iss}");
        assert_eq!(response.body["error"], "invalid_token");
    }
    let mut claims = all_claims();
    claims["iss"] = json!("https://evil.test");
    app.get(PROJECTS, Some(&sign(&claims))).await.assert_invalid_token("another issuer");
    claims.as_object_mut().unwrap().remove("iss");
    app.get(PROJECTS, Some(&sign(&claims))).await.assert_invalid_token("lacks a required claim");
}

#[tokio::test]
async fn a_wrong_audience_is_refused() {
    let app = test_app().await;
    for aud in [json!("https://other-api.example"), json!(["https://other-api.example", "x"]), json!([])] {
        let mut claims = all_claims();
        claims["aud"] = aud;
        app.get(PROJECTS, Some(&sign(&claims))).await.assert_invalid_token("not meant for this API");
    }
    let mut claims = all_claims();
    claims.as_object_mut().unwrap().remove("aud");
    app.get(PROJECTS, Some(&sign(&claims))).await.assert_invalid_token("lacks a required claim");
}

#[tokio::test]
async fn an_audience_array_containing_ours_is_accepted() {
    let app = test_app().await;
    let mut claims = all_claims();
    // Auth0 sends this shape when the `openid` scope is also requested.
    claims["aud"] = json!([AUDIENCE, "https://tenant.auth0.com/userinfo"]);
    app.get(PROJECTS, Some(&sign(&claims))).await.assert_ok_array();
}

#[tokio::test]
async fn an_expired_token_is_refused_beyond_the_leeway() {
    let app = test_app().await;
    let mut claims = all_claims();
    claims["exp"] = json!(now() - 120);
    app.get(PROJECTS, Some(&sign(&claims))).await.assert_invalid_token("expired");
}

#[tokio::test]
async fn an_expired_token_is_accepted_within_the_leeway() {
    let app = test_app().await;
    let mut claims = all_claims();
    claims["exp"] = json!(now() - 10);
    app.get(PROJECTS, Some(&sign(&claims))).await.assert_ok_array();

    // With no leeway, the same token is refused.
    let strict = test_app_with(|c| c.leeway = std::time::Duration::ZERO).await;
    strict.get(PROJECTS, Some(&sign(&claims))).await.assert_invalid_token("expired");
}

#[tokio::test]
async fn a_missing_or_malformed_exp_is_refused() {
    let app = test_app().await;
    let mut claims = all_claims();
    claims.as_object_mut().unwrap().remove("exp");
    app.get(PROJECTS, Some(&sign(&claims))).await.assert_invalid_token("lacks a required claim");
    claims["exp"] = json!("tomorrow");
    app.get(PROJECTS, Some(&sign(&claims))).await.assert_invalid_token("invalid format");
    claims["exp"] = json!(null);
    app.get(PROJECTS, Some(&sign(&claims))).await.assert_invalid_token("invalid format");
}

#[tokio::test]
async fn a_token_not_valid_yet_is_refused() {
    let app = test_app().await;
    let mut claims = all_claims();
    claims["nbf"] = json!(now() + 300);
    app.get(PROJECTS, Some(&sign(&claims))).await.assert_invalid_token("not valid yet");
    // A few seconds of clock skew are tolerated.
    claims["nbf"] = json!(now() + 10);
    app.get(PROJECTS, Some(&sign(&claims))).await.assert_ok_array();
}

#[tokio::test]
async fn alg_none_is_refused() {
    let app = test_app().await;
    for alg in ["none", "None", "NONE"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": rsa_1().kid});
        for signature in [&b""[..], b"sig"] {
            let token = hand_built(&header, &all_claims(), signature);
            let response = app.get(PROJECTS, Some(&token)).await;
            assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{alg}");
            assert_eq!(response.body["error"], "invalid_token");
        }
    }
    // An unknown algorithm fares no better.
    let token = hand_built(&json!({"alg": "XS999", "kid": rsa_1().kid}), &all_claims(), b"sig");
    app.get(PROJECTS, Some(&token)).await.assert_invalid_token("not a well-formed JWT");
}

#[tokio::test]
async fn hmac_signed_with_the_public_key_is_refused() {
    let app = test_app().await;
    for key in [rsa_1(), ec_1()] {
        for secret in &key.public_encodings {
            for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
                let forged =
                    jsonwebtoken::encode(&header(alg, Some(key.kid)), &all_claims(), &EncodingKey::from_secret(secret))
                        .unwrap();
                app.get(PROJECTS, Some(&forged)).await.assert_invalid_token("algorithm is not accepted");
            }
        }
    }
    // Also without a kid, where a verifier might fall back to "the" key.
    let forged = jsonwebtoken::encode(
        &header(Algorithm::HS256, None),
        &all_claims(),
        &EncodingKey::from_secret(&rsa_1().public_encodings[0]),
    )
    .unwrap();
    app.get(PROJECTS, Some(&forged)).await.assert_invalid_token("algorithm is not accepted");
}

#[tokio::test]
async fn a_wrong_typ_is_refused() {
    let lenient = test_app().await;
    let strict = test_app_with(|config| config.token_types = TokenTypes::AccessTokenOnly).await;
    let typed = |typ: Option<&str>| {
        let mut header = header(Algorithm::RS256, Some(rsa_1().kid));
        header.typ = typ.map(str::to_owned);
        jsonwebtoken::encode(&header, &all_claims(), &rsa_1().encoding).unwrap()
    };
    for typ in ["JOSE", "dpop+jwt", "logout+jwt", "id_token", ""] {
        lenient.get(PROJECTS, Some(&typed(Some(typ)))).await.assert_invalid_token("typ");
        strict.get(PROJECTS, Some(&typed(Some(typ)))).await.assert_invalid_token("typ");
    }
    for typ in [Some("at+jwt"), Some("application/at+JWT")] {
        lenient.get(PROJECTS, Some(&typed(typ))).await.assert_ok_array();
        strict.get(PROJECTS, Some(&typed(typ))).await.assert_ok_array();
    }
    // What Auth0's default profile and Keycloak write, and what ID tokens
    // carry too: taken by default, refused in the strict mode.
    for typ in [Some("JWT"), None] {
        lenient.get(PROJECTS, Some(&typed(typ))).await.assert_ok_array();
        strict.get(PROJECTS, Some(&typed(typ))).await.assert_invalid_token("typ");
    }
}

#[tokio::test]
async fn an_id_token_does_not_pass_as_an_access_token_in_any_mode() {
    const SPA: &str = permissions::names::CLIENT_ID;
    let lenient = test_app_with(|config| config.client_ids = vec![SPA.to_owned()]).await;
    let strict = test_app_with(|config| {
        config.client_ids = vec![SPA.to_owned()];
        config.token_types = TokenTypes::AccessTokenOnly;
    })
    .await;
    // An access token that names the SPA only as its authorized party is fine.
    let mut access = all_claims();
    access["azp"] = json!(SPA);
    lenient.get(PROJECTS, Some(&sign(&access))).await.assert_ok_array();

    // ID tokens of a provider that also puts the API's audience into them,
    // signed with the issuer's key and typed as the strict mode wants: each
    // marker alone gives them away.
    let markers = [
        ("aud", json!([AUDIENCE, SPA])),
        ("nonce", json!("n-0S6_WzA2Mj")),
        ("at_hash", json!("77QmUPtjPfzWtF2AnpK9RQ")),
    ];
    for (claim, value) in markers {
        let mut id_token = all_claims();
        id_token[claim] = value;
        let mut header = header(Algorithm::RS256, Some(rsa_1().kid));
        header.typ = Some("at+jwt".to_owned());
        let token = jsonwebtoken::encode(&header, &id_token, &rsa_1().encoding).unwrap();
        lenient.get(PROJECTS, Some(&token)).await.assert_invalid_token("ID token");
        strict.get(PROJECTS, Some(&token)).await.assert_invalid_token("ID token");
    }
}

#[tokio::test]
async fn critical_header_extensions_are_refused() {
    let app = test_app().await;
    let mut header = header(Algorithm::RS256, Some(rsa_1().kid));
    header.crit = Some(vec!["exp".into()]);
    let token = jsonwebtoken::encode(&header, &all_claims(), &rsa_1().encoding).unwrap();
    app.get(PROJECTS, Some(&token)).await.assert_invalid_token("critical header");
}

#[tokio::test]
async fn an_unknown_kid_is_refused_with_fixed_keys() {
    let app = test_app().await;
    let token =
        jsonwebtoken::encode(&header(Algorithm::RS256, Some("who-knows")), &all_claims(), &rsa_2().encoding).unwrap();
    app.get(PROJECTS, Some(&token)).await.assert_invalid_token("unknown key");
}

#[tokio::test]
async fn other_accepted_algorithms_work_and_keys_fit_their_algorithm() {
    let app = test_app().await;
    for alg in [Algorithm::RS384, Algorithm::RS512, Algorithm::PS256, Algorithm::PS384, Algorithm::PS512] {
        app.get(PROJECTS, Some(&sign_with(rsa_1(), alg, &all_claims()))).await.assert_ok_array();
    }
    app.get(PROJECTS, Some(&sign_with(ec_1(), Algorithm::ES256, &all_claims()))).await.assert_ok_array();

    // An RSA algorithm naming the EC key, and the other way round.
    let rs_on_ec =
        jsonwebtoken::encode(&header(Algorithm::RS256, Some(ec_1().kid)), &all_claims(), &rsa_1().encoding).unwrap();
    app.get(PROJECTS, Some(&rs_on_ec)).await.assert_invalid_token("does not fit the key");
    let es_on_rsa =
        jsonwebtoken::encode(&header(Algorithm::ES256, Some(rsa_1().kid)), &all_claims(), &ec_1().encoding).unwrap();
    app.get(PROJECTS, Some(&es_on_rsa)).await.assert_invalid_token("does not fit the key");
}

#[tokio::test]
async fn a_token_without_kid_uses_the_one_fitting_key() {
    let app = test_app().await;
    let rs = jsonwebtoken::encode(&header(Algorithm::RS256, None), &all_claims(), &rsa_1().encoding).unwrap();
    app.get(PROJECTS, Some(&rs)).await.assert_ok_array();
    let es = jsonwebtoken::encode(&header(Algorithm::ES256, None), &all_claims(), &ec_1().encoding).unwrap();
    app.get(PROJECTS, Some(&es)).await.assert_ok_array();
    // ES384 fits neither published key.
    let token = hand_built(&json!({"alg": "ES384"}), &all_claims(), &[0; 96]);
    app.get(PROJECTS, Some(&token)).await.assert_invalid_token("unknown key");
}

#[tokio::test]
async fn a_key_pinned_to_rs256_refuses_ps256() {
    let mut jwk = rsa_1().jwk.clone();
    jwk["alg"] = json!("RS256");
    let keys = api::auth::KeySet::from_jwks(&json!({"keys": [jwk]})).unwrap();
    let verifier = api::auth::Verifier::new(default_config(), api::auth::KeyStore::fixed(keys));
    let app = app_with_verifier(verifier).await;
    app.get(PROJECTS, Some(&sign_with(rsa_1(), Algorithm::RS256, &all_claims()))).await.assert_ok_array();
    app.get(PROJECTS, Some(&sign_with(rsa_1(), Algorithm::PS256, &all_claims())))
        .await
        .assert_invalid_token("does not fit the key");
}

#[tokio::test]
async fn a_missing_permission_is_403_insufficient_scope() {
    let app = test_app().await;
    let token = sign(&claims(&["read:project-list"]));
    app.get(PROJECTS, Some(&token)).await.assert_ok_array();

    let response = app.get(USERS, Some(&token)).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert_eq!(response.body["error"], "insufficient_scope");
    assert!(response.body["error_description"].as_str().unwrap().contains("read:user-list"));
    assert_eq!(
        response.header("www-authenticate"),
        Some(r#"Bearer realm="api", error="insufficient_scope", scope="read:user-list""#)
    );

    // No permissions claim at all: still 403, never 401.
    let mut bare = all_claims();
    bare.as_object_mut().unwrap().remove("permissions");
    let response = app.get(PROJECTS, Some(&sign(&bare))).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert_eq!(
        response.header("www-authenticate"),
        Some(r#"Bearer realm="api", error="insufficient_scope", scope="read:project-list""#)
    );
}

#[tokio::test]
async fn permissions_names_are_exact() {
    let app = test_app().await;
    for near_miss in ["READ:USER-LIST", "read:user-list ", "read:users", "read:user-list:all"] {
        let response = app.get(USERS, Some(&sign(&claims(&[near_miss])))).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{near_miss}");
    }
    // A permission claim of the wrong shape grants nothing.
    let mut odd = all_claims();
    odd["permissions"] = json!(12);
    assert_eq!(app.get(USERS, Some(&sign(&odd))).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn permissions_can_come_from_the_scope_claim() {
    let claim_path = permissions::ClaimPath::parse("scope").unwrap();
    let app = test_app_with(|c| c.claim_path = claim_path).await;
    let mut claims = claims(&[]);
    claims.as_object_mut().unwrap().remove("permissions");
    claims["scope"] = json!("openid profile read:user-list");
    let token = sign(&claims);
    app.get(USERS, Some(&token)).await.assert_ok_array();
    assert_eq!(app.get(PROJECTS, Some(&token)).await.status, StatusCode::FORBIDDEN);

    // The `permissions` array is not consulted when `scope` is configured.
    let token = sign(&all_claims());
    assert_eq!(app.get(USERS, Some(&token)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn permissions_can_come_from_a_json_pointer() {
    let claim_path = permissions::ClaimPath::parse("/realm_access/roles").unwrap();
    let app = test_app_with(|c| c.claim_path = claim_path).await;
    let mut claims = claims(&[]);
    claims["realm_access"] = json!({"roles": ["read:project-list", "offline_access"]});
    let token = sign(&claims);
    app.get(PROJECTS, Some(&token)).await.assert_ok_array();
    assert_eq!(app.get(USERS, Some(&token)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_non_string_subject_is_refused() {
    let app = test_app().await;
    let mut claims = all_claims();
    claims["sub"] = json!({"id": 1});
    let response = app.get(PROJECTS, Some(&sign(&claims))).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(response.body["error"], "invalid_token");
    // No subject at all is fine (client-credentials tokens).
    claims.as_object_mut().unwrap().remove("sub");
    app.get(PROJECTS, Some(&sign(&claims))).await.assert_ok_array();
}

#[tokio::test]
async fn a_repeated_token_is_still_checked_for_expiry() {
    // The second request is answered from the verifier's cache; it must
    // agree with the first, and an expired token must never be cached.
    let app = test_app().await;
    let token = sign(&all_claims());
    app.get(PROJECTS, Some(&token)).await.assert_ok_array();
    app.get(PROJECTS, Some(&token)).await.assert_ok_array();
    let mut expired = all_claims();
    expired["exp"] = json!(now() - 120);
    let expired = sign(&expired);
    for _ in 0..2 {
        app.get(PROJECTS, Some(&expired)).await.assert_invalid_token("expired");
    }
}
