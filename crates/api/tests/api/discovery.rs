//! The real discovery and JWKS fetch path, against a tiny issuer served on
//! 127.0.0.1:0: Auth0-style trailing-slash issuer, key rotation with refetch
//! on an unknown `kid`, the rate limit, single-flight, an issuer that is
//! not up yet, and one that accepts requests and never answers them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api::auth::{DEFAULT_FETCH_TIMEOUT, FetchError, Issuer, KeyStore, RefreshOptions, Verifier, VerifierConfig};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::support::*;

const PROJECTS: &str = "/api/v1/projects";

/// A minimal issuer: a discovery document and a JWKS the test can change (other modules use it too).
pub(crate) struct FakeIssuer {
    pub(crate) issuer: String,
    jwks_uri: Mutex<String>,
    /// What the discovery document claims as `issuer` (normally `issuer`).
    advertised_issuer: Mutex<String>,
    jwks: Mutex<Value>,
    up: AtomicBool,
    /// Accepts each request and never answers it (a hung issuer, or a proxy that black-holes it).
    silent: AtomicBool,
    discovery_hits: AtomicUsize,
    jwks_hits: AtomicUsize,
    /// Requests for any other path: a doubled slash would land here.
    stray_paths: Mutex<Vec<String>>,
}

impl FakeIssuer {
    fn set_keys(&self, keys: &[&TestKey]) {
        *self.jwks.lock().unwrap() = json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()});
    }

    fn jwks_hits(&self) -> usize {
        self.jwks_hits.load(Ordering::SeqCst)
    }

    /// While the issuer is silent: the request has been read, and is never answered.
    async fn hang_if_silent(&self) {
        if self.silent.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
    }
}

async fn discovery(State(fake): State<Arc<FakeIssuer>>) -> Response {
    fake.discovery_hits.fetch_add(1, Ordering::SeqCst);
    fake.hang_if_silent().await;
    if !fake.up.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let issuer = fake.advertised_issuer.lock().unwrap().clone();
    let jwks_uri = fake.jwks_uri.lock().unwrap().clone();
    Json(json!({"issuer": issuer, "jwks_uri": jwks_uri, "response_types_supported": ["code"]})).into_response()
}

async fn jwks(State(fake): State<Arc<FakeIssuer>>) -> Response {
    fake.jwks_hits.fetch_add(1, Ordering::SeqCst);
    fake.hang_if_silent().await;
    if !fake.up.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    // A little latency, so that concurrent refreshes really overlap.
    tokio::time::sleep(Duration::from_millis(50)).await;
    Json(fake.jwks.lock().unwrap().clone()).into_response()
}

async fn stray(State(fake): State<Arc<FakeIssuer>>, uri: Uri) -> StatusCode {
    fake.stray_paths.lock().unwrap().push(uri.to_string());
    StatusCode::NOT_FOUND
}

/// Serves a fake issuer whose identifier ends with a slash, as Auth0's does.
pub(crate) async fn start_issuer(keys: &[&TestKey]) -> Arc<FakeIssuer> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let issuer = format!("http://{addr}/");
    let fake = Arc::new(FakeIssuer {
        advertised_issuer: Mutex::new(issuer.clone()),
        jwks_uri: Mutex::new(format!("http://{addr}/.well-known/jwks.json")),
        issuer,
        jwks: Mutex::new(Value::Null),
        up: AtomicBool::new(true),
        silent: AtomicBool::new(false),
        discovery_hits: AtomicUsize::new(0),
        jwks_hits: AtomicUsize::new(0),
        stray_paths: Mutex::new(Vec::new()),
    });
    fake.set_keys(keys);
    let router = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/.well-known/jwks.json", get(jwks))
        .route(
            "/moved-off-this-machine",
            get(|| async { axum::response::Redirect::temporary("http://192.0.2.1/jwks.json") }),
        )
        .fallback(stray)
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    fake
}

fn remote_verifier(fake: &FakeIssuer, options: RefreshOptions) -> Verifier {
    verifier_for(&fake.issuer, options, DEFAULT_FETCH_TIMEOUT)
}

