//! Shared test fixtures: signing keys generated once per test binary, token
//! builders, and an app with a fresh database and a key set the tests control.

use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use api::auth::{Issuer, KeySet, KeyStore, Verifier, VerifierConfig};
use api::{AppState, app};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use store::Store;
use tempfile::TempDir;
use tower::ServiceExt;

pub(crate) const ISSUER: &str = "https://issuer.test";
pub(crate) const AUDIENCE: &str = permissions::names::API_AUDIENCE;

/// A signing key and everything a test may want to publish or abuse about it.
pub(crate) struct TestKey {
    pub(crate) kid: &'static str,
    pub(crate) encoding: EncodingKey,
    pub(crate) jwk: Value,
    /// Public key encodings, for the HMAC-confusion tests.
    pub(crate) public_encodings: Vec<Vec<u8>>,
}

fn rsa_key(kid: &'static str) -> TestKey {
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    use rsa::traits::PublicKeyParts;

    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key generation");
    let pem = private.to_pkcs1_pem(LineEnding::LF).unwrap();
    let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let public = private.to_public_key();
    let jwk = json!({
        "kty": "RSA",
        "kid": kid,
        "use": "sig",
        "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
    });
    let public_encodings = vec![
        public.to_public_key_pem(LineEnding::LF).unwrap().into_bytes(),
        public.to_pkcs1_pem(LineEnding::LF).unwrap().into_bytes(),
        public.to_public_key_der().unwrap().into_vec(),
        public.to_pkcs1_der().unwrap().into_vec(),
        public.n().to_bytes_be(),
    ];
    TestKey { kid, encoding, jwk, public_encodings }
}

fn ec_key(kid: &'static str) -> TestKey {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

    let secret = p256::SecretKey::random(&mut rand::thread_rng());
    let pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
    let encoding = EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
    let public = secret.public_key();
    let point = public.to_encoded_point(false);
    let jwk = json!({
        "kty": "EC",
        "kid": kid,
        "crv": "P-256",
        "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
        "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
    });
    let public_encodings =
        vec![public.to_public_key_pem(LineEnding::LF).unwrap().into_bytes(), point.as_bytes().to_vec()];
    TestKey { kid, encoding, jwk, public_encodings }
}

/// The main RSA key, published in the default key set.
pub(crate) fn rsa_1() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| rsa_key("rsa-1"))
}

/// A second RSA key: a stranger by default, the rotated-in key in discovery tests.
pub(crate) fn rsa_2() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| rsa_key("rsa-2"))
}

/// A P-256 key, published in the default key set.
pub(crate) fn ec_1() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| ec_key("ec-1"))
}

pub(crate) fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Valid claims for the default app, granting `permissions`.
pub(crate) fn claims(permissions: &[&str]) -> Value {
    let now = now();
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "auth0|user-1",
        "iat": now,
        "exp": now + 600,
        "permissions": permissions,
    })
}

/// Like [`claims`], for the subject `sub`.
pub(crate) fn claims_as(sub: &str, permissions: &[&str]) -> Value {
    let mut claims = claims(permissions);
    claims["sub"] = json!(sub);
    claims
}

/// The seeded project-manager role's permissions.
pub(crate) const PROJECT_MANAGER: &[&str] = &["read:project-list", "create:project"];
/// The seeded admin role's permissions.
pub(crate) const ADMIN: &[&str] =
    &["read:project-list", "read:user-list", "create:project", "delete:project", "update:user-roles"];

/// Every permission the two lists need.
pub(crate) fn all_claims() -> Value {
    claims(&["read:project-list", "read:user-list"])
}

pub(crate) fn header(alg: Algorithm, kid: Option<&str>) -> Header {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    header
}

/// Signs with `key` under its own `kid`.
pub(crate) fn sign_with(key: &TestKey, alg: Algorithm, claims: &Value) -> String {
    jsonwebtoken::encode(&header(alg, Some(key.kid)), claims, &key.encoding).unwrap()
}

/// The everyday token: RS256 with the main key.
pub(crate) fn sign(claims: &Value) -> String {
    sign_with(rsa_1(), Algorithm::RS256, claims)
}

/// A token assembled by hand from a header and claims, with any signature.
pub(crate) fn hand_built(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

pub(crate) struct TestApp {
    pub(crate) router: Router,
    pub(crate) store: Store,
    pub(crate) db_path: std::path::PathBuf,
    _dir: TempDir,
}

pub(crate) struct TestResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) raw: Bytes,
    /// The body as JSON, or `Null` when it is not JSON.
    pub(crate) body: Value,
}

impl TestResponse {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The list's total, from [`contract::api::TOTAL_COUNT_HEADER`].
    pub(crate) fn total_count(&self) -> u64 {
        let total = self.header(contract::api::TOTAL_COUNT_HEADER).expect("a list's total");
        total.parse().expect("a whole number")
    }

