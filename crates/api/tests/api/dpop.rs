//! DPoP (RFC 9449) through the real router: a bound token with its proof,
//! each defect of a proof once, the scheme rules (a bound token is never a
//! bearer token; `--require-dpop`), server nonces, the public URL behind a
//! proxy, and CORS for the `DPoP` headers.

use std::sync::Arc;
use std::time::Duration;

use api::auth::{DpopPolicy, KeyStore, PublicUrl, Verifier};
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dpop::Nonces;
use dpop::test_key::TestKey;
use serde_json::{Value, json};

use crate::support::*;

const PROJECTS: &str = "/api/v1/projects";
/// The `Host` the tests' requests carry, and so the URL proofs name by default.
const HOST: &str = "127.0.0.1:3000";
const PROJECTS_URL: &str = "http://127.0.0.1:3000/api/v1/projects";

/// A client's key ([`TestKey`], as the browser's non-extractable WebCrypto key).
struct Client(TestKey);

impl Client {
    fn new() -> Client {
        Client(TestKey::generate())
    }

    fn jkt(&self) -> String {
        dpop::thumbprint(self.0.jwk()).unwrap()
    }

    /// An access token granting the lists' permissions, bound to this key.
    fn token(&self) -> String {
        let mut claims = all_claims();
        claims["cnf"] = json!({"jkt": self.jkt()});
        claims["permissions"] = json!(["read:project-list", "read:user-list", "create:project"]);
        sign(&claims)
    }

    fn header(&self) -> Value {
        self.0.header()
    }

    /// A signed proof with `header` and `claims`.
    fn sign(&self, header: &Value, claims: &Value) -> String {
        self.0.sign(header, claims)
    }

    /// A valid proof for `method` at `url` with `token`, fresh `jti`.
    fn proof(&self, method: &str, url: &str, token: &str) -> String {
        self.0.proof(&proof_claims(method, url, token))
    }
}

fn proof_claims(method: &str, url: &str, token: &str) -> Value {
    let jti = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
    json!({"jti": jti, "htm": method, "htu": url, "iat": now(), "ath": dpop::ath(token)})
}

/// A request with `Authorization: {scheme} {token}` and each of `proofs` as a `DPoP` header.
fn request(method: Method, path: &str, scheme: &str, token: &str, proofs: &[&str]) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, HOST)
        .header(header::AUTHORIZATION, format!("{scheme} {token}"));
    for proof in proofs {
        request = request.header("DPoP", *proof);
    }
    request.body(Body::empty()).unwrap()
}

fn get(scheme: &str, token: &str, proofs: &[&str]) -> Request<Body> {
    request(Method::GET, PROJECTS, scheme, token, proofs)
}

impl TestResponse {
    /// Asserts a `401` with a `DPoP` challenge of `error` whose description contains `reason`.
    #[track_caller]
    fn assert_dpop_error(&self, error: &str, reason: &str) {
        assert_eq!(self.status, StatusCode::UNAUTHORIZED, "{:?}", self.body);
        assert_eq!(self.body["error"], error, "{:?}", self.body);
        let description = self.body["error_description"].as_str().unwrap();
        assert!(description.contains(reason), "expected {reason:?} in {description:?}");
        let challenge = self.header("www-authenticate").expect("a WWW-Authenticate challenge");
        assert_eq!(
            challenge,
            format!(
                r#"DPoP realm="api", algs="ES256 ES384 EdDSA RS256 PS256", error="{error}", error_description="{description}""#
            )
        );
    }
}

async fn app_with_dpop(policy: DpopPolicy) -> TestApp {
    let verifier = Verifier::new(default_config(), KeyStore::fixed(default_keys()));
    app_with_state(verifier, |state| state.with_dpop(policy)).await
}

