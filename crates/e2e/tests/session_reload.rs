//! A reload of a signed-in tab, as the README's "what a reload waits for" says it goes: the permission-aware UI
//! renders at once from the claims of the last ID token this tab verified, while the refresh that restores the
//! session is in flight; requests to the api wait for the refreshed access token; and the refresh's verdict
//! replaces the remembered claims — new permissions after a role change, the signed-out state after the session
//! ended elsewhere — so no stale screen stays.
//!
//! To hold the refresh in flight, a script that runs before the SPA in every document wraps `fetch` and keeps
//! every request to dev-idp's token endpoint waiting until the test releases it.

mod session_support;

use anyhow::{Context, Result, ensure};
use contract::api::USERS;
use e2e::{Browser, Harness, api_path};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use session_support::*;

/// Where the SPA keeps this tab's remembered claims (`sessionStorage`).
const CLAIMS_KEY: &str = "oidc-login.claims.permission-spa";

/// Holds every request to the token endpoint (`TOKEN_ENDPOINT` is replaced by its URL as a JSON string) until
/// `window.__e2eReleaseTokens()` is called; `window.__e2eHeldTokens` counts the requests held so far.
const HOLD_SCRIPT: &str = r#"
(() => {
  const tokenEndpoint = TOKEN_ENDPOINT;
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  window.__e2eHeldTokens = 0;
  window.__e2eReleaseTokens = () => release();
  const original = window.fetch;
  window.fetch = function (...args) {
    const target = args[0] instanceof Request ? args[0].url : String(args[0]);
    if (target.split('?')[0] !== tokenEndpoint) return original.apply(this, args);
    window.__e2eHeldTokens += 1;
    return released.then(() => original.apply(this, args));
  };
})();
"#;

/// Installs [`HOLD_SCRIPT`] for every document the tab loads from now on.
async fn hold_token_requests(harness: &Harness, browser: &Browser) -> Result<()> {
    let metadata = harness.provider_metadata().await?;
    let endpoint = metadata["token_endpoint"].as_str().context("the discovery document names no token_endpoint")?;
    browser.add_script_for_new_documents(&HOLD_SCRIPT.replace("TOKEN_ENDPOINT", &json!(endpoint).to_string())).await
}

/// How many token requests the current document holds.
async fn held_token_requests(browser: &Browser) -> Result<u64> {
    let value = browser.execute("return window.__e2eHeldTokens ?? null;", Vec::new()).await?;
    value.as_u64().with_context(|| format!("the token-holding script is not installed in this document ({value})"))
}

