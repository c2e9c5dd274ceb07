//! The session after sign-in, as a user lives it: a reload, a second tab, time passing (token renewals with
//! refresh-token rotation), the Back button, a deep link, a signing-key rotation at the provider, and sign-out.
//!
//! The SPA keeps its refresh token in `localStorage` (shared by its tabs) and its access and ID tokens in
//! memory. These tests read that storage entry to see renewals happen, and present its token to dev-idp
//! themselves to see that sign-out revoked it.

mod session_support;

use anyhow::{Context, Result, bail, ensure};
use e2e::Harness;
use session_support::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_restores_the_session_without_the_provider() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.signed_in_browser("jhon").await?;
    see_projects_in_app(&browser).await?;
    let before = require_refresh_token(&browser).await?;
    let url = browser.url().await?;
    let history = browser.history_length().await?;
    let authorizations = sign_in_requests(&harness)?;

    browser.refresh().await?;
    browser.wait_for("user-name").await?;
    // How we know the provider's page never showed: the Navigation Timing entry belongs to the document on
    // screen. After a restore from the refresh token it is the reload itself (`reload`, same URL). Any trip to
    // the provider — a silent `prompt=none` round trip or its sign-in page — would end on a document loaded by
    // navigating to `/callback?code=…` (`navigate`), and would have added a history entry.
    let entry = browser.navigation_entry().await?;
    ensure!(
        entry.kind == "reload" && entry.url == url.as_str(),
        "after the reload the page on screen was loaded by `{}` from {}, not by the reload of {url}: the SPA went \
         through the provider instead of restoring the session from its refresh token",
        entry.kind,
        entry.url
    );
    let history_after = browser.history_length().await?;
    ensure!(history_after == history, "the reload changed history.length from {history} to {history_after}");
    let url_after = browser.url().await?;
    ensure!(url_after == url, "the reload ended at {url_after}, not {url}");
    ensure!(browser.text("user-name").await? == "Jhon Smith", "user-name after the reload");
    // The restored access token works at the api.
    browser.assert_shown_without_for("project-row", &["auth-error"], QUIET_WINDOW).await?;
    // And the provider, for its part, was not asked for an authorization.
    ensure_no_new_sign_in(&harness, authorizations, "the reload")?;
    // The restore used the refresh token, which rotates on every use.
    let after = require_refresh_token(&browser).await?;
    ensure!(
        after != before,
        "the refresh token did not change across the reload: the session was not restored from it"
    );
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_revokes_the_refresh_token() -> Result<()> {
    let harness = Harness::start().await?;
    // The refresh token is replayed from outside the browser below: unbound, so that only a revocation refuses it.
    harness.bearer_tokens_only();
    let browser = harness.signed_in_browser("jhon").await?;
    see_projects_in_app(&browser).await?;
    let token = require_refresh_token(&browser).await?;
    let authorizations = sign_in_requests(&harness)?;

    mark_document(&browser).await?;
    browser.click("logout-button").await?;
    // The SPA revokes the refresh token before it leaves the page for dev-idp's end-session endpoint.
    browser
        .wait_until("the SPA to leave the page after logout-button", browser.timeout(), async || {
            // While the browser is between documents, scripts fail: that is "not yet".
            Ok(matches!(is_marked(&browser).await, Ok(false)).then_some(()))
        })
        .await?;
    let answer = harness.refresh_grant(&token).await?;
    if answer.status != reqwest::StatusCode::BAD_REQUEST || answer.error() != Some("invalid_grant") {
        let metadata = harness.provider_metadata().await?;
        bail!(
            "after sign-out, the old refresh token at the token endpoint answered {} {}, expected 400 invalid_grant \
             (dev-idp's revocation_endpoint: {})\n{}",
            answer.status,
            answer.body,
            metadata["revocation_endpoint"],
            harness.log_tails()
        );
    }

    // Then dev-idp's end-session endpoint sends the browser to `{origin}/`: reaching `/` from `/projects` is the
    // end of that round trip. Signing out must not start a sign-in on the way: until the end-session endpoint
    // is reached the provider's session is alive, so an authorization request is answered at once and signs the
    // user straight back in.
    if let Err(err) = browser.wait_for_path("/").await {
        ensure_no_new_sign_in(&harness, authorizations, "signing out on /projects")?;
        return Err(err.context("after logout-button on /projects the browser did not come back to / from dev-idp"));
    }
    ensure_no_new_sign_in(&harness, authorizations, "signing out on /projects")?;
    browser.assert_shown_without("login-button", &["user-name", "logout-button"]).await?;
    // The ID token went to the end-session endpoint as the hint in a form POST's body, so no URL carried it: not
    // the provider's request line (nor its log), nor the browser's history, nor a proxy's log.
    let end_session = harness.provider_metadata().await?["end_session_endpoint"]
        .as_str()
        .and_then(|url| reqwest::Url::parse(url).ok())
        .context("dev-idp's discovery names no end_session_endpoint")?;
    let (posts, gets) =
        (harness.idp_requests("POST", end_session.path())?, harness.idp_requests("GET", end_session.path())?);
    ensure!(
        posts == 1 && gets == 0,
        "signing out reached dev-idp's end-session endpoint {posts} time(s) by POST and {gets} by GET; expected one \
         form POST, which keeps the id_token_hint out of the URL\n{}",
        harness.log_tails()
    );
    ensure!(
        browser.local_storage_get(REFRESH_KEY).await?.is_none(),
        "after sign-out localStorage still holds {REFRESH_KEY}"
    );
    ensure!(
        browser.local_storage_get(SESSION_HINT_KEY).await?.is_none(),
        "after sign-out localStorage still holds {SESSION_HINT_KEY}, so a reload would try a silent sign-in"
    );

    // Nothing is left to restore a session from, nor a reason to try a silent sign-in.
    browser.refresh().await?;
    browser.assert_shown_without_for("login-button", &["user-name"], QUIET_WINDOW).await?;
    ensure!(browser.path().await? == "/", "a reload after sign-out left the SPA's origin or path");
    ensure_no_new_sign_in(&harness, authorizations, "signing out and reloading")?;
    browser.close().await
}

