//! Start-up as a developer meets it: the SPA opened at `http://localhost:<port>` signs in as it does at
//! `http://127.0.0.1:<port>`, and a provider that was down when the SPA started and came up later is reached by
//! the `auth-error` banner's "Try again", without reloading the page; so is one that accepted the connection and
//! never answered, once the request has given up at its deadline.

use anyhow::{Context, Result, ensure};
use e2e::browser::testid_selector;
use e2e::{Browser, Harness};
use std::time::Duration;

/// What a page on the SPA's origin shows once the provider is reachable again: the sign-in button (start-up
/// done, nobody signed in) or the provider's own page (start-up went straight on to sign in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterRetry {
    SignInOffered,
    AtTheProvider,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localhost_signs_in_like_127_0_0_1() -> Result<()> {
    let harness = Harness::builder().localhost_origin().start().await?;
    let origin = harness.localhost_origin().to_string();
    let browser = harness.browser_at(&origin).await?;
    browser.goto(contract::routes::HOME).await?;
    // sign_in_as waits until the browser is back on the browser's origin, which is the localhost one here.
    browser.sign_in_as("jhon").await?;
    browser.assert_shown_without("nav-users", &["auth-error", "login-button"]).await?;
    let name = browser.text("user-name").await?;
    ensure!(name == "Jhon Smith", "signed in at {origin}, user-name shows {name:?}");
    let url = browser.url().await?;
    ensure!(
        url.host_str() == Some("localhost"),
        "the sign-in ended on {url}, not on the localhost origin {origin} it started from"
    );
    // The session is the localhost origin's own: the app works from there, through its own /api proxy.
    browser.click("nav-users").await?;
    browser.wait_for("user-row").await?;
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_again_reaches_a_provider_that_came_up_late() -> Result<()> {
    let mut harness = Harness::builder().backend_later().start().await?;
    let browser = harness.browser().await?;
    browser.goto(contract::routes::HOME).await?;
    // The provider's port refuses connections: start-up cannot discover it.
    browser.assert_shown_without("auth-error", &["user-name", "config-error"]).await?;
    let retry = format!("{} {}", testid_selector("auth-error"), testid_selector("login-button"));
    browser.wait_for_css(&retry, "the auth-error banner's Try again").await?;

    harness.start_backend().await?;
    // The retry runs the start-up again, which now reaches the provider; then signing in works as usual.
    sign_in_through_try_again(&browser, &retry).await?;
    let name = browser.text("user-name").await?;
    ensure!(name == "Jhon Smith", "after the retry user-name shows {name:?}");
    browser.wait_for("nav-users").await?;
    harness.ensure_backend_running()?;
    browser.close().await
}

/// A provider that accepts the connection and never answers (overloaded, or a proxy in front of a dead one): the
/// start-up's request gives up at its deadline and the `auth-error` banner offers Try again, never an endless
/// splash; once the provider answers, the retry signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_never_answers_gives_an_error_and_try_again_works_once_it_does() -> Result<()> {
    let mut harness = Harness::builder().backend_later().start().await?;
    let silent = harness.silent_provider().await?;
    let browser = harness.browser().await?;
    browser.goto(contract::routes::HOME).await?;
    // The request's deadline (oidc_login::browser::PROVIDER_REQUEST_TIMEOUT_MS) and a margin for a slow machine.
    let retry = format!("{} {}", testid_selector("auth-error"), testid_selector("login-button"));
    browser
        .wait_until("the auth-error banner's Try again, after the deadline", Duration::from_secs(60), async || {
            Ok(browser.count_css(&retry).await.ok().filter(|&n| n > 0).map(|_| ()))
        })
        .await?;
    ensure!(
        silent.accepted() > 0,
        "the SPA never connected to the provider's port, so the error came from something else than a provider \
         that does not answer"
    );
    browser.assert_shown_without("auth-error", &["user-name", "config-error"]).await?;

    drop(silent);
    harness.start_backend().await?;
    sign_in_through_try_again(&browser, &retry).await?;
    browser.close().await
}

/// Clicks the banner's Try again (`retry`, its selector) and signs in as jhon from wherever the retry leads.
async fn sign_in_through_try_again(browser: &Browser, retry: &str) -> Result<()> {
    browser.click_css(retry, "the auth-error banner's Try again").await?;
    match after_retry(browser).await? {
        AfterRetry::AtTheProvider => {}
        AfterRetry::SignInOffered => browser.click("login-button").await.context("signing in after the retry")?,
    }
    browser.click("signin-jhon").await?;
    browser.wait_for_origin().await?;
    browser.assert_shown_without("user-name", &["auth-error"]).await
}

/// Waits until the retry has led somewhere: the provider's sign-in page, or the SPA offering sign-in with the
/// banner gone. Fails if the banner is still there when the wait ends (the retry did nothing).
async fn after_retry(browser: &Browser) -> Result<AfterRetry> {
    browser
        .wait_until("the retry to reach the provider or to offer sign-in", browser.timeout(), async || {
            // Looking fails while one document replaces another; the next look sees the new one.
            let count = async |testid: &str| browser.count(testid).await.ok();
            if count("signin-jhon").await.is_some_and(|n| n > 0) {
                return Ok(Some(AfterRetry::AtTheProvider));
            }
            let offered = count("login-button").await.is_some_and(|n| n > 0) && count("auth-error").await == Some(0);
            Ok(offered.then_some(AfterRetry::SignInOffered))
        })
        .await
}
