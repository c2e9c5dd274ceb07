//! What DPoP costs the API per request, in process: `cargo xtask bench` runs
//! it (release) for its DPoP figures, and it runs alone with
//! `cargo run --release -p api --example dpop_cost -- [--requests N]`.
//!
//! It builds [`api::app`] over a fresh seeded database and a fixed key set,
//! then drives `GET /api/v1/projects` through `oneshot` (no sockets, so only
//! the service's own work is timed): `N` requests with an unbound token as
//! `Bearer`, and `N` with a DPoP-bound token and a fresh proof each. Both
//! tokens are verified once and then come from the token cache, as a
//! browser's repeated token does, so the difference is the proof's checks
//! alone. Proofs are signed before the clock starts (signing is the
//! client's cost). It also times `dpop::verify` by itself, and, for
//! comparison, RustCrypto's P-256 signature check, which `verify` used for
//! ES256 before it moved to ring.
//!
//! The requests are interleaved in rounds (Bearer, then DPoP) so that drift
//! on a shared machine hits both alike; each figure is the median round's
//! mean. The last line of output is JSON, for the bench.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use api::auth::{Issuer, KeySet, KeyStore, Verifier, VerifierConfig};
use api::{AppState, app};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dpop::test_key::TestKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::ecdsa::Signature;
use p256::ecdsa::signature::Signer;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{Value, json};
use tower::ServiceExt;

const ISSUER: &str = "https://issuer.bench";
const HOST: &str = "127.0.0.1:3000";
const PATH: &str = "/api/v1/projects";
const URL: &str = "http://127.0.0.1:3000/api/v1/projects";
const ROUNDS: usize = 5;