/// Sign-out's calls to the provider are code in a chunk (README, "Code splitting"), fetched before anything is
/// forgotten: when it cannot be downloaded, the user stays signed in, is told, and signs out with the next try.
/// (Signing out here alone would leave the provider's session alive, and a reload of a guarded route would sign
/// the user silently back in.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_out_whose_code_cannot_be_downloaded_keeps_the_session_says_so_and_works_on_retry() -> Result<()> {
    let harness = Harness::start().await?;
    // The refresh token is replayed from outside the browser below: unbound, so that only a revocation refuses it.
    harness.bearer_tokens_only();
    let browser = harness.signed_in_browser("jhon").await?;
    see_projects_in_app(&browser).await?;
    let token = require_refresh_token(&browser).await?;

    browser.cdp("Network.enable", serde_json::json!({})).await?;
    browser.cdp("Network.setBlockedURLs", serde_json::json!({ "urls": ["*split_sign_out_code.wasm"] })).await?;
    browser.click("logout-button").await?;
    browser.wait_for("sign-out-error").await?;
    browser.assert_shown_without("user-name", &["login-button", "auth-error"]).await?;
    ensure!(
        stored_refresh_token(&browser).await?.as_deref() == Some(token.as_str()),
        "a sign-out that could not start changed {REFRESH_KEY}"
    );
    ensure!(browser.count("project-row").await? > 0, "a sign-out that could not start left the Project List");

    browser.cdp("Network.setBlockedURLs", serde_json::json!({ "urls": [] })).await?;
    browser.click("logout-button").await?;
    browser.wait_for_path("/").await?;
    browser.assert_shown_without("login-button", &["user-name", "sign-out-error"]).await?;
    let answer = harness.refresh_grant(&token).await?;
    ensure!(
        answer.status == reqwest::StatusCode::BAD_REQUEST && answer.error() == Some("invalid_grant"),
        "after the retried sign-out the refresh token answered {} {}",
        answer.status,
        answer.body
    );
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_share_the_session_through_renewals_and_sign_out() -> Result<()> {
    let harness = Harness::builder().token_ttl(SHORT_TOKEN_TTL).start().await?;
    let browser = harness.browser().await?;
    let tab_a = browser.current_tab().await?;
    browser.goto("/").await?;
    browser.sign_in_as("jhon").await?;

    let tab_b = browser.open_tab().await?;
    browser.goto("/").await?;
    browser.wait_for("user-name").await.context("tab B, opened after sign-in in tab A")?;
    // The document on screen in B is the one `goto("/")` loaded; a trip to the provider would have ended on a
    // document loaded from `/callback?code=…` (see the reload test).
    let entry = browser.navigation_entry().await?;
    ensure!(
        entry.kind == "navigate" && entry.url == harness.spa_url("/"),
        "tab B's page was loaded by `{}` from {}, not by opening /: it went through the provider",
        entry.kind,
        entry.url
    );
    browser.assert_shown_without("user-name", &["auth-error"]).await.context("tab B")?;

    // Each tab renews on its own timer, one at a time under the Web Lock, writing each rotated token back to the
    // storage both share. Three rotations means both tabs went through renewals without tripping over each
    // other (a replayed token would make dev-idp revoke the family, and the next refresh would fail).
    let start = require_refresh_token(&browser).await?;
    wait_for_rotations(&browser, &start, 3, renewals_timeout(3)).await?;

    for (name, tab) in [("A", &tab_a), ("B", &tab_b)] {
        browser.switch_to(tab).await?;
        browser
            .assert_shown_without("user-name", &["auth-error"])
            .await
            .with_context(|| format!("tab {name} after the renewals"))?;
        see_projects_in_app(&browser).await.with_context(|| format!("tab {name} after the renewals"))?;
        browser
            .assert_shown_without_for("project-row", &["auth-error"], QUIET_WINDOW)
            .await
            .with_context(|| format!("tab {name}"))?;
    }

    // Sign out in A while both tabs show the home screen (signing out on a guarded screen is the sign-out
    // test's business). B must hear of it over the tab channel, without a page load.
    for tab in [&tab_b, &tab_a] {
        browser.switch_to(tab).await?;
        browser.goto("/").await?;
        browser.wait_for("user-name").await?;
        mark_document(&browser).await?;
    }
    browser.click("logout-button").await?;
    browser
        .wait_until("tab A to come back from the provider's end-session endpoint", browser.timeout(), async || {
            // While the browser is between documents, scripts fail: that is "not yet".
            Ok(matches!(is_marked(&browser).await, Ok(false)).then_some(()))
        })
        .await?;
    browser.wait_for_path("/").await?;
    browser.assert_shown_without("login-button", &["user-name"]).await?;

    browser.switch_to(&tab_b).await?;
    browser.wait_for_absent("user-name").await.context("tab B after tab A signed out")?;
    browser.wait_for("login-button").await.context("tab B after tab A signed out")?;
    ensure!(is_marked(&browser).await?, "tab B was reloaded or navigated instead of hearing the sign-out");
    ensure!(
        browser.local_storage_get(REFRESH_KEY).await?.is_none(),
        "after sign-out in tab A, localStorage still holds {REFRESH_KEY}"
    );
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn going_back_after_sign_in_does_no_harm() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.signed_in_browser("jhon").await?;
    browser.wait_for_path("/").await?;

    // History is now: the SPA before sign-in, dev-idp's sign-in page, the SPA (the callback, replaced by `/`).
    // Back #1 asks dev-idp's authorization endpoint again, which answers at once from its session with a code for
    // an attempt the SPA has already finished; Back #2 reaches the page from before sign-in.
    for step in 1..=2 {
        let context = || format!("after Back #{step}");
        browser.back().await.with_context(context)?;
        browser.wait_for_origin().await.with_context(context)?;
        browser.assert_shown_without_for("user-name", &["auth-error"], QUIET_WINDOW).await.with_context(context)?;
        let name = browser.text("user-name").await.with_context(context)?;
        ensure!(name == "Jhon Smith", "{}: user-name shows {name:?}", context());
        let url = browser.url().await?;
        ensure!(url.path() != "/callback", "{}: the SPA stayed at {url}", context());
        ensure!(
            !url.query().unwrap_or_default().contains("code="),
            "{}: the address bar still carries an authorization code: {url}",
            context()
        );
    }
    see_projects_in_app(&browser).await?;
    browser.assert_shown_without("project-row", &["auth-error"]).await?;
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guarded_screen_visited_signed_out_starts_the_sign_in_by_itself_and_returns() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.browser().await?;
    browser.goto("/users").await?;
    // Nothing here clicks: the guard of /users alone must send the browser to the provider's sign-in page. On
    // the way, the SPA must not show a signed-out visitor the users.
    browser
        .wait_until("the provider's sign-in page, reached from /users with no click", browser.timeout(), async || {
            // Between documents WebDriver commands fail: that is "not yet".
            let Ok(url) = browser.url().await else { return Ok(None) };
            if url.as_str().starts_with(&format!("{}/", browser.origin())) {
                if browser.count("user-row").await.unwrap_or(0) > 0 {
                    bail!("/users shows user rows to a signed-out visitor");
                }
                return Ok(None);
            }
            Ok((browser.count("signin-jhon").await.unwrap_or(0) > 0).then_some(()))
        })
        .await?;
    let requests = authorization_requests(&harness)?;
    ensure!(requests.len() == 1, "the guard sent {} authorization requests: {requests:?}", requests.len());

    browser.click("signin-jhon").await?;
    browser.wait_for_origin().await?;
    browser.wait_for_path("/users").await?;
    browser.wait_for("user-row").await?;
    browser.assert_shown_without("page-users", &["forbidden", "auth-error"]).await?;
    ensure!(browser.text("user-name").await? == "Jhon Smith", "user-name back on /users");
    let url = browser.url().await?;
    ensure!(url.query().is_none(), "back on /users the address bar still carries the callback's query: {url}");
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signing_key_rotation_mid_session_goes_unnoticed() -> Result<()> {
    let harness = Harness::builder().token_ttl(SHORT_TOKEN_TTL).start().await?;
    let browser = harness.signed_in_browser("jhon").await?;
    see_projects_in_app(&browser).await?;

    let old_kid = harness.active_kid().await?;
    harness.rotate_key().await?;
    let new_kid = harness.wait_for_new_signing_key(&old_kid, Duration::from_secs(15)).await?;
    let kids = harness.jwks_kids().await?;
    ensure!(
        kids.first() == Some(&new_kid) && kids.contains(&old_kid),
        "after the rotation the JWKS must list the new key {new_kid} first and still the old {old_kid}: {kids:?}"
    );

    // Before any renewal: the access token in memory, signed with the old key, still works at the api.
    browser.click("nav-users").await?;
    browser.wait_for("user-row").await.context("before the first renewal after the rotation")?;
    see_projects_in_app(&browser).await.context("before the first renewal after the rotation")?;

    // dev-idp signs with the new key from now on, so the next change of the stored refresh token comes from a
    // refresh that brought an ID token and an access token signed with it. The SPA had to accept that ID token
    // (checked against a key it has not seen before) to store the rotated refresh token; otherwise it shows
    // auth-error and the wait fails at once.
    let baseline = require_refresh_token(&browser).await?;
    wait_for_rotations(&browser, &baseline, 1, renewals_timeout(1)).await?;
    browser.wait_for("user-name").await?;

    // Fresh api calls with the new access token, without a page load.
    browser.click("nav-users").await?;
    browser.wait_for("page-users").await.context("after a renewal with the new key")?;
    browser.wait_for("user-row").await.context("after a renewal with the new key")?;
    see_projects_in_app(&browser).await.context("after a renewal with the new key")?;
    browser.assert_shown_without_for("project-row", &["auth-error"], QUIET_WINDOW).await?;

    // A reload restores a session from the refresh token: new-key tokens from the start of the page's life.
    browser.refresh().await?;
    browser
        .assert_shown_without_for("project-row", &["auth-error"], QUIET_WINDOW)
        .await
        .context("after a reload following the rotation")?;

    // The retired key stays published while tokens it signed may still be alive.
    let kids = harness.jwks_kids().await?;
    ensure!(kids.contains(&old_kid), "the JWKS dropped the retired key {old_kid} too early: {kids:?}");
    browser.close().await
}
