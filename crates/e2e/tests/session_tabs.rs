//! "A sign-in in one tab shows in the others" (README, the login module): the tab that finishes a sign-in tells
//! the app's other tabs over a BroadcastChannel, and each of them restores the session from the shared refresh
//! token — without a page load and without a trip to the provider.

mod session_support;

use anyhow::{Context, Result, ensure};
use e2e::Harness;
use session_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_in_one_tab_signs_in_the_others() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.browser().await?;
    let tab_a = browser.current_tab().await?;
    browser.goto("/").await?;
    browser.assert_shown_without("login-button", &["user-name"]).await.context("tab A before sign-in")?;

    // Two more tabs on the home screen, signed out, whose documents must survive what follows.
    let mut others = Vec::new();
    for name in ["B", "C"] {
        let tab = browser.open_tab().await?;
        browser.goto("/").await?;
        browser.assert_shown_without("login-button", &["user-name"]).await.with_context(|| format!("tab {name}"))?;
        mark_document(&browser).await?;
        others.push((name, tab));
    }

    browser.switch_to(&tab_a).await?;
    browser.sign_in_as("jhon").await.context("signing in in tab A")?;
    let authorizations = sign_in_requests(&harness)?;

    for (name, tab) in &others {
        let context = || format!("tab {name}, after the sign-in in tab A");
        browser.switch_to(tab).await?;
        browser.assert_shown_without("user-name", &["login-button", "auth-error"]).await.with_context(context)?;
        ensure!(browser.text("user-name").await? == "Jhon Smith", "{}: user-name", context());
        ensure!(
            is_marked(&browser).await?,
            "{}: the tab was reloaded or navigated instead of hearing of it",
            context()
        );
        browser.wait_for("permission").await.with_context(context)?;
        // The tab holds a session of its own: its access token works at the api.
        see_projects_in_app(&browser).await.with_context(context)?;
    }
    // Nobody went to the provider for it: the other tabs restored the session from the refresh token.
    ensure_no_new_sign_in(&harness, authorizations, "hearing of the sign-in in the other tabs")?;
    browser.close().await
}
