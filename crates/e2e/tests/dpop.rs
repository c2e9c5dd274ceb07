//! Sender-constrained tokens (DPoP, RFC 9449) end to end (issue 10): the SPA signs in against dev-idp, which
//! advertises DPoP, so its tokens are bound to a key the browser keeps and cannot give away. The tests capture
//! what the SPA sends to the api (the SPA origin's proxy records it) and use it from outside the browser, as a
//! thief who copied it would: the same request again, the access token as a Bearer token, a fresh proof by
//! another key, the refresh token without the browser's key. Each is refused. A reload, a second tab and a
//! renewal keep one key; sign-out drops it.

use anyhow::{Context, Result, ensure};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use contract::api::PROJECTS;
use dpop::test_key::TestKey;
use e2e::spa_server::ProxiedRequest;
use e2e::{Browser, Harness, api_path};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

mod session_support;
use session_support::{SHORT_TOKEN_TTL, renewals_timeout, require_refresh_token, wait_for_rotations};

fn part(jwt: &str, index: usize) -> Result<Value> {
    let text = jwt.split('.').nth(index).with_context(|| format!("{jwt:?} is not a JWS"))?;
    let bytes = URL_SAFE_NO_PAD.decode(text).with_context(|| format!("part {index} of {jwt:?} is not base64url"))?;
    serde_json::from_slice(&bytes).with_context(|| format!("part {index} of {jwt:?} is not JSON"))
}

