//! No silent death: a panic in the SPA ends in a wasm trap, after which the app's code cannot run again; the
//! page then shows `fatal-error` with a Reload button (public/fatal.js) instead of a screen that silently stops
//! answering, and Reload starts the app again, still signed in.
//!
//! The trap is raised from the page as a panic raises it: a `WebAssembly.RuntimeError` ("unreachable", what
//! `panic = "abort"` executes) reported as an uncaught error of the page, and as the rejection of a promise (the
//! app's async tasks run in those). The release build has no code path that panics on purpose, and must not grow
//! one for a test. Both events are dispatched as the browser dispatches them for the app's own scripts: a script
//! WebDriver injects is treated as one with muted errors (its exceptions reach `error` handlers without their
//! error object, and its rejections fire no `unhandledrejection`; both tried here first), so a plain `throw`
//! there would not stand for a panic of the app.

use std::time::Duration;

use anyhow::{Result, ensure};
use e2e::Harness;

const TRAP_IN_A_TASK: &str = "setTimeout(() => window.dispatchEvent(new ErrorEvent('error', { \
    error: new WebAssembly.RuntimeError('unreachable'), message: 'Uncaught RuntimeError: unreachable' }))); return null;";
const TRAP_IN_A_PROMISE: &str = "const reason = new WebAssembly.RuntimeError('unreachable'); \
    const promise = Promise.reject(reason); promise.catch(() => {}); \
    setTimeout(() => window.dispatchEvent(new PromiseRejectionEvent('unhandledrejection', { promise, reason }))); \
    return null;";
const ORDINARY_ERROR: &str = "setTimeout(() => window.dispatchEvent(new ErrorEvent('error', { \
    error: new Error('a script error, not a panic') }))); return null;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_shows_the_fatal_page_and_reload_starts_the_app_again() -> Result<()> {
    let harness = Harness::builder().start().await?;
    let browser = harness.browser().await?;
    browser.goto(contract::routes::HOME).await?;
    browser.sign_in_as("jhon").await?;
    browser.wait_for("nav-users").await?;

    // Any other script error leaves the app alone.
    browser.execute(ORDINARY_ERROR, vec![]).await?;
    browser.assert_shown_without_for("nav-users", &["fatal-error"], Duration::from_millis(500)).await?;

    browser.execute(TRAP_IN_A_TASK, vec![]).await?;
    browser.wait_for("fatal-error").await?;
    ensure!(browser.count("nav-users").await? == 0, "the dead app is still on screen beside the fatal page");
    browser.click("reload-button").await?;
    // The reload starts the app again and restores the session from the refresh token.
    browser.assert_shown_without("nav-users", &["fatal-error", "login-button"]).await?;

    browser.execute(TRAP_IN_A_PROMISE, vec![]).await?;
    browser.wait_for("fatal-error").await?;
    browser.close().await
}