/// A verifier that discovers `issuer`'s keys, each fetch bounded by `timeout`.
fn verifier_for(issuer: &str, options: RefreshOptions, timeout: Duration) -> Verifier {
    let issuer = Issuer::parse(issuer).unwrap();
    let keys = KeyStore::discover(issuer.clone(), KeyStore::http_client(timeout).unwrap(), options);
    Verifier::new(VerifierConfig::new(issuer, AUDIENCE), keys)
}

pub(crate) fn claims_for(fake: &FakeIssuer) -> Value {
    let mut claims = all_claims();
    claims["iss"] = json!(fake.issuer);
    claims
}

const SLOW_REFRESH: RefreshOptions = RefreshOptions {
    cooldown_after_miss: Duration::from_secs(600),
    retry_interval_while_unavailable: Duration::from_secs(600),
};

/// No cooldown at all: every unknown `kid` may refetch (what limits fetches then is the single flight alone).
const NO_COOLDOWN: RefreshOptions =
    RefreshOptions { cooldown_after_miss: Duration::ZERO, retry_interval_while_unavailable: Duration::ZERO };

#[tokio::test]
async fn trailing_slash_issuer_discovery_and_key_rotation() {
    let fake = start_issuer(&[rsa_1()]).await;
    let verifier = remote_verifier(&fake, SLOW_REFRESH);
    assert_eq!(verifier.keys().load().await.unwrap(), 1);
    let app = app_with_verifier(verifier).await;

    let before_rotation = sign_with(rsa_1(), Algorithm::RS256, &claims_for(&fake));
    app.get(PROJECTS, Some(&before_rotation)).await.assert_ok_array();
    assert_eq!(fake.jwks_hits(), 1);

    // The issuer rotates: the new key is published, the old one withdrawn.
    fake.set_keys(&[rsa_2()]);
    let after_rotation = sign_with(rsa_2(), Algorithm::RS256, &claims_for(&fake));
    app.get(PROJECTS, Some(&after_rotation)).await.assert_ok_array();
    assert_eq!(fake.jwks_hits(), 2, "one refetch for the new kid");
    app.get(PROJECTS, Some(&after_rotation)).await.assert_ok_array();
    assert_eq!(fake.jwks_hits(), 2, "the new key is cached");

    // The withdrawn key no longer verifies anything, even a token that was
    // accepted (and cached) before the rotation.
    app.get(PROJECTS, Some(&before_rotation)).await.assert_invalid_token("unknown key");

    // An unknown kid: one refetch, which misses, and starts the cooldown.
    let unknown = |kid: &str| {
        jsonwebtoken::encode(&header(Algorithm::RS256, Some(kid)), &claims_for(&fake), &rsa_2().encoding).unwrap()
    };
    app.get(PROJECTS, Some(&unknown("rsa-3"))).await.assert_invalid_token("unknown key");
    assert_eq!(fake.jwks_hits(), 3, "a refetch for the unknown kid");
    // Another within the cooldown: no fetch.
    app.get(PROJECTS, Some(&unknown("rsa-4"))).await.assert_invalid_token("unknown key");
    assert_eq!(fake.jwks_hits(), 3, "rate-limited after a miss");

    assert_eq!(fake.discovery_hits.load(Ordering::SeqCst), 1, "discovery is done once");
    assert!(fake.stray_paths.lock().unwrap().is_empty(), "{:?}", fake.stray_paths.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_unknown_kids_cause_one_fetch() {
    let fake = start_issuer(&[rsa_1()]).await;
    // No cooldown: what keeps the 16 requests to one fetch here is the
    // single flight alone (waiters find the set already replaced).
    let verifier = remote_verifier(&fake, NO_COOLDOWN);
    verifier.keys().load().await.unwrap();
    let app = Arc::new(app_with_verifier(verifier).await);
    fake.set_keys(&[rsa_1(), rsa_2()]);

    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let app = app.clone();
            let mut claims = claims_for(&fake);
            claims["jti"] = json!(i);
            let token = sign_with(rsa_2(), Algorithm::RS256, &claims);
            tokio::spawn(async move { app.get(PROJECTS, Some(&token)).await.status })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(fake.jwks_hits(), 2, "the initial load and exactly one refetch");
}

#[tokio::test]
async fn an_issuer_not_up_yet_gives_503_then_works() {
    let fake = start_issuer(&[rsa_1()]).await;
    fake.up.store(false, Ordering::SeqCst);
    let options = RefreshOptions {
        cooldown_after_miss: Duration::from_secs(600),
        retry_interval_while_unavailable: Duration::from_millis(100),
    };
    let verifier = remote_verifier(&fake, options);
    assert!(matches!(verifier.keys().load().await, Err(FetchError::Status { .. })));
    let app = app_with_verifier(verifier).await;
    let token = sign_with(rsa_1(), Algorithm::RS256, &claims_for(&fake));

    let response = app.get(PROJECTS, Some(&token)).await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.body["error"], "temporarily_unavailable");
    assert_eq!(response.header("retry-after"), Some("5"));
    // Requests without a token are still told to authenticate, and the
    // health check does not depend on the issuer.
    assert_eq!(app.get(PROJECTS, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);

    fake.up.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(150)).await;
    app.get(PROJECTS, Some(&token)).await.assert_ok_array();
}

#[tokio::test]
async fn start_up_retries_until_the_issuer_answers() {
    let fake = start_issuer(&[rsa_1()]).await;
    fake.up.store(false, Ordering::SeqCst);
    let verifier = remote_verifier(&fake, RefreshOptions::default());
    let waker = fake.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        waker.up.store(true, Ordering::SeqCst);
    });
    assert!(verifier.keys().load_with_retries(Duration::from_secs(20)).await);
    assert!(fake.discovery_hits.load(Ordering::SeqCst) >= 2, "it retried");
    assert_eq!(verifier.keys().current().len(), 1);
}

