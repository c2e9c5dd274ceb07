//! "A refused refresh shows 'session expired' with a way to sign in again" (README, where the session lives):
//! the provider revokes the session's refresh-token family, the SPA's next renewal is refused, and the SPA says
//! the session expired — on a guarded screen, without a redirect of its own (no sign-in loop) — until the user
//! signs in again from the banner.

mod session_support;

use anyhow::{Context, Result, ensure};
use e2e::Harness;
use e2e::browser::testid_selector;
use reqwest::StatusCode;
use session_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_shows_session_expired_without_a_sign_in_loop() -> Result<()> {
    let harness = Harness::builder().token_ttl(SHORT_TOKEN_TTL).start().await?;
    // The refresh token is replayed from outside the browser below: unbound, so that only a revocation refuses it.
    harness.bearer_tokens_only();
    let browser = harness.signed_in_browser("jhon").await?;
    see_projects_in_app(&browser).await?;
    let authorizations = sign_in_requests(&harness)?;

    // The provider ends the session's refresh-token family, as an operator or a detected theft would.
    let token = require_refresh_token(&browser).await?;
    revoke_at_provider(&harness, &token).await?;
    let answer = harness.refresh_grant(&token).await?;
    ensure!(
        answer.status == StatusCode::BAD_REQUEST && answer.error() == Some("invalid_grant"),
        "after the revocation dev-idp still accepts the refresh token: {} {}",
        answer.status,
        answer.body
    );

    // The SPA's next renewal (on its timer, a few seconds away with these short-lived tokens) is refused.
    let message = browser
        .wait_until("the SPA to say the session expired", renewals_timeout(1), async || {
            let texts = browser.texts("auth-error").await?;
            Ok(texts.into_iter().next())
        })
        .await?;
    ensure!(message.to_lowercase().contains("expired"), "auth-error does not say the session expired: {message:?}");

    // It stays that way: nothing signed in beside the banner, the screen's data gone, and no redirect to the
    // provider on its own (the provider's session is still alive, so one would sign the user straight back in).
    browser
        .assert_shown_without_for(
            "auth-error",
            &["user-name", "logout-button", "project-row", "page-projects", "permission"],
            QUIET_WINDOW,
        )
        .await?;
    ensure_no_new_sign_in(&harness, authorizations, "the refused refresh")?;
    ensure!(browser.path().await? == "/projects", "the refused refresh left /projects for {}", browser.url().await?);
    ensure!(stored_refresh_token(&browser).await?.is_none(), "the SPA kept the refused refresh token in localStorage");

    // The banner's button signs in again (at once: the provider's session is alive) and comes back here.
    let retry = format!("{} {}", testid_selector("auth-error"), testid_selector("login-button"));
    browser.click_css(&retry, "the auth-error banner's sign-in button").await?;
    browser.wait_for_origin().await?;
    browser.wait_for_path("/projects").await?;
    browser.wait_for("project-row").await.context("after signing in again")?;
    browser.assert_shown_without("user-name", &["auth-error"]).await?;
    let requests = authorization_requests(&harness)?;
    ensure!(
        requests.len() == authorizations + 1,
        "signing in again took {} authorization requests: {:?}",
        requests.len() - authorizations,
        &requests[authorizations..]
    );
    require_refresh_token(&browser).await.context("after signing in again")?;
    browser.close().await
}
