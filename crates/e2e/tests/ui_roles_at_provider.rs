//! Roles that live at the identity provider (`api --roles-managed-by provider`): the User List still shows each
//! user's roles, but the role toggles are disabled with the API's reason beside them, and the API refuses an
//! edit with `409` and the same reason, so nothing changes either way.

use anyhow::{Context, Result, ensure};
use contract::api::{ROLES, USERS};
use e2e::{Harness, api_path};
use fantoccini::Locator;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// The CSS selector of every role toggle in the User List's rows.
const ROLE_TOGGLES: &str = r#"[data-testid="user-row"] [data-testid^="role-"]"#;

/// The roles the api lists for `username` (`GET /api/v1/users` with an admin's token), and the user's id.
async fn api_user(harness: &Harness, admin_token: &str, username: &str) -> Result<(i64, Vec<String>)> {
    let answer =
        harness.api_call(Method::GET, &format!("{}?per_page=100", api_path(USERS)), Some(admin_token), None).await?;
    ensure!(answer.status == StatusCode::OK, "GET /api/v1/users answered {}: {}", answer.status, answer.body);
    let user = answer
        .body
        .as_array()
        .context("GET /api/v1/users answered no array")?
        .iter()
        .find(|user| user["username"] == username)
        .with_context(|| format!("GET /api/v1/users does not list {username}"))?
        .clone();
    let id = user["id"].as_i64().with_context(|| format!("{username} has no id: {user}"))?;
    let roles = user["roles"].as_array().with_context(|| format!("{username} has no roles array: {user}"))?;
    Ok((id, roles.iter().filter_map(|role| role.as_str().map(str::to_owned)).collect()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_toggles_are_disabled_with_the_reason_when_the_provider_manages_roles() -> Result<()> {
    let harness = Harness::builder().api_arg("--roles-managed-by").api_arg("provider").start().await?;
    let token = harness.access_token_for("jhon").await?;
    let catalog = harness.api_call(Method::GET, &api_path(ROLES), Some(&token), None).await?;
    ensure!(catalog.status == StatusCode::OK, "GET /api/v1/roles answered {}: {}", catalog.status, catalog.body);
    ensure!(catalog.body["editable"] == json!(false), "the api calls roles editable: {}", catalog.body);
    let reason = catalog.body["reason"].as_str().context("the role catalogue gives no reason")?.to_string();

    let browser = harness.signed_in_browser("jhon").await?;
    browser.click("nav-users").await?;
    browser.wait_for("user-row").await?;
    // Each row's toggles arrive with the role catalogue, after the rows.
    browser.wait_for_css(ROLE_TOGGLES, "the role toggles").await?;
    let shown = browser.text("roles-external").await?;
    ensure!(shown.contains(&reason), "the User List says {shown:?}, not the api's reason {reason:?}");

    let toggles = browser.client().find_all(Locator::Css(ROLE_TOGGLES)).await?;
    let rows = browser.count("user-row").await?;
    ensure!(toggles.len() >= rows, "{} role toggles for {rows} user rows", toggles.len());
    for toggle in &toggles {
        let testid = toggle.attr("data-testid").await?.unwrap_or_default();
        ensure!(!toggle.is_enabled().await?, "the toggle {testid} is enabled although the provider manages roles");
    }

    // Clicking one (whether or not WebDriver lets the click through) changes nothing at the api.
    let (gustav, before) = api_user(&harness, &token, "gustav").await?;
    let viewer = r#"[data-testid="user-row"][data-user="gustav"] [data-testid="role-viewer"]"#;
    if let Ok(control) = browser.client().find(Locator::Css(viewer)).await {
        let _ = control.click().await;
    }
    let answer = harness
        .api_call(
            Method::PUT,
            &api_path(&contract::api::user_roles(gustav)),
            Some(&token),
            Some(&json!({ "roles": ["viewer"] })),
        )
        .await?;
    ensure!(answer.status == StatusCode::CONFLICT, "PUT gustav's roles answered {}, expected 409", answer.status);
    ensure!(
        answer.body.to_string().contains(&reason),
        "the 409 does not give the catalogue's reason {reason:?}: {}",
        answer.body
    );
    let (_, after) = api_user(&harness, &token, "gustav").await?;
    ensure!(after == before, "gustav's roles changed from {before:?} to {after:?}");
    browser.close().await
}