#[tokio::test]
async fn a_bound_token_with_its_proof_is_accepted() {
    let app = test_app().await;
    let client = Client::new();
    let token = client.token();
    let response = app.send(get("DPoP", &token, &[&client.proof("GET", PROJECTS_URL, &token)])).await;
    assert!(!response.assert_ok_array().is_empty());
    // A query is not part of `htu`; the scheme name is case-insensitive.
    let proof = client.proof("GET", PROJECTS_URL, &token);
    let response = app.send(request(Method::GET, "/api/v1/projects?per_page=1", "dpop", &token, &[&proof])).await;
    assert_eq!(response.assert_ok_array().len(), 1);
    // A write, with its own method in the proof.
    let proof = client.proof("POST", PROJECTS_URL, &token);
    let mut create = request(Method::POST, PROJECTS, "DPoP", &token, &[&proof]);
    create.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    *create.body_mut() = Body::from(json!({"name": "Bound", "description": "by DPoP"}).to_string());
    assert_eq!(app.send(create).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn each_defect_of_a_proof_is_invalid_dpop_proof() {
    let app = test_app().await;
    let client = Client::new();
    let token = client.token();
    let claims = || proof_claims("GET", PROJECTS_URL, &token);
    let with = |edit: &dyn Fn(&mut Value, &mut Value)| {
        let (mut header, mut claims) = (client.header(), claims());
        edit(&mut header, &mut claims);
        client.sign(&header, &claims)
    };
    let stranger = Client::new();
    let cases: Vec<(&str, String, &str)> = vec![
        ("wrong htm", with(&|_, c| c["htm"] = json!("POST")), "htm"),
        ("wrong htu", with(&|_, c| c["htu"] = json!("http://127.0.0.1:3000/api/v1/users")), "htu"),
        ("another host", with(&|_, c| c["htu"] = json!("http://evil.example/api/v1/projects")), "htu"),
        ("wrong ath", with(&|_, c| c["ath"] = json!(dpop::ath("another token"))), "ath"),
        ("no ath", with(&|_, c| c["ath"] = Value::Null), "ath"),
        ("stale iat", with(&|_, c| c["iat"] = json!(now() - 3600)), "too old"),
        ("future iat", with(&|_, c| c["iat"] = json!(now() + 3600)), "in the future"),
        ("alg none", with(&|h, _| h["alg"] = json!("none")), "algorithm"),
        ("alg HS256", with(&|h, _| h["alg"] = json!("HS256")), "algorithm"),
        ("private key", with(&|h, _| h["jwk"]["d"] = json!("AAAA")), "private key"),
        (
            "missing typ",
            with(&|h, _| {
                h.as_object_mut().unwrap().remove("typ");
            }),
            "typ",
        ),
        ("typ JWT", with(&|h, _| h["typ"] = json!("JWT")), "typ"),
        ("no jwk", with(&|h, _| h["jwk"] = Value::Null), "jwk"),
        ("another key", stranger.proof("GET", PROJECTS_URL, &token), "does not match the key"),
        ("forged signature", stranger.sign(&client.header(), &claims()), "signature"),
        ("not a JWS", "not-a-proof".to_owned(), "well-formed"),
    ];
    for (what, proof, reason) in cases {
        let response = app.send(get("DPoP", &token, &[&proof])).await;
        response.assert_dpop_error("invalid_dpop_proof", reason);
        assert!(response.header("dpop-nonce").is_none(), "{what}: no nonces unless asked for");
    }
}

#[tokio::test]
async fn the_dpop_header_must_be_there_once() {
    let app = test_app().await;
    let client = Client::new();
    let token = client.token();
    app.send(get("DPoP", &token, &[])).await.assert_dpop_error("invalid_dpop_proof", "lacks a DPoP proof");
    let (first, second) = (client.proof("GET", PROJECTS_URL, &token), client.proof("GET", PROJECTS_URL, &token));
    let response = app.send(get("DPoP", &token, &[&first, &second])).await;
    response.assert_dpop_error("invalid_dpop_proof", "more than one DPoP header");
    // Neither was recorded as used: the first still passes alone.
    assert_eq!(app.send(get("DPoP", &token, &[&first])).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_proof_is_accepted_once() {
    let app = test_app().await;
    let client = Client::new();
    let token = client.token();
    let proof = client.proof("GET", PROJECTS_URL, &token);
    assert_eq!(app.send(get("DPoP", &token, &[&proof])).await.status, StatusCode::OK);
    app.send(get("DPoP", &token, &[&proof])).await.assert_dpop_error("invalid_dpop_proof", "already used");
    // A fresh proof by the same key is fine.
    let fresh = client.proof("GET", PROJECTS_URL, &token);
    assert_eq!(app.send(get("DPoP", &token, &[&fresh])).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_refused_proof_is_not_remembered() {
    // A proof refused for another reason (here: the token's key differs)
    // must not burn its jti, or anyone could pre-empt a client's ids.
    let app = test_app().await;
    let client = Client::new();
    let token = client.token();
    let other_token = Client::new().token();
    let claims = proof_claims("GET", PROJECTS_URL, &token);
    let proof = client.sign(&client.header(), &claims);
    let mut other_claims = claims.clone();
    other_claims["ath"] = json!(dpop::ath(&other_token));
    let misbound = client.sign(&client.header(), &other_claims);
    app.send(get("DPoP", &other_token, &[&misbound])).await.assert_dpop_error("invalid_dpop_proof", "does not match");
    assert_eq!(app.send(get("DPoP", &token, &[&proof])).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_bound_token_is_never_a_bearer_token() {
    let app = test_app().await;
    let client = Client::new();
    let response = app.get(PROJECTS, Some(&client.token())).await;
    response.assert_invalid_token("DPoP-bound");
}

#[tokio::test]
async fn an_unbound_token_cannot_use_the_dpop_scheme() {
    let app = test_app().await;
    let client = Client::new();
    let token = sign(&all_claims());
    let response = app.send(get("DPoP", &token, &[&client.proof("GET", PROJECTS_URL, &token)])).await;
    response.assert_dpop_error("invalid_token", "not DPoP-bound");
}

#[tokio::test]
async fn token_defects_under_the_dpop_scheme_get_a_dpop_challenge() {
    let app = test_app().await;
    let client = Client::new();
    let mut claims = all_claims();
    claims["cnf"] = json!({"jkt": client.jkt()});
    claims["exp"] = json!(now() - 3600);
    let expired = sign(&claims);
    let response = app.send(get("DPoP", &expired, &[&client.proof("GET", PROJECTS_URL, &expired)])).await;
    response.assert_dpop_error("invalid_token", "expired");
    // A binding this API cannot check (mTLS's certificate hash) is refused.
    let mut claims = all_claims();
    claims["cnf"] = json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"});
    app.get(PROJECTS, Some(&sign(&claims))).await.assert_invalid_token("confirmation method");
}

#[tokio::test]
async fn unbound_bearer_tokens_still_work_and_both_schemes_are_offered() {
    let app = test_app().await;
    assert_eq!(app.get(PROJECTS, Some(&sign(&all_claims()))).await.status, StatusCode::OK);
    let response = app.get(PROJECTS, None).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    let challenges: Vec<_> = response.headers.get_all(header::WWW_AUTHENTICATE).iter().collect();
    assert_eq!(challenges, [r#"Bearer realm="api""#, r#"DPoP realm="api", algs="ES256 ES384 EdDSA RS256 PS256""#]);
}

#[tokio::test]
async fn require_dpop_refuses_bearer_tokens() {
    let app = app_with_dpop(DpopPolicy::default().with_required(true)).await;
    for token in [None, Some(sign(&all_claims()))] {
        let response = app.get(PROJECTS, token.as_deref()).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        assert_eq!(response.body["error"], "unauthorized");
        assert!(response.body["error_description"].as_str().unwrap().contains("requires a DPoP-bound access token"));
        let challenges: Vec<_> = response.headers.get_all(header::WWW_AUTHENTICATE).iter().collect();
        assert_eq!(challenges, [r#"DPoP realm="api", algs="ES256 ES384 EdDSA RS256 PS256""#]);
    }
    let client = Client::new();
    let token = client.token();
    let response = app.send(get("DPoP", &token, &[&client.proof("GET", PROJECTS_URL, &token)])).await;
    assert_eq!(response.status, StatusCode::OK);
}

#[tokio::test]
async fn with_nonces_the_client_retries_with_the_one_it_is_given() {
    let app = app_with_dpop(DpopPolicy::default().with_nonces(Some(Nonces::random(Duration::from_secs(300))))).await;
    let client = Client::new();
    let token = client.token();
    let first = app.send(get("DPoP", &token, &[&client.proof("GET", PROJECTS_URL, &token)])).await;
    first.assert_dpop_error("use_dpop_nonce", "nonce");
    let nonce = first.header("dpop-nonce").expect("a fresh DPoP-Nonce").to_owned();

    let mut claims = proof_claims("GET", PROJECTS_URL, &token);
    claims["nonce"] = json!(nonce);
    let retry = app.send(get("DPoP", &token, &[&client.sign(&client.header(), &claims)])).await;
    assert_eq!(retry.status, StatusCode::OK, "{:?}", retry.body);
    assert_eq!(retry.header("dpop-nonce"), Some(nonce.as_str()), "successes carry the current nonce too");

    claims["nonce"] = json!("made-up");
    claims["jti"] = json!("another");
    let forged = app.send(get("DPoP", &token, &[&client.sign(&client.header(), &claims)])).await;
    forged.assert_dpop_error("use_dpop_nonce", "nonce");
    // Bearer requests carry no nonce.
    assert!(app.get(PROJECTS, Some(&sign(&all_claims()))).await.header("dpop-nonce").is_none());
}

#[tokio::test]
async fn behind_a_proxy_proofs_name_the_public_url() {
    let public = PublicUrl::parse("https://app.example.com/backend/api/v1").unwrap();
    let app = app_with_dpop(DpopPolicy::default().with_public_urls(vec![public])).await;
    let client = Client::new();
    let token = client.token();
    let public_projects = "https://app.example.com/backend/api/v1/projects";
    let response = app.send(get("DPoP", &token, &[&client.proof("GET", public_projects, &token)])).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    // What the API itself sees (its Host) is not what the client addressed.
    let response = app.send(get("DPoP", &token, &[&client.proof("GET", PROJECTS_URL, &token)])).await;
    response.assert_dpop_error("invalid_dpop_proof", "htu");
    // Forwarding headers are not believed.
    let mut forwarded = get("DPoP", &token, &[&client.proof("GET", "https://evil.example/api/v1/projects", &token)]);
    forwarded.headers_mut().insert("x-forwarded-host", HeaderValue::from_static("evil.example"));
    forwarded.headers_mut().insert("x-forwarded-proto", HeaderValue::from_static("https"));
    app.send(forwarded).await.assert_dpop_error("invalid_dpop_proof", "htu");
}

#[tokio::test]
async fn cors_lets_browsers_send_proofs_and_read_the_dpop_answers() {
    let (_dir, store) = fresh_store().await;
    let verifier = Verifier::new(default_config(), KeyStore::fixed(default_keys()));
    let state = api::AppState::new(store, Arc::new(verifier))
        .with_cors_origins([HeaderValue::from_static("http://spa.example")])
        .with_dpop(DpopPolicy::default().with_nonces(Some(Nonces::random(Duration::from_secs(300)))));
    let router = api::app(state);

    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri(PROJECTS)
        .header(header::ORIGIN, "http://spa.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization,dpop")
        .body(Body::empty())
        .unwrap();
    let response = send(&router, preflight).await;
    assert_eq!(response.status, StatusCode::OK);
    let allowed = response.header("access-control-allow-headers").unwrap().to_ascii_lowercase();
    assert!(allowed.contains("dpop") && allowed.contains("authorization"), "{allowed}");

    let client = Client::new();
    let token = client.token();
    let mut request = get("DPoP", &token, &[&client.proof("GET", PROJECTS_URL, &token)]);
    request.headers_mut().insert(header::ORIGIN, HeaderValue::from_static("http://spa.example"));
    let response = send(&router, request).await;
    response.assert_dpop_error("use_dpop_nonce", "nonce");
    assert_eq!(response.header("access-control-allow-origin"), Some("http://spa.example"));
    let exposed = response.header("access-control-expose-headers").unwrap().to_ascii_lowercase();
    assert!(exposed.contains("dpop-nonce") && exposed.contains("www-authenticate"), "{exposed}");
}
