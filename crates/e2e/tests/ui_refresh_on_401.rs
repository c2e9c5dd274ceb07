//! The SPA's answer to an API `401`: one refresh of the session and one retry of the request, so that a token
//! the API stopped accepting goes unnoticed when a fresh one is accepted — and no second round when the fresh
//! one is refused too.
//!
//! The API is made to refuse the token the tab holds for real reasons, not by a fake: the provider withdraws
//! the key that signed it and the api restarts (it fetches keys afresh), or the api restarts for another
//! audience than the provider's tokens carry.

use anyhow::{Context, Result, ensure};
use e2e::{Browser, Harness, api_path};
use std::time::Duration;

/// The path of the API request the Project List makes.
fn projects() -> String {
    api_path(contract::api::PROJECTS)
}

/// How long to keep watching for requests that must not come, once the screen shows the outcome. A retry loop
/// sends its next request within milliseconds.
const QUIET_WINDOW: Duration = Duration::from_secs(3);

/// The path of dev-idp's token endpoint, from its discovery document.
async fn token_path(harness: &Harness) -> Result<String> {
    let metadata = harness.provider_metadata().await?;
    let endpoint = metadata["token_endpoint"].as_str().context("the discovery document names no token_endpoint")?;
    Ok(url::Url::parse(endpoint).with_context(|| format!("token_endpoint {endpoint:?}"))?.path().to_string())
}

/// A browser on the harness's SPA, signed in as jhon and on the home screen, which calls no API.
async fn jhon_at_home(harness: &Harness) -> Result<Browser> {
    let browser = harness.signed_in_browser("jhon").await?;
    browser.wait_for("nav-projects").await?;
    Ok(browser)
}

/// Marks the document on screen, so that [`still_marked`] can tell later whether a reload replaced it.
async fn mark_document(browser: &Browser) -> Result<()> {
    browser.execute("window.__e2eRetryMark = true;", Vec::new()).await.map(drop)
}

/// Whether the document on screen is the one [`mark_document`] marked.
async fn still_marked(browser: &Browser) -> Result<bool> {
    Ok(browser.execute("return window.__e2eRetryMark === true;", Vec::new()).await? == serde_json::json!(true))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_refreshed_once_and_the_request_retried_unnoticed() -> Result<()> {
    let mut harness = Harness::start().await?;
    let browser = jhon_at_home(&harness).await?;
    let token_path = token_path(&harness).await?;

    // The provider signs with a new key and withdraws the one that signed the tab's tokens; the api restarts
    // and knows only the new key.
    let old_kid = harness.active_kid().await?;
    harness.rotate_key().await?;
    let new_kid = harness.wait_for_new_signing_key(&old_kid, Duration::from_secs(30)).await?;
    harness.withdraw_older_signing_keys()?;
    let kids = harness.jwks_kids().await?;
    ensure!(kids == [new_kid.clone()], "after the withdrawal the JWKS must publish only {new_kid}, not {kids:?}");
    harness.restart_api().await?;

    let refreshes_before = harness.idp_requests("POST", &token_path)?;
    let sign_ins_before = harness.idp_requests("GET", "/authorize")?;
    mark_document(&browser).await?;
    browser.click("nav-projects").await?;
    browser.assert_shown_without("project-row", &["auth-error"]).await?;
    let alerts = browser.count_css(r#"[data-testid="page-projects"] [role="alert"]"#).await?;
    ensure!(alerts == 0, "the Project List shows {alerts} alert(s) beside its rows");

    // What happened behind the screen: the old token refused, one refresh, the same request accepted.
    let statuses = harness.api_statuses("GET", &projects())?;
    ensure!(statuses == [401, 200], "the api answered GET {} with {statuses:?}, expected a 401 then a 200", projects());
    let refreshes = harness.idp_requests("POST", &token_path)? - refreshes_before;
    ensure!(refreshes == 1, "the SPA asked the token endpoint {refreshes} time(s) after the 401, expected once");
    // And nothing the user would notice: no reload, no trip to the provider's sign-in.
    ensure!(still_marked(&browser).await?, "the page was reloaded to recover from the 401");
    let sign_ins = harness.idp_requests("GET", "/authorize")? - sign_ins_before;
    ensure!(sign_ins == 0, "the SPA sent the browser to the provider's sign-in {sign_ins} time(s)");
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_401_after_the_refresh_is_not_retried_again() -> Result<()> {
    let mut harness = Harness::start().await?;
    let browser = jhon_at_home(&harness).await?;
    let token_path = token_path(&harness).await?;

    // Every token the provider issues names the real audience; this api accepts none of them.
    harness.restart_api_for("https://another-api.permission-spa.example").await?;
    let refreshes_before = harness.idp_requests("POST", &token_path)?;
    browser.click("nav-projects").await?;
    // What the SPA has done so far: the api's answers to the list request, and refreshes since the restart.
    let so_far = || -> Result<(Vec<u16>, usize)> {
        let statuses = harness.api_statuses("GET", &projects())?;
        let refreshes = harness.idp_requests("POST", &token_path)? - refreshes_before;
        ensure!(
            statuses.len() <= 2 && refreshes <= 1,
            "the SPA kept retrying: GET {} answered {statuses:?} and the token endpoint was asked {refreshes} time(s)",
            projects()
        );
        Ok((statuses, refreshes))
    };

    // The outcome on screen, the list's error or the session's, while the requests stay within one retry.
    let failed = r#"[data-testid="page-projects"] [role="alert"], [data-testid="auth-error"]"#;
    browser
        .wait_until("the Project List's error after the refused retry", browser.timeout(), async || {
            so_far()?;
            Ok((browser.count_css(failed).await? > 0).then_some(()))
        })
        .await?;
    browser.assert_shown_without("page-projects", &["project-row"]).await?;

    // Then quiet: two requests (the first and its one retry), one refresh, and no more for a while.
    let until = std::time::Instant::now() + QUIET_WINDOW;
    let mut seen = so_far()?;
    while std::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(200)).await;
        seen = so_far()?;
    }
    ensure!(
        seen == (vec![401, 401], 1),
        "expected GET {} answered [401, 401] and one refresh, saw {seen:?}",
        projects()
    );
    browser.close().await
}