#[tokio::test]
async fn a_discovery_document_for_another_issuer_is_refused() {
    let fake = start_issuer(&[rsa_1()]).await;
    // The same issuer without its trailing slash is a different issuer.
    let without_slash = fake.issuer.trim_end_matches('/').to_owned();
    *fake.advertised_issuer.lock().unwrap() = without_slash;
    let verifier = remote_verifier(&fake, SLOW_REFRESH);
    assert!(matches!(verifier.keys().load().await, Err(FetchError::IssuerMismatch { .. })));
    assert_eq!(fake.jwks_hits(), 0, "no keys are fetched from an unverified document");
    let app = app_with_verifier(verifier).await;
    let token = sign_with(rsa_1(), Algorithm::RS256, &claims_for(&fake));
    assert_eq!(app.get(PROJECTS, Some(&token)).await.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_broken_key_set_keeps_the_previous_one() {
    let fake = start_issuer(&[rsa_1()]).await;
    let verifier = remote_verifier(&fake, NO_COOLDOWN);
    verifier.keys().load().await.unwrap();
    let app = app_with_verifier(verifier).await;
    *fake.jwks.lock().unwrap() = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]});

    // An unknown kid makes the API refetch, which fails; the old key still works.
    let unknown =
        jsonwebtoken::encode(&header(Algorithm::RS256, Some("nope")), &claims_for(&fake), &rsa_1().encoding).unwrap();
    app.get(PROJECTS, Some(&unknown)).await.assert_invalid_token("unknown key");
    assert_eq!(fake.jwks_hits(), 2);
    let mut claims = claims_for(&fake);
    claims["jti"] = json!("fresh");
    app.get(PROJECTS, Some(&sign_with(rsa_1(), Algorithm::RS256, &claims))).await.assert_ok_array();
}

