//! "A refresh runs ... again when a tab becomes visible after sleep" (README, where the session lives): timers
//! do not run while a machine sleeps, so a tab seen again after its token's renewal time must renew at once
//! instead of waiting for its timer.
//!
//! Sleep is stood for by moving the page's clock forward past the renewal time (the timer, set on the real
//! clock an hour out, is not moved) and hiding the tab behind another one. With the tokens' default lifetime of
//! an hour the timer cannot be what renews during the test.

mod session_support;

use anyhow::{Context, Result, bail, ensure};
use e2e::{Browser, Harness};
use serde_json::{Value, json};
use session_support::*;
use std::time::Duration;

/// dev-idp's default access/ID-token lifetime; the SPA renews a minute before it ends.
const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// How far the page's clock is moved: past the renewal time (59 minutes after the sign-in), not past expiry.
const SLEEP: Duration = Duration::from_secs(3550);

/// How long "at once" may take on a busy machine: a refresh is one round trip to dev-idp. Only a bound.
const AT_ONCE: Duration = Duration::from_secs(15);

/// Records every visibility change of the current document in `window.__e2eVisibility`.
async fn record_visibility(browser: &Browser) -> Result<()> {
    let script = "window.__e2eVisibility = []; \
                  window.addEventListener('visibilitychange', \
                    () => window.__e2eVisibility.push(document.visibilityState), true);";
    browser.execute(script, Vec::new()).await.map(drop)
}

/// The visibility changes recorded so far.
async fn visibility_changes(browser: &Browser) -> Result<Value> {
    browser.execute("return window.__e2eVisibility;", Vec::new()).await
}

/// Fails if the stored refresh token changes from `token` within `window`.
async fn ensure_no_rotation_for(browser: &Browser, token: &str, window: Duration, during: &str) -> Result<()> {
    let until = std::time::Instant::now() + window;
    while std::time::Instant::now() < until {
        if stored_refresh_token(browser).await?.as_deref() != Some(token) {
            bail!("{during}, the SPA renewed its session (or dropped it) without a visibility change");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_seen_again_after_its_renewal_time_refreshes_at_once() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.browser().await?;
    let tab = browser.current_tab().await?;
    browser.goto("/").await?;
    browser.sign_in_as("jhon").await?;
    browser.wait_for("permission").await?;
    record_visibility(&browser).await?;
    let before = require_refresh_token(&browser).await?;
    ensure!(SLEEP < DEFAULT_TOKEN_TTL && SLEEP > renewal_period(DEFAULT_TOKEN_TTL), "SLEEP must pass renewal only");

    // The machine "sleeps": the page's clock jumps past the renewal time. A clock alone renews nothing while
    // the tab stays in view (the timer still waits on the real clock).
    let offset = browser.advance_page_clock(SLEEP.as_secs()).await?;
    ensure!(offset >= SLEEP.as_secs_f64(), "the page clock moved by {offset}s only");
    ensure_no_rotation_for(&browser, &before, QUIET_WINDOW, "with the clock moved but the tab in view").await?;

    // The tab goes into the background behind another one, and comes back.
    // A new tab opens on about:blank, in front.
    browser.open_tab().await?;
    browser.switch_to(&tab).await?;
    let changes = browser
        .wait_until("the tab to be hidden and seen again", browser.timeout(), async || {
            let changes = visibility_changes(&browser).await?;
            Ok((changes == json!(["hidden", "visible"])).then_some(changes))
        })
        .await
        .context("the browser did not hide the tab behind the new one and show it again")?;

    // Seen again past its renewal time, the tab renews at once.
    wait_for_rotations(&browser, &before, 1, AT_ONCE)
        .await
        .with_context(|| format!("after the visibility changes {changes}"))?;
    browser.assert_shown_without("user-name", &["auth-error"]).await?;
    // The renewed access token works at the api.
    see_projects_in_app(&browser).await?;
    browser.assert_shown_without_for("project-row", &["auth-error"], QUIET_WINDOW).await?;
    browser.close().await
}