    /// Asserts a `401 invalid_token` whose description contains `reason`.
    #[track_caller]
    pub(crate) fn assert_invalid_token(&self, reason: &str) {
        assert_eq!(self.status, StatusCode::UNAUTHORIZED, "{:?}", self.body);
        assert_eq!(self.body["error"], "invalid_token", "{:?}", self.body);
        let description = self.body["error_description"].as_str().unwrap();
        assert!(description.contains(reason), "expected {reason:?} in {description:?}");
        let challenge = self.header("www-authenticate").expect("a WWW-Authenticate challenge");
        assert_eq!(
            challenge,
            format!(r#"Bearer realm="api", error="invalid_token", error_description="{description}""#)
        );
    }

    /// Asserts a `403 insufficient_scope` naming `scope`, in the challenge and the body.
    #[track_caller]
    pub(crate) fn assert_insufficient_scope(&self, scope: &str) {
        assert_eq!(self.status, StatusCode::FORBIDDEN, "{:?}", self.body);
        assert_eq!(self.body["error"], "insufficient_scope", "{:?}", self.body);
        assert!(self.body["error_description"].as_str().unwrap().contains(scope), "{:?}", self.body);
        assert_eq!(
            self.header("www-authenticate"),
            Some(format!(r#"Bearer realm="api", error="insufficient_scope", scope="{scope}""#).as_str())
        );
    }

    /// Asserts a `422 invalid_request` about `field` whose description contains `reason`.
    #[track_caller]
    pub(crate) fn assert_invalid(&self, field: &str, reason: &str) {
        assert_eq!(self.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", self.body);
        assert_eq!(self.body["error"], "invalid_request", "{:?}", self.body);
        assert_eq!(self.body["field"], field, "{:?}", self.body);
        let description = self.body["error_description"].as_str().unwrap();
        assert!(description.contains(reason), "expected {reason:?} in {description:?}");
    }

    /// Asserts a 4xx (never a 5xx) with a JSON error body of code `error`.
    #[track_caller]
    pub(crate) fn assert_error(&self, status: StatusCode, error: &str) {
        assert_eq!(self.status, status, "{:?}", String::from_utf8_lossy(&self.raw));
        assert_eq!(self.body["error"], error, "{:?}", self.body);
        assert!(self.body["error_description"].is_string(), "{:?}", self.body);
    }

    #[track_caller]
    pub(crate) fn assert_ok_array(&self) -> &Vec<Value> {
        assert_eq!(self.status, StatusCode::OK, "{:?}", self.body);
        self.body.as_array().expect("a JSON array body")
    }
}

/// A store in a fresh temporary directory.
pub(crate) async fn fresh_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("app.db")).await.unwrap();
    (dir, store)
}

/// The default key set: the main RSA key and the P-256 key.
pub(crate) fn default_keys() -> KeySet {
    KeySet::from_jwks(&json!({"keys": [rsa_1().jwk, ec_1().jwk]})).unwrap()
}

pub(crate) fn default_config() -> VerifierConfig {
    VerifierConfig::new(Issuer::parse(ISSUER).unwrap(), AUDIENCE)
}

/// An app over a fresh database, with the default key set.
pub(crate) async fn test_app() -> TestApp {
    test_app_with(|_| {}).await
}

/// Like [`test_app`], with the verifier configuration adjusted.
pub(crate) async fn test_app_with(configure: impl FnOnce(&mut VerifierConfig)) -> TestApp {
    let mut config = default_config();
    configure(&mut config);
    app_with_verifier(Verifier::new(config, KeyStore::fixed(default_keys()))).await
}

pub(crate) async fn app_with_verifier(verifier: Verifier) -> TestApp {
    app_with_state(verifier, |state| state).await
}

/// Like [`app_with_verifier`], with the app state adjusted.
pub(crate) async fn app_with_state(verifier: Verifier, configure: impl FnOnce(AppState) -> AppState) -> TestApp {
    let (dir, store) = fresh_store().await;
    let router = app(configure(AppState::new(store.clone(), Arc::new(verifier))));
    TestApp { router, store, db_path: dir.path().join("app.db"), _dir: dir }
}

impl TestApp {
    pub(crate) async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        let mut request = Request::get(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// A request with a JSON body (`Content-Type: application/json`).
    pub(crate) async fn json(&self, method: Method, path: &str, token: Option<&str>, body: &Value) -> TestResponse {
        self.with_body(method, path, token, Some("application/json"), body.to_string()).await
    }

    /// A request with any body, and a content type if given.
    pub(crate) async fn with_body(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<Body>,
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        self.send(request.body(body.into()).unwrap()).await
    }

    pub(crate) async fn delete(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.with_body(Method::DELETE, path, token, None, Body::empty()).await
    }

    pub(crate) async fn send(&self, request: Request<Body>) -> TestResponse {
        send(&self.router, request).await
    }
}

pub(crate) async fn send(router: &Router, request: Request<Body>) -> TestResponse {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let raw = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    TestResponse { status, headers, raw, body }
}