#[tokio::test]
async fn keys_are_never_fetched_over_plain_http_off_this_machine() {
    let fake = start_issuer(&[rsa_1()]).await;
    let local = fake.issuer.trim_end_matches('/').to_owned();

    // A jwks_uri that is plain http to another host.
    *fake.jwks_uri.lock().unwrap() = "http://192.0.2.1/jwks.json".to_owned();
    let verifier = remote_verifier(&fake, SLOW_REFRESH);
    assert!(matches!(verifier.keys().load().await, Err(FetchError::InsecureJwksUri(_))));

    // One on this machine that redirects there: the client's redirect
    // policy refuses to follow (192.0.2.1 is TEST-NET-1, never reached).
    *fake.jwks_uri.lock().unwrap() = format!("{local}/moved-off-this-machine");
    let verifier = remote_verifier(&fake, SLOW_REFRESH);
    match verifier.keys().load().await {
        Err(FetchError::Http { reason, .. }) => assert!(reason.contains("off this machine"), "{reason}"),
        other => panic!("expected a refused redirect, got {other:?}"),
    }
    assert_eq!(fake.jwks_hits(), 0);
}

/// Issue 9, item 17: a key rotated in is accepted at once, even right after
/// another refetch, while a storm of unknown `kid`s costs one fetch per
/// cooldown.
#[tokio::test]
async fn back_to_back_rotations_are_picked_up_at_once_and_a_storm_is_rate_limited() {
    let fake = start_issuer(&[rsa_1()]).await;
    // A cooldown far longer than the test: any wait for it would hang here.
    let options = RefreshOptions {
        cooldown_after_miss: Duration::from_secs(600),
        retry_interval_while_unavailable: Duration::ZERO,
    };
    let verifier = remote_verifier(&fake, options);
    verifier.keys().load().await.unwrap();
    let app = app_with_verifier(verifier).await;
    let claims = claims_for(&fake);

    fake.set_keys(&[rsa_1(), rsa_2()]);
    app.get(PROJECTS, Some(&sign_with(rsa_2(), Algorithm::RS256, &claims))).await.assert_ok_array();
    assert_eq!(fake.jwks_hits(), 2);
    // A second rotation right after: the refetch that found rsa-2 started no
    // cooldown, so ec-1's first token is accepted too.
    fake.set_keys(&[rsa_2(), ec_1()]);
    app.get(PROJECTS, Some(&sign_with(ec_1(), Algorithm::ES256, &claims))).await.assert_ok_array();
    assert_eq!(fake.jwks_hits(), 3);

    // A storm of forged kids: the first misses and starts the cooldown, the
    // rest are refused without a fetch.
    for i in 0..50 {
        let forged =
            jsonwebtoken::encode(&header(Algorithm::RS256, Some(&format!("forged-{i}"))), &claims, &rsa_2().encoding)
                .unwrap();
        app.get(PROJECTS, Some(&forged)).await.assert_invalid_token("unknown key");
    }
    assert_eq!(fake.jwks_hits(), 4, "one fetch for the whole storm");
}

/// The default cooldown is a few seconds: a token signed by a key rotated in
/// during a storm waits at most that long (the aim is 5 s or less).
#[test]
fn the_default_cooldown_is_at_most_five_seconds() {
    let defaults = RefreshOptions::default();
    assert!(defaults.cooldown_after_miss <= Duration::from_secs(5), "{defaults:?}");
    assert!(defaults.cooldown_after_miss >= Duration::from_secs(1), "a cooldown that still limits a storm");
}

/// Issue 9, "Faults": the issuer goes down while the API runs. Tokens under the keys in hand keep working; a new
/// `kid` is refused as unknown (not a 5xx, not a hang); once the issuer is back, the next new `kid` is fetched
/// and accepted, with no restart.
#[tokio::test]
async fn an_issuer_that_goes_down_while_the_api_runs_costs_only_new_keys_until_it_is_back() {
    let fake = start_issuer(&[rsa_1()]).await;
    let verifier = remote_verifier(&fake, NO_COOLDOWN);
    verifier.keys().load().await.unwrap();
    let app = app_with_verifier(verifier).await;
    let known = sign_with(rsa_1(), Algorithm::RS256, &claims_for(&fake));
    app.get(PROJECTS, Some(&known)).await.assert_ok_array();

    fake.up.store(false, Ordering::SeqCst);
    fake.set_keys(&[rsa_1(), rsa_2()]);
    let mut claims = claims_for(&fake);
    claims["jti"] = json!("after the outage began");
    app.get(PROJECTS, Some(&sign_with(rsa_1(), Algorithm::RS256, &claims))).await.assert_ok_array();
    let rotated = sign_with(rsa_2(), Algorithm::RS256, &claims_for(&fake));
    app.get(PROJECTS, Some(&rotated)).await.assert_invalid_token("unknown key");

    fake.up.store(true, Ordering::SeqCst);
    app.get(PROJECTS, Some(&rotated)).await.assert_ok_array();
}

