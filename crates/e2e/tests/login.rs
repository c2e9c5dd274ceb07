//! The login flow's failure path: cancelling at the provider ends on an explanation with a way to try again,
//! and nothing that looks signed in.

use anyhow::Result;
use e2e::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_at_the_provider_shows_auth_error_and_a_retry() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.browser().await?;
    browser.goto("/").await?;
    browser.click("login-button").await?;
    browser.click("signin-cancel").await?;
    browser.wait_for_origin().await?;

    browser.wait_for("auth-error").await?;
    browser.wait_for("login-button").await?;
    browser.assert_absent("user-name").await?;
    browser.close().await
}
