//! The login flow's failure path: cancelling at the provider ends on an explanation with a way to try again,
//! nothing that looks signed in beside it, and the "Try again" button really signs in.

use anyhow::{Result, ensure};
use e2e::Harness;
use e2e::browser::testid_selector;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_at_the_provider_shows_auth_error_and_its_retry_signs_in() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.browser().await?;
    browser.goto("/").await?;
    browser.click("login-button").await?;
    browser.click("signin-cancel").await?;
    browser.wait_for_origin().await?;

    // The explanation, and in the same render nothing that belongs to a signed-in user.
    browser.assert_shown_without("auth-error", &["user-name", "logout-button", "permission", "nav-projects"]).await?;
    let message = browser.text("auth-error").await?;
    ensure!(message.contains("access_denied"), "auth-error does not name the provider's answer: {message:?}");

    // The retry is the banner's own button; the page offers no other sign-in beside it.
    let retry = format!("{} {}", testid_selector("auth-error"), testid_selector("login-button"));
    let buttons = browser.count("login-button").await?;
    let in_banner = browser.count_css(&retry).await?;
    ensure!(
        in_banner == 1 && buttons == 1,
        "expected one login-button, inside auth-error; the page has {buttons}, {in_banner} of them in the banner"
    );
    browser.click_css(&retry, "the auth-error banner's Try again").await?;

    // Pressing it starts a new sign-in: the provider's page (which only a new authorization request shows), then
    // back on the SPA signed in, with the banner gone.
    browser.click("signin-jhon").await?;
    browser.wait_for_origin().await?;
    browser.assert_shown_without("user-name", &["auth-error"]).await?;
    let name = browser.text("user-name").await?;
    ensure!(name == "Jhon Smith", "after the retry user-name shows {name:?}");
    browser.close().await
}