/// This tab's remembered claims, if any.
async fn remembered_claims(browser: &Browser) -> Result<Option<Value>> {
    let value = browser.execute("return window.sessionStorage.getItem(arguments[0]);", vec![json!(CLAIMS_KEY)]).await?;
    match value.as_str() {
        Some(text) => {
            Ok(Some(serde_json::from_str(text).with_context(|| format!("{CLAIMS_KEY} is not JSON: {text}"))?))
        }
        None => Ok(None),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_renders_at_once_from_the_remembered_claims_and_the_api_waits_for_the_refresh() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.signed_in_browser("jhon").await?;
    see_projects_in_app(&browser).await?;
    let before = require_refresh_token(&browser).await?;
    let remembered = remembered_claims(&browser).await?.context("signed in, but this tab remembers no claims")?;
    ensure!(
        remembered["claims"]["name"] == json!("Jhon Smith"),
        "the remembered claims are not jhon's verified ID-token claims: {remembered}"
    );

    hold_token_requests(&harness, &browser).await?;
    browser.refresh().await?;
    // Signed in as jhon, nav-users and all, while the refresh has not even reached the provider; the Project
    // List waits for the access token (no rows, no error, no sign-in prompt).
    browser
        .assert_shown_without("nav-users", &["auth-error", "login-button", "project-row"])
        .await
        .context("with the refresh held")?;
    ensure!(browser.text("user-name").await? == "Jhon Smith", "user-name with the refresh held");
    browser.wait_for("page-projects").await.context("with the refresh held")?;
    browser
        .wait_until("the refresh's token request to be held", browser.timeout(), async || {
            Ok((held_token_requests(&browser).await? >= 1).then_some(()))
        })
        .await?;
    ensure!(
        require_refresh_token(&browser).await? == before,
        "the refresh token rotated although the token request is held"
    );

    // Once the refresh answers, the list comes with the refreshed access token.
    browser.execute("window.__e2eReleaseTokens();", Vec::new()).await?;
    browser.assert_shown_without_for("project-row", &["auth-error", "login-button"], QUIET_WINDOW).await?;
    ensure!(require_refresh_token(&browser).await? != before, "the reload did not restore the session");
    browser.close().await
}

/// The api's id of `username` (`GET /api/v1/users` with an admin's token).
async fn user_id(harness: &Harness, admin_token: &str, username: &str) -> Result<i64> {
    let path = format!("{}?per_page=100", api_path(USERS));
    let answer = harness.api_call(Method::GET, &path, Some(admin_token), None).await?;
    ensure!(answer.status == StatusCode::OK, "GET {path} answered {}: {}", answer.status, answer.body);
    let users = answer.body.as_array().context("GET /api/v1/users answered no array")?;
    let user = users
        .iter()
        .find(|user| user["username"] == username)
        .with_context(|| format!("GET /api/v1/users does not list {username}"))?;
    user["id"].as_i64().with_context(|| format!("{username} has no id: {user}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_role_change_a_reload_ends_with_the_new_permissions() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.signed_in_browser("jhon").await?;
    browser.assert_shown_without("nav-users", &["auth-error"]).await?;

    // Another admin makes jhon a project manager: no more read:user-list.
    let admin = harness.access_token_for("fatima").await?;
    let jhon = user_id(&harness, &admin, "jhon").await?;
    let roles = json!({ "roles": ["project-manager"] });
    let path = api_path(&contract::api::user_roles(jhon));
    let answer = harness.api_call(Method::PUT, &path, Some(&admin), Some(&roles)).await?;
    ensure!(answer.status == StatusCode::OK, "PUT {path} answered {}: {}", answer.status, answer.body);

    // The reload may first show what this tab remembers (nav-users); the refreshed ID token takes it away.
    browser.refresh().await?;
    browser.wait_for("user-name").await?;
    browser.wait_for_absent("nav-users").await.context("after the reload following the role change")?;
    browser.assert_shown_without_for("nav-projects", &["nav-users", "auth-error"], QUIET_WINDOW).await?;
    let remembered = remembered_claims(&browser).await?.context("signed in, but this tab remembers no claims")?;
    ensure!(
        remembered["claims"][permissions::names::ROLES_CLAIM] == json!(["project-manager"]),
        "this tab still remembers the claims from before the role change: {remembered}"
    );
    // A reload of the User List now shows the Forbidden view from the start.
    browser.goto(contract::routes::USERS).await?;
    browser.assert_shown_without_for("forbidden", &["user-row", "auth-error"], QUIET_WINDOW).await?;
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_session_ended_elsewhere_a_reload_ends_signed_out_and_forgets_the_claims() -> Result<()> {
    let harness = Harness::start().await?;
    // On Home, which offers a sign-in when signed out (a guarded screen would start one by itself).
    let browser = harness.signed_in_browser("jhon").await?;
    browser.assert_shown_without("nav-users", &["auth-error"]).await?;
    ensure!(remembered_claims(&browser).await?.is_some(), "signed in, but this tab remembers no claims");

    // The session ends at the provider: the refresh-token family revoked and the provider's own session gone
    // (its cookie), as a sign-out on another device or an operator would leave it.
    let token = require_refresh_token(&browser).await?;
    revoke_at_provider(&harness, &token).await?;
    browser.clear_all_cookies().await?;

    // The reload may show the remembered claims for a moment; the refused refresh (then a silent sign-in that
    // the provider answers with login_required) ends signed out, on the same page, and nothing stale stays.
    browser.refresh().await?;
    browser
        .assert_shown_without_for(
            "login-button",
            &["user-name", "nav-users", "nav-projects", "project-row", "auth-error"],
            QUIET_WINDOW,
        )
        .await
        .context("after the reload following the end of the session")?;
    ensure!(browser.path().await? == "/", "the reload ended at {}, not /", browser.url().await?);
    ensure!(remembered_claims(&browser).await?.is_none(), "signed out, but this tab still remembers the claims");
    ensure!(stored_refresh_token(&browser).await?.is_none(), "signed out, but the refused refresh token is kept");
    browser.close().await
}
