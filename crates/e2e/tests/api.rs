//! The api behind the SPA's origin refuses anonymous calls the way a bearer-token API must.

use anyhow::{Context, Result, ensure};
use e2e::{Harness, api_path};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_list_without_a_token_is_401_with_a_bearer_challenge() -> Result<()> {
    let harness = Harness::start().await?;
    let url = harness.spa_url(&api_path(contract::api::USERS));
    let response = reqwest::get(&url).await.with_context(|| format!("GET {url}"))?;
    let status = response.status();
    ensure!(status == reqwest::StatusCode::UNAUTHORIZED, "GET {url} without a token answered {status}, expected 401");
    let challenge = response
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .context("the 401 carries no WWW-Authenticate header")?
        .to_str()
        .context("WWW-Authenticate is not text")?;
    ensure!(challenge.starts_with("Bearer"), "WWW-Authenticate is {challenge:?}, expected a Bearer challenge");
    Ok(())
}
