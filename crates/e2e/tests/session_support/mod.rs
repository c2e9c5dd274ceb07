//! What the session tests share: where the SPA keeps its refresh token and its "signed in before" hint, how to
//! watch the token rotate, how to count the sign-ins dev-idp was asked for, and how to tell whether the
//! document on screen is still the one a test looked at.
//!
//! Each `session*.rs` test file includes this module and uses part of it.
#![allow(dead_code)]

use anyhow::{Context, Result, bail, ensure};
use e2e::{Browser, Harness};
use serde_json::{Value, json};
use std::time::Duration;

/// Where the SPA keeps the refresh token: JSON `{"refresh_token": "...", "subject": "..."}`.
pub(crate) const REFRESH_KEY: &str = "oidc-login.refresh.permission-spa";
/// The flag that makes a start-up without a refresh token try a silent (`prompt=none`) sign-in.
pub(crate) const SESSION_HINT_KEY: &str = "oidc-login.signed-in";

/// The access/ID-token lifetime of the tests that wait for renewals. The SPA renews a quarter of the lifetime
/// before expiry, so one renewal takes 12 s.
pub(crate) const SHORT_TOKEN_TTL: Duration = Duration::from_secs(16);

/// How long to keep watching for something that must not appear, where it would come only after a round trip
/// (an `auth-error` after a refused refresh, a redirect to the provider).
pub(crate) const QUIET_WINDOW: Duration = Duration::from_secs(3);

/// How long after receiving tokens that live `ttl` the SPA renews them: `min(60 s, ttl / 4)` before expiry.
pub(crate) fn renewal_period(ttl: Duration) -> Duration {
    ttl - (ttl / 4).min(Duration::from_secs(60))
}

/// An upper bound for `renewals` renewals of [`SHORT_TOKEN_TTL`] tokens to happen: one period each, one more
/// for the one under way, and slack for a busy machine. Only a bound: nothing here measures time.
pub(crate) fn renewals_timeout(renewals: u32) -> Duration {
    renewal_period(SHORT_TOKEN_TTL) * (renewals + 1) + Duration::from_secs(30)
}

/// The refresh token the SPA has stored, if any.
pub(crate) async fn stored_refresh_token(browser: &Browser) -> Result<Option<String>> {
    let Some(text) = browser.local_storage_get(REFRESH_KEY).await? else { return Ok(None) };
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("localStorage {REFRESH_KEY} is not JSON: {text:?}"))?;
    let token = value["refresh_token"]
        .as_str()
        .with_context(|| format!("localStorage {REFRESH_KEY} has no refresh_token: {text}"))?;
    Ok(Some(token.to_owned()))
}

/// The stored refresh token, which a signed-in SPA must have.
pub(crate) async fn require_refresh_token(browser: &Browser) -> Result<String> {
    stored_refresh_token(browser).await?.with_context(|| {
        format!(
            "signed in, but localStorage has no {REFRESH_KEY}: the token response carried no refresh token \
             (does dev-idp issue one for the offline_access scope?)"
        )
    })
}

/// Waits until the stored refresh token has changed `changes` times since `from` (each renewal rotates it), and
/// returns the latest. Fails at once when the SPA shows `auth-error` or forgets the token (a refused refresh).
pub(crate) async fn wait_for_rotations(
    browser: &Browser,
    from: &str,
    changes: usize,
    timeout: Duration,
) -> Result<String> {
    let mut seen = vec![from.to_owned()];
    let what = format!("the stored refresh token to change {changes} time(s)");
    browser
        .wait_until(&what, timeout, async || {
            if browser.count("auth-error").await? > 0 {
                let text = browser.texts("auth-error").await?.join(" | ");
                bail!("the SPA shows auth-error after {} change(s): {text}", seen.len() - 1);
            }
            let Some(token) = stored_refresh_token(browser).await? else {
                bail!("{REFRESH_KEY} left localStorage after {} change(s): a refresh was refused", seen.len() - 1);
            };
            if seen.last() != Some(&token) {
                ensure!(!seen.contains(&token), "the stored refresh token went back to an earlier one");
                seen.push(token.clone());
            }
            Ok((seen.len() > changes).then_some(token))
        })
        .await
}

