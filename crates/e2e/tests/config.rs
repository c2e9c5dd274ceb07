//! A missing or malformed `/config.json` must show the configuration error page, never a blank screen, and
//! must not offer a login that could not work.

use anyhow::{Context, Result};
use e2e::{Harness, SpaConfig};

/// Loads the SPA with the given configuration and expects `config-error` and no `login-button`.
async fn expect_config_error(harness: &Harness) -> Result<()> {
    let browser = harness.browser().await?;
    browser.goto(contract::routes::HOME).await?;
    browser.assert_shown_without("config-error", &["login-button", "user-name", "auth-error"]).await?;
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_error_when_config_json_is_missing() -> Result<()> {
    let harness = Harness::spa_only(SpaConfig::NotFound).await?;
    expect_config_error(&harness).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_error_when_config_json_is_not_json() -> Result<()> {
    let harness = Harness::spa_only(SpaConfig::Raw("issuer = not json at all".into())).await?;
    expect_config_error(&harness).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_error_when_issuer_is_missing() -> Result<()> {
    let harness = Harness::spa_only(SpaConfig::Default).await?;
    let mut config = harness.default_config();
    config.as_object_mut().context("the default configuration is a JSON object")?.remove("issuer");
    harness.set_config(SpaConfig::Json(config));
    expect_config_error(&harness).await
}