fn b64_sha256(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

/// RFC 7638: the thumbprint of an EC public JWK.
fn thumbprint(jwk: &Value) -> String {
    b64_sha256(&format!(r#"{{"crv":{},"kty":{},"x":{},"y":{}}}"#, jwk["crv"], jwk["kty"], jwk["x"], jwk["y"]))
}

/// A thief's own P-256 key, signing proofs as RFC 9449 says a client does.
struct OtherKey(TestKey);

impl OtherKey {
    fn new() -> OtherKey {
        OtherKey(TestKey::generate())
    }

    fn proof(&self, method: &str, htu: &str, access_token: Option<&str>) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        let mut claims =
            json!({ "jti": format!("thief-{now}-{}", rand::random::<u64>()), "htm": method, "htu": htu, "iat": now });
        if let Some(token) = access_token {
            claims["ath"] = json!(b64_sha256(token));
        }
        self.0.proof(&claims)
    }
}

/// The SPA's latest GET of the Project List, as the api received it.
fn latest_list_request(harness: &Harness) -> Result<ProxiedRequest> {
    harness
        .proxied_requests()
        .into_iter()
        .rev()
        .find(|r| r.method == "GET" && r.path_and_query.starts_with(&api_path(PROJECTS)))
        .context("the SPA sent no GET of the Project List through its origin")
}

/// The access token and proof of `request`, which must be a DPoP request.
fn dpop_parts(request: &ProxiedRequest) -> Result<(String, String)> {
    let authorization = request.authorization.as_deref().context("the SPA's API request has no Authorization")?;
    let token = authorization
        .strip_prefix("DPoP ")
        .with_context(|| format!("the SPA's API request is not DPoP-bound: Authorization {authorization:?}"))?;
    let proof = request.dpop.clone().context("the SPA's API request carries no DPoP proof")?;
    Ok((token.to_owned(), proof))
}

/// Sends `GET path` to the api through the SPA's origin with these headers, from outside the browser.
async fn replay(
    harness: &Harness,
    path: &str,
    authorization: &str,
    proof: Option<&str>,
) -> Result<(StatusCode, String)> {
    let client = reqwest::Client::new();
    let mut request = client.request(Method::GET, harness.spa_url(path)).header("Authorization", authorization);
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    let response = request.send().await.context("replaying the SPA's request")?;
    let challenge =
        response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    Ok((response.status(), challenge))
}

async fn see_projects(browser: &Browser) -> Result<()> {
    browser.goto("/projects").await?;
    browser.wait_for("project-row").await?;
    Ok(())
}

/// The thumbprint of the key the page's IndexedDB holds for the SPA's client, or `None`.
async fn stored_key_count(browser: &Browser) -> Result<u64> {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const open = indexedDB.open('oidc-login', 1);
        open.onupgradeneeded = () => open.result.createObjectStore('dpop-keys');
        open.onerror = () => done(-1);
        open.onsuccess = () => {
            const db = open.result;
            const count = db.transaction('dpop-keys').objectStore('dpop-keys').count();
            count.onsuccess = () => { db.close(); done(count.result); };
            count.onerror = () => { db.close(); done(-1); };
        };"#;
    let value = browser.client().execute_async(script, vec![]).await.context("reading IndexedDB")?;
    value.as_u64().with_context(|| format!("IndexedDB could not be read: {value}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_calls_carry_a_proof_and_what_a_thief_copies_is_refused_outside_the_browser() -> Result<()> {
    let harness = Harness::start().await?;
    let metadata = harness.provider_metadata().await?;
    ensure!(
        metadata["dpop_signing_alg_values_supported"].as_array().is_some_and(|a| a.contains(&json!("ES256"))),
        "dev-idp does not advertise DPoP with ES256: {metadata}"
    );
    let browser = harness.signed_in_browser("jhon").await?;
    see_projects(&browser).await?;

    let request = latest_list_request(&harness)?;
    let (token, proof) = dpop_parts(&request)?;
    let (header, claims) = (part(&proof, 0)?, part(&proof, 1)?);
    ensure!(header["typ"] == "dpop+jwt" && header["alg"] == "ES256", "proof header {header}");
    ensure!(header["jwk"].get("d").is_none(), "the proof's header carries a private key: {header}");
    let path = request.path_and_query.clone();
    let htu = harness.spa_url(path.split('?').next().unwrap_or_default());
    ensure!(claims["htm"] == "GET" && claims["htu"] == json!(htu), "proof claims {claims}, expected htu {htu}");
    ensure!(claims["ath"] == json!(b64_sha256(&token)), "the proof's ath is not the token's hash: {claims}");
    let key = thumbprint(&header["jwk"]);
    let access = part(&token, 1)?;
    ensure!(access["cnf"]["jkt"] == json!(key), "the access token is not bound to the proof's key: {access}");

    // The same request again, from outside: the proof was used once, by the browser.
    let (status, challenge) = replay(&harness, &path, &format!("DPoP {token}"), Some(&proof)).await?;
    ensure!(
        status == StatusCode::UNAUTHORIZED && challenge.contains("invalid_dpop_proof"),
        "a replayed request got {status} {challenge:?}"
    );
    // The access token alone, as a Bearer token.
    let (status, challenge) = replay(&harness, &path, &format!("Bearer {token}"), None).await?;
    ensure!(status == StatusCode::UNAUTHORIZED, "the bound token sent as Bearer got {status} {challenge:?}");
    // A fresh, well-formed proof for this very request, by a key that is not the browser's.
    let thief = OtherKey::new();
    let forged = thief.proof("GET", &htu, Some(&token));
    let (status, challenge) = replay(&harness, &path, &format!("DPoP {token}"), Some(&forged)).await?;
    ensure!(
        status == StatusCode::UNAUTHORIZED && challenge.contains("invalid_dpop_proof"),
        "a proof by another key got {status} {challenge:?}"
    );

    // The refresh token, read from localStorage as injected script could: useless without the browser's key.
    let refresh_token = require_refresh_token(&browser).await?;
    let answer = harness.refresh_grant(&refresh_token).await?;
    ensure!(
        answer.status == StatusCode::BAD_REQUEST
            && matches!(answer.error(), Some("invalid_grant") | Some("invalid_dpop_proof")),
        "the stolen refresh token without a proof got {} {}",
        answer.status,
        answer.body
    );
    let token_endpoint = metadata["token_endpoint"].as_str().context("no token_endpoint")?;
    let answer = harness
        .token_request_with_proof(
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh_token), ("client_id", e2e::CLIENT_ID)],
            &thief.proof("POST", token_endpoint, None),
        )
        .await?;
    ensure!(
        answer.status == StatusCode::BAD_REQUEST && answer.error() == Some("invalid_grant"),
        "the stolen refresh token with another key's proof got {} {}",
        answer.status,
        answer.body
    );

    // None of it cost the user the session: a reload renews it with the browser's key, and the list loads.
    browser.refresh().await?;
    browser.wait_for("project-row").await?;
    let after = latest_list_request(&harness)?;
    ensure!(thumbprint(&part(&dpop_parts(&after)?.1, 0)?["jwk"]) == key, "the reload used another key");
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_through_reloads_tabs_and_renewals_and_a_new_one_after_sign_out() -> Result<()> {
    // Short-lived tokens, so that the SPA renews them on its timer within the test.
    let harness = Harness::builder().token_ttl(SHORT_TOKEN_TTL).start().await?;
    let browser = harness.signed_in_browser("jhon").await?;
    see_projects(&browser).await?;
    let first = dpop_parts(&latest_list_request(&harness)?)?;
    let key = thumbprint(&part(&first.1, 0)?["jwk"]);
    ensure!(stored_key_count(&browser).await? == 1, "IndexedDB does not hold one DPoP key");

    let key_of_latest = |what: &str| -> Result<String> {
        let request = latest_list_request(&harness)?;
        let (token, proof) = dpop_parts(&request).with_context(|| format!("after {what}"))?;
        let proof_key = thumbprint(&part(&proof, 0)?["jwk"]);
        ensure!(part(&token, 1)?["cnf"]["jkt"] == json!(proof_key), "after {what}: token and proof disagree");
        Ok(proof_key)
    };
    browser.refresh().await?;
    browser.wait_for("project-row").await?;
    ensure!(key_of_latest("a reload")? == key, "a reload made another key");

    // A renewal on the SPA's timer, in this one tab and without a page load (each page load refreshes by
    // itself): the Project List, shown again by in-app navigation, asks with the renewed token.
    let reloaded = dpop_parts(&latest_list_request(&harness)?)?.0;
    let stored = require_refresh_token(&browser).await?;
    wait_for_rotations(&browser, &stored, 1, renewals_timeout(1)).await?;
    browser.click("nav-users").await?;
    browser.wait_for("user-row").await?;
    browser.click("nav-projects").await?;
    browser.wait_for("project-row").await?;
    let renewed = dpop_parts(&latest_list_request(&harness)?)?.0;
    ensure!(renewed != reloaded, "the Project List was asked for with the token from before the renewal");
    ensure!(key_of_latest("a renewal")? == key, "a renewal bound the new token to another key");

    browser.open_tab().await?;
    see_projects(&browser).await?;
    ensure!(key_of_latest("a second tab")? == key, "a second tab made another key");

    // Sign-out drops the key; the next sign-in gets another.
    browser.click("logout-button").await?;
    browser.wait_for("login-button").await?;
    ensure!(stored_key_count(&browser).await? == 0, "sign-out left the DPoP key in IndexedDB");
    browser.sign_in_as("jhon").await?;
    see_projects(&browser).await?;
    ensure!(key_of_latest("signing in again")? != key, "signing in again reused the signed-out key");
    browser.close().await
}