/// How long the tests below let one request to a silent issuer run.
const SHORT_FETCH_TIMEOUT: Duration = Duration::from_millis(500);

/// Issue 9, "Faults": an issuer that accepts the TCP connection and never answers (a hung process, a proxy that
/// black-holes it), while the API has no keys yet. The fetch gives up after the client's timeout, and the token
/// waiting on it is answered `503` with `Retry-After`, not held for as long as the issuer keeps the connection.
#[tokio::test]
async fn an_issuer_that_accepts_and_never_answers_gives_503_within_the_fetch_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}/", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        // Each connection is kept open, never read from nor written to.
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    let app = app_with_verifier(verifier_for(&issuer, NO_COOLDOWN, SHORT_FETCH_TIMEOUT)).await;
    let mut claims = all_claims();
    claims["iss"] = json!(issuer);
    let token = sign(&claims);

    let started = std::time::Instant::now();
    let response = tokio::time::timeout(Duration::from_secs(10), app.get(PROJECTS, Some(&token)))
        .await
        .expect("the request is answered, not held while the issuer holds the connection");
    let waited = started.elapsed();
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", response.body);
    assert_eq!(response.body["error"], "temporarily_unavailable");
    assert_eq!(response.header("retry-after"), Some("5"));
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "the issuer took the connection: the wait was for its answer");
    assert!(waited >= SHORT_FETCH_TIMEOUT, "answered after {waited:?}, before the fetch could time out");
    assert!(waited < Duration::from_secs(3), "answered after {waited:?}, long past the fetch timeout");
}

/// Issue 9, "Faults": the issuer goes silent while the API runs. A refetch for a new `kid` is abandoned after the
/// fetch timeout (`401 unknown key`); meanwhile tokens under the keys in hand are answered at once, not queued
/// behind it; and once the issuer answers again the new key is fetched and accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refetch_from_an_issuer_gone_silent_times_out_without_holding_up_known_keys() {
    let fake = start_issuer(&[rsa_1()]).await;
    let verifier = verifier_for(&fake.issuer, NO_COOLDOWN, SHORT_FETCH_TIMEOUT);
    verifier.keys().load().await.unwrap();
    let app = Arc::new(app_with_verifier(verifier).await);
    let known = sign_with(rsa_1(), Algorithm::RS256, &claims_for(&fake));
    app.get(PROJECTS, Some(&known)).await.assert_ok_array();

    fake.set_keys(&[rsa_1(), rsa_2()]);
    fake.silent.store(true, Ordering::SeqCst);
    let rotated = sign_with(rsa_2(), Algorithm::RS256, &claims_for(&fake));
    let started = std::time::Instant::now();
    let waiting = tokio::spawn({
        let (app, rotated) = (app.clone(), rotated.clone());
        async move { app.get(PROJECTS, Some(&rotated)).await }
    });
    while fake.jwks_hits() < 2 {
        assert!(started.elapsed() < Duration::from_secs(5), "the refetch never reached the issuer");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let mut claims = claims_for(&fake);
    claims["jti"] = json!("during the silence");
    app.get(PROJECTS, Some(&sign_with(rsa_1(), Algorithm::RS256, &claims))).await.assert_ok_array();
    assert!(!waiting.is_finished(), "the known key was answered while the refetch still hung");

    let response = tokio::time::timeout(Duration::from_secs(10), waiting).await.expect("not held").unwrap();
    assert!(started.elapsed() >= SHORT_FETCH_TIMEOUT);
    response.assert_invalid_token("unknown key");

    fake.silent.store(false, Ordering::SeqCst);
    app.get(PROJECTS, Some(&rotated)).await.assert_ok_array();
}
