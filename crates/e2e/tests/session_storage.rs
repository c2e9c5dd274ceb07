//! "The access token is never written to any storage" (README, where the session lives): after a sign-in, a
//! renewal and a reload, no storage the browser keeps for the SPA — `localStorage`, `sessionStorage`, IndexedDB,
//! Cache Storage, `history.state`, any cookie — holds an access token or an ID token the SPA received. Only the
//! refresh token is in `localStorage`, by design.
//!
//! To know the real tokens, the test watches the page's own calls to dev-idp's token endpoint: a script that
//! runs before the SPA in every document of the tab wraps `fetch` and keeps a copy of each token response in a
//! page global (memory, like the SPA's own copy). That the copies are the real thing is checked: the access
//! token works at the api, the ID token names jhon for the SPA's client.

mod session_support;

use anyhow::{Context, Result, ensure};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use e2e::browser::StoredItem;
use e2e::{Browser, CLIENT_ID, Harness};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use session_support::*;

/// Keeps a copy of every answer of the token endpoint (`TOKEN_ENDPOINT` is replaced by its URL as a JSON string) in
/// `window.__e2eTokenResponses`, passing every response on untouched.
const CAPTURE_SCRIPT: &str = r#"
(() => {
  const tokenEndpoint = TOKEN_ENDPOINT;
  const seen = [];
  Object.defineProperty(window, '__e2eTokenResponses', { value: seen });
  const original = window.fetch;
  window.fetch = function (...args) {
    return original.apply(this, args).then((response) => {
      if (response.url.split('?')[0] === tokenEndpoint) {
        response.clone().json().then((body) => seen.push(body), () => {});
      }
      return response;
    });
  };
})();
"#;

/// The tokens of one token-endpoint answer the SPA received.
#[derive(Debug, Clone)]
struct Received {
    access_token: String,
    id_token: String,
}

/// The token responses the current document has seen so far (successful ones, with both tokens).
async fn received_tokens(browser: &Browser) -> Result<Vec<Received>> {
    let value = browser.execute("return window.__e2eTokenResponses || null;", Vec::new()).await?;
    let responses = value.as_array().context("the token-capturing script is not installed in this document")?;
    Ok(responses
        .iter()
        .filter_map(|body| {
            Some(Received {
                access_token: body["access_token"].as_str()?.to_owned(),
                id_token: body["id_token"].as_str()?.to_owned(),
            })
        })
        .collect())
}

/// Waits until the current document has seen at least `count` token responses, and returns them.
async fn wait_for_received(browser: &Browser, count: usize) -> Result<Vec<Received>> {
    browser
        .wait_until(&format!("{count} token response(s) in this document"), browser.timeout(), async || {
            let received = received_tokens(browser).await?;
            Ok((received.len() >= count).then_some(received))
        })
        .await
}

/// The claims of a JWT (its middle part), without checking anything.
fn jwt_claims(jwt: &str) -> Result<Value> {
    let payload = jwt.split('.').nth(1).with_context(|| format!("{jwt:?} is not a JWT"))?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).with_context(|| format!("the payload of {jwt:?} is not base64url"))?;
    serde_json::from_slice(&bytes).with_context(|| format!("the payload of {jwt:?} is not JSON"))
}

/// Checks that `received` are tokens dev-idp issued to the SPA for jhon: the access token is accepted by the
/// api, the ID token is for the SPA's client and names jhon.
async fn ensure_real(harness: &Harness, received: &Received) -> Result<()> {
    let answer = harness.api_call(Method::GET, "/api/v1/projects", Some(&received.access_token), None).await?;
    ensure!(answer.status == StatusCode::OK, "the captured access token is refused by the api: {answer:?}");
    let claims = jwt_claims(&received.id_token)?;
    ensure!(
        claims["aud"] == json!(CLIENT_ID) || claims["aud"].as_array().is_some_and(|a| a.contains(&json!(CLIENT_ID))),
        "the captured ID token is not for {CLIENT_ID}: {claims}"
    );
    ensure!(claims["name"] == json!("Jhon Smith"), "the captured ID token does not name jhon: {claims}");
    Ok(())
}

/// Fails if any stored item holds any of the tokens, or the signature part of one (a token stored in pieces).
fn ensure_not_stored(items: &[StoredItem], tokens: &[Received], when: &str) -> Result<()> {
    for token in tokens {
        for (kind, jwt) in [("access token", &token.access_token), ("ID token", &token.id_token)] {
            let signature = jwt.rsplit('.').next().unwrap_or(jwt);
            for item in items {
                ensure!(
                    !item.value.contains(jwt.as_str())
                        && !item.value.contains(signature)
                        && !item.key.contains(signature),
                    "{when}: {} `{}` holds the {kind} the SPA received",
                    item.area,
                    item.key
                );
            }
        }
    }
    Ok(())
}

/// Reads the storage and checks it against every token received so far. The scan must see the refresh token
/// in `localStorage` (which is allowed there): proof that it reads the SPA's storage at all.
async fn scan(browser: &Browser, tokens: &[Received], when: &str) -> Result<()> {
    let items = browser.stored_items().await?;
    let refresh_token = require_refresh_token(browser).await?;
    ensure!(
        items
            .iter()
            .any(|item| item.area == "localStorage" && item.key == REFRESH_KEY && item.value.contains(&refresh_token)),
        "{when}: the storage scan did not see the refresh token in localStorage, so it does not read the SPA's \
         storage: {items:?}"
    );
    ensure!(
        items.iter().any(|item| item.area == "cookie"),
        "{when}: the storage scan saw no cookie at all, not even the provider's session: {items:?}"
    );
    ensure!(!tokens.is_empty(), "{when}: no token was captured to look for");
    ensure_not_stored(&items, tokens, when)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_and_id_tokens_are_never_in_storage() -> Result<()> {
    let harness = Harness::builder().token_ttl(SHORT_TOKEN_TTL).start().await?;
    // The captured access token is sent to the api from outside the browser (`ensure_real`): a Bearer token.
    harness.bearer_tokens_only();
    let metadata = harness.provider_metadata().await?;
    let token_endpoint = metadata["token_endpoint"].as_str().context("no token_endpoint")?.to_owned();
    let browser = harness.browser().await?;
    browser
        .add_script_for_new_documents(&CAPTURE_SCRIPT.replace("TOKEN_ENDPOINT", &json!(token_endpoint).to_string()))
        .await?;
    browser.goto("/").await?;
    browser.sign_in_as("jhon").await?;

    // The code exchange, in the callback's document (still on screen: the SPA only replaced its URL).
    let mut all = wait_for_received(&browser, 1).await?;
    ensure_real(&harness, &all[0]).await?;
    see_projects_in_app(&browser).await?;
    scan(&browser, &all, "after sign-in").await?;

    // A renewal brings a new pair.
    let before = require_refresh_token(&browser).await?;
    wait_for_rotations(&browser, &before, 1, renewals_timeout(1)).await?;
    all = wait_for_received(&browser, 2).await?;
    ensure_real(&harness, &all[1]).await?;
    ensure!(all[1].access_token != all[0].access_token, "the renewal brought the same access token");
    see_projects_in_app(&browser).await?;
    scan(&browser, &all, "after a renewal").await?;

    // A reload restores the session from the refresh token: a third pair, in a new document.
    browser.refresh().await?;
    browser.wait_for("user-name").await?;
    let restored = wait_for_received(&browser, 1).await?;
    ensure_real(&harness, &restored[0]).await?;
    all.extend(restored);
    scan(&browser, &all, "after a reload").await?;
    browser.close().await
}
