//! "When the provider issues no refresh token, the module falls back to `prompt=none`" (README, where the
//! session lives): a browser that signed in before, with no refresh token to restore from, asks the provider
//! silently at start-up. With the provider's session alive that signs the user in with no page of the
//! provider's shown; with it gone the SPA is simply signed out — no error, and no second attempt.
//!
//! The SPA asks for no refresh token here: its configuration's `scope` leaves out `offline_access`, which is
//! what makes dev-idp issue one.

mod session_support;

use anyhow::{Context, Result, ensure};
use e2e::{Browser, Harness, SpaConfig};
use serde_json::json;
use session_support::*;

/// The SPA's scope without `offline_access`.
const SCOPE_WITHOUT_REFRESH: &str = "openid profile email";

/// A harness whose SPA asks for no refresh token, and a browser signed in there as jhon with the
/// "signed in before" hint set and no refresh token stored.
async fn signed_in_without_refresh_token() -> Result<(Harness, Browser)> {
    let harness = Harness::start().await?;
    let mut config = harness.default_config();
    config["scope"] = json!(SCOPE_WITHOUT_REFRESH);
    harness.set_config(SpaConfig::Json(config));
    let browser = harness.signed_in_browser("jhon").await?;
    browser.wait_for("permission").await?;
    ensure!(
        stored_refresh_token(&browser).await?.is_none(),
        "with scope {SCOPE_WITHOUT_REFRESH:?} the SPA still stored a refresh token: this test needs a sign-in without one"
    );
    ensure!(
        browser.local_storage_get(SESSION_HINT_KEY).await?.is_some(),
        "after sign-in localStorage has no {SESSION_HINT_KEY}: nothing tells a reload to try a silent sign-in"
    );
    Ok((harness, browser))
}

/// The authorization requests since `before`, which must be exactly one silent one; returns it.
fn one_silent_request(harness: &Harness, before: usize, during: &str) -> Result<String> {
    let requests = authorization_requests(harness)?;
    let new = requests.get(before..).unwrap_or_default();
    ensure!(new.len() == 1, "{during} made {} authorization request(s), not one: {new:?}", new.len());
    ensure!(new[0].contains("prompt=none"), "{during} asked the provider without prompt=none: {}", new[0]);
    Ok(new[0].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_refresh_token_a_reload_signs_in_silently_at_the_provider() -> Result<()> {
    let (harness, browser) = signed_in_without_refresh_token().await?;
    let before = sign_in_requests(&harness)?;

    browser.refresh().await?;
    browser.assert_shown_without("user-name", &["auth-error", "login-button"]).await.context("after the reload")?;
    ensure!(browser.text("user-name").await? == "Jhon Smith", "user-name after the silent sign-in");
    one_silent_request(&harness, before, "the reload")?;
    // The document on screen came back from the provider (a `/callback` load), and the SPA put the address the
    // user reloaded back, without the code.
    let entry = browser.navigation_entry().await?;
    ensure!(
        entry.kind == "navigate" && entry.url.starts_with(&harness.spa_url("/callback?")),
        "after the reload the page on screen was loaded by `{}` from {}, not from the provider's answer",
        entry.kind,
        entry.url
    );
    let url = browser.url().await?;
    ensure!(url.path() == "/" && url.query().is_none(), "after the silent sign-in the address is {url}");
    // A working session: the access token from the silent sign-in reaches the api.
    see_projects_in_app(&browser).await?;
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_sign_in_without_a_provider_session_ends_signed_out_once() -> Result<()> {
    let (harness, browser) = signed_in_without_refresh_token().await?;
    // The provider's session lives in its cookie; without it dev-idp answers `login_required`.
    browser.clear_all_cookies().await?;
    let before = sign_in_requests(&harness)?;

    browser.refresh().await?;
    browser
        .assert_shown_without_for("login-button", &["user-name", "auth-error"], QUIET_WINDOW)
        .await
        .context("after the reload without a provider session")?;
    one_silent_request(&harness, before, "the reload")?;
    ensure!(
        browser.local_storage_get(SESSION_HINT_KEY).await?.is_none(),
        "after the provider answered login_required the SPA kept {SESSION_HINT_KEY}, so every load would ask again"
    );

    // The next load does not ask again.
    browser.refresh().await?;
    browser.assert_shown_without_for("login-button", &["user-name", "auth-error"], QUIET_WINDOW).await?;
    ensure_no_new_sign_in(&harness, before + 1, "a second reload")?;
    browser.close().await
}
