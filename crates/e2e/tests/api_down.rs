//! The SPA facing an API that is down (issue 9, "Faults"): the list says so in `list-error` with a `list-retry`
//! button, the rest of the page keeps working, and once the API is back the retry shows the rows, with no
//! reload and no sign-in.

use anyhow::{Result, ensure};
use e2e::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_the_api_cannot_deliver_says_so_and_its_retry_works_once_the_api_is_back() -> Result<()> {
    let mut harness = Harness::start().await?;
    let browser = harness.signed_in_browser("jhon").await?;
    browser.click("nav-projects").await?;
    browser.wait_for("project-row").await?;

    harness.stop_api()?;
    // Another list, fetched while the API is down.
    browser.click("nav-users").await?;
    browser.assert_shown_without("list-error", &["user-row", "fatal-error", "auth-error"]).await?;
    ensure!(browser.count("user-name").await? == 1, "the session is still shown beside the error");

    harness.restart_api().await?;
    browser.click("list-retry").await?;
    browser.assert_shown_without("user-row", &["list-error", "login-button"]).await?;
    browser.close().await
}