/// The request targets (path and query) of every authorization request dev-idp has received so far, in order,
/// read from its log (one "started processing request" line per request at the harness's log filter).
pub(crate) fn authorization_requests(harness: &Harness) -> Result<Vec<String>> {
    let log = harness.idp_log_path();
    let text = std::fs::read_to_string(&log).with_context(|| format!("reading {}", log.display()))?;
    Ok(text
        .lines()
        .filter(|line| line.contains("started processing request"))
        .filter_map(|line| {
            let (_, rest) = line.split_once(" uri=")?;
            let target = rest.split(|c: char| c.is_whitespace() || c == '}').next()?;
            let path = target.split('?').next()?;
            (path == "/authorize").then(|| target.to_string())
        })
        .collect())
}

/// How many authorization requests dev-idp has had so far; at least the one of the sign-in that preceded, which
/// shows that its log can be counted in.
pub(crate) fn sign_in_requests(harness: &Harness) -> Result<usize> {
    let count = authorization_requests(harness)?.len();
    ensure!(
        count > 0,
        "dev-idp's log ({}) shows no /authorize request although the test signed in: its request lines cannot \
         be counted (is RUST_LOG set?)",
        harness.idp_log_path().display()
    );
    Ok(count)
}

/// Fails if dev-idp received an authorization request since [`sign_in_requests`] returned `before`.
pub(crate) fn ensure_no_new_sign_in(harness: &Harness, before: usize, during: &str) -> Result<()> {
    let requests = authorization_requests(harness)?;
    ensure!(
        requests.len() == before,
        "{during} sent the browser to dev-idp's authorization endpoint ({} new request(s): {:?}): the SPA started \
         a sign-in\n{}",
        requests.len().saturating_sub(before),
        requests.get(before..).unwrap_or_default(),
        harness.log_tails()
    );
    Ok(())
}

/// Marks the document on screen (a page global), so that [`is_marked`] can tell later whether it is still the
/// same document or was replaced by a reload or a navigation.
pub(crate) async fn mark_document(browser: &Browser) -> Result<()> {
    browser.execute("window.__e2eDocumentMark = true;", Vec::new()).await.map(drop)
}

/// Whether the document on screen is one [`mark_document`] marked.
pub(crate) async fn is_marked(browser: &Browser) -> Result<bool> {
    Ok(browser.execute("return window.__e2eDocumentMark === true;", Vec::new()).await? == json!(true))
}

/// Follows the nav link to the Project List and waits for its rows: the screen fetches them with the access
/// token the tab holds in memory, without a page load that would restore a fresh session.
pub(crate) async fn see_projects_in_app(browser: &Browser) -> Result<()> {
    browser.click("nav-projects").await?;
    browser.wait_for("page-projects").await?;
    browser.wait_for("project-row").await?;
    browser.wait_for_path("/projects").await
}

/// Revokes `refresh_token` at dev-idp's revocation endpoint (RFC 7009) as the SPA's public client, which
/// revokes its whole family; the endpoint answers 200 whatever the token was.
pub(crate) async fn revoke_at_provider(harness: &Harness, refresh_token: &str) -> Result<()> {
    let metadata = harness.provider_metadata().await?;
    let endpoint = metadata["revocation_endpoint"]
        .as_str()
        .with_context(|| format!("the discovery document names no revocation_endpoint: {metadata}"))?;
    let response = reqwest::Client::new()
        .post(endpoint)
        .form(&[("token", refresh_token), ("token_type_hint", "refresh_token"), ("client_id", e2e::CLIENT_ID)])
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .with_context(|| format!("POST {endpoint}"))?;
    let status = response.status();
    ensure!(status.is_success(), "the revocation endpoint answered {status}: {}", response.text().await?);
    Ok(())
}