/// A fresh proof by `client` for `GET` [`URL`] with `token`.
fn proof(client: &TestKey, token: &str, now: u64) -> String {
    let jti = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
    client.proof(&json!({"jti": jti, "htm": "GET", "htu": URL, "iat": now, "ath": dpop::ath(token)}))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let requests = requests_arg()?;
    let per_round = requests.div_ceil(ROUNDS);

    // The issuer's key (ES256 like the proofs; the token is cached either way).
    // The issuer's key is a P-256 key too; TestKey's JWK publishes it.
    let issuer = TestKey::generate();
    let pem = issuer.signing_key().to_pkcs8_pem(LineEnding::LF).context("encoding the issuer's key")?;
    let encoding = EncodingKey::from_ec_pem(pem.as_bytes()).context("reading the issuer's key")?;
    let mut issuer_jwk = issuer.jwk().clone();
    issuer_jwk["kid"] = json!("bench");
    let keys = KeySet::from_jwks(&json!({"keys": [issuer_jwk]})).context("the key set")?;
    let config = VerifierConfig::new(Issuer::parse(ISSUER)?, permissions::names::API_AUDIENCE);
    let dir = tempfile::tempdir().context("a temporary directory")?;
    let store = store::Store::open(&dir.path().join("app.db")).await.context("opening the store")?;
    let router = app(AppState::new(store, Arc::new(Verifier::new(config, KeyStore::fixed(keys)))));

    let client = TestKey::generate();
    let now = jsonwebtoken::get_current_timestamp();
    let token = |cnf: Option<Value>| -> Result<String> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("bench".into());
        let mut claims = json!({
            "iss": ISSUER, "aud": permissions::names::API_AUDIENCE, "sub": "bench",
            "iat": now, "exp": now + 3600, "permissions": ["read:project-list"],
        });
        if let Some(cnf) = cnf {
            claims["cnf"] = cnf;
        }
        jsonwebtoken::encode(&header, &claims, &encoding).context("signing a token")
    };
    let bearer = token(None)?;
    let bound = token(Some(json!({"jkt": dpop::thumbprint(client.jwk())?})))?;

    // Warm-up: both tokens into the cache, the database and allocator warm.
    for _ in 0..200 {
        call(&router, "Bearer", &bearer, None).await?;
        let now = jsonwebtoken::get_current_timestamp();
        call(&router, "DPoP", &bound, Some(proof(&client, &bound, now))).await?;
    }

    let (mut bearer_us, mut dpop_us, mut verify_us, mut p256_us) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for _ in 0..per_round {
            call(&router, "Bearer", &bearer, None).await?;
        }
        bearer_us.push(micros_per(started, per_round));

        let now = jsonwebtoken::get_current_timestamp();
        let proofs: Vec<String> = (0..per_round).map(|_| proof(&client, &bound, now)).collect();
        let started = Instant::now();
        for proof in &proofs {
            call(&router, "DPoP", &bound, Some(proof.clone())).await?;
        }
        dpop_us.push(micros_per(started, per_round));

        // `verify` alone, on the same kind of proof (no replay cache: it is the caller's).
        let now = jsonwebtoken::get_current_timestamp();
        let proofs: Vec<String> = (0..per_round).map(|_| proof(&client, &bound, now)).collect();
        let expected = dpop::Expected { htm: "GET", htus: &[URL], access_token: Some(&bound), nonce: None, now };
        let window = dpop::Window::default();
        let started = Instant::now();
        for proof in &proofs {
            dpop::verify(proof, &expected, &window).context("a valid proof")?;
        }
        verify_us.push(micros_per(started, per_round));

        // RustCrypto's P-256 signature check by itself: what `verify` spent on ES256 before ring.
        let signed: Vec<(Vec<u8>, Signature)> = (0..per_round)
            .map(|i| {
                let message = format!("message {i}").into_bytes();
                let signature = client.signing_key().sign(&message);
                (message, signature)
            })
            .collect();
        let verifying = client.signing_key().verifying_key();
        let started = Instant::now();
        for (message, signature) in &signed {
            p256::ecdsa::signature::Verifier::verify(verifying, message, signature).context("a valid signature")?;
        }
        p256_us.push(micros_per(started, per_round));
    }

    let (bearer_us, dpop_us, verify_us, p256_us) =
        (median(bearer_us), median(dpop_us), median(verify_us), median(p256_us));
    println!("in-process GET {PATH}, {} requests each, median of {ROUNDS} rounds:", per_round * ROUNDS);
    println!("  Bearer (cached token):              {bearer_us:8.1} µs/request");
    println!("  DPoP (cached token + fresh proof):  {dpop_us:8.1} µs/request");
    println!("  difference:                         {:8.1} µs/request", dpop_us - bearer_us);
    println!("  dpop::verify alone (ES256):         {verify_us:8.1} µs/proof");
    println!("  RustCrypto's P-256 check (before ring): {p256_us:8.1} µs");
    let result = json!({
        "requests": per_round * ROUNDS,
        "bearer_us": bearer_us,
        "dpop_us": dpop_us,
        "difference_us": dpop_us - bearer_us,
        "verify_us": verify_us,
        "p256_verify_us": p256_us,
    });
    println!("{result}");
    Ok(())
}

/// One request through the router; anything but `200` is an error (the figures would be of refusals).
async fn call(router: &Router, scheme: &str, token: &str, proof: Option<String>) -> Result<()> {
    let mut request =
        Request::get(PATH).header(header::HOST, HOST).header(header::AUTHORIZATION, format!("{scheme} {token}"));
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    let response = router.clone().oneshot(request.body(Body::empty())?).await?;
    if response.status() != StatusCode::OK {
        bail!("{scheme} request answered {}", response.status());
    }
    // The body is part of the answer's cost.
    axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    Ok(())
}

fn micros_per(started: Instant, count: usize) -> f64 {
    started.elapsed().as_secs_f64() * 1e6 / count.max(1) as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// `--requests N` (default 5,000): requests per kind, spread over the rounds.
fn requests_arg() -> Result<usize> {
    let mut args = std::env::args().skip(1);
    let mut requests = 5_000;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--requests" => {
                let value = args.next().context("--requests needs a number")?;
                requests = value.parse().with_context(|| format!("--requests {value:?} is not a number"))?;
            }
            other => bail!("unknown argument {other:?} (only --requests N)"),
        }
    }
    if requests == 0 {
        bail!("--requests must be at least 1");
    }
    Ok(requests)
}
