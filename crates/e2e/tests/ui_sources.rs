//! Where the UI's permissions come from, as `/config.json` chooses it, and what the permissions inspector says
//! about it: `capabilities_source: "api"` makes `GET {api_base}/me/capabilities` the source; with the ID token
//! as the source, a claim the parser cannot read grants nothing and shows as a warning; either way the
//! inspector names the source.

use anyhow::{Context, Result, ensure};
use e2e::{Browser, Harness, SpaConfig, api_path};
use fantoccini::Locator;
use permissions::names::{PERMISSIONS_CLAIM, ROLES_CLAIM};
use serde_json::{Value, json};

/// james's permissions (role `project-manager`), sorted.
const JAMES_PERMISSIONS: [&str; 2] = ["create:project", "read:project-list"];

/// The harness's working configuration with `changes` merged in (a `null` removes a key).
fn config_with(harness: &Harness, changes: Value) -> Result<SpaConfig> {
    let mut config = harness.default_config();
    let object = config.as_object_mut().context("the default configuration is a JSON object")?;
    for (key, value) in changes.as_object().context("the changes are a JSON object")? {
        if value.is_null() {
            object.remove(key);
        } else {
            object.insert(key.clone(), value.clone());
        }
    }
    Ok(SpaConfig::Json(config))
}

/// The `permission` hooks' texts, sorted.
async fn shown_permissions(browser: &Browser) -> Result<Vec<String>> {
    let mut permissions = browser.texts("permission").await?;
    permissions.sort();
    Ok(permissions)
}

/// Opens the inspector and returns its panel's "Source" entry once it names one.
async fn open_inspector_source(browser: &Browser) -> Result<String> {
    browser.click("inspector-toggle").await?;
    browser.wait_for("inspector").await?;
    let xpath = r#"//*[@data-testid="inspector"]//dt[normalize-space()="Source"]/following-sibling::dd[1]"#;
    browser
        .wait_until("the inspector to name the permissions' source", browser.timeout(), async || {
            let Some(entry) = browser.client().find_all(Locator::XPath(xpath)).await?.into_iter().next() else {
                return Ok(None);
            };
            let text = entry.text().await?.trim().to_string();
            Ok((!text.is_empty() && text != "(none yet)").then_some(text))
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities_source_api_takes_james_s_permissions_from_the_api() -> Result<()> {
    let harness = Harness::start().await?;
    // The ID token's roles claim as `permissions_claim`: read from the ID token it would grant james the
    // meaningless permission `project-manager` and no screen, so whatever he is shown comes from the API.
    harness
        .set_config(config_with(&harness, json!({ "capabilities_source": "api", "permissions_claim": ROLES_CLAIM }))?);
    let browser = harness.signed_in_browser("james").await?;

    browser.assert_shown_without("nav-projects", &["nav-users", "auth-error"]).await?;
    let permissions = shown_permissions(&browser).await?;
    ensure!(permissions == JAMES_PERMISSIONS, "james's permission hooks show {permissions:?}, not the API's");
    let capabilities = api_path(contract::api::CAPABILITIES);
    let asked = harness.api_statuses("GET", &capabilities)?;
    ensure!(asked.contains(&200), "the api's log shows no answered GET {capabilities}: {asked:?}");

    let source = open_inspector_source(&browser).await?;
    ensure!(
        source.contains("API") && source.contains(contract::api::CAPABILITIES),
        "the inspector names the source {source:?}, not the API's /me/capabilities"
    );
    let listed = browser.text("inspector-permissions").await?;
    for permission in JAMES_PERMISSIONS {
        ensure!(listed.contains(permission), "inspector-permissions shows {listed:?}, without {permission}");
    }
    ensure!(!listed.contains("project-manager"), "inspector-permissions shows the ID token's roles: {listed:?}");

    // The screens follow the API's view too.
    browser.click("nav-projects").await?;
    browser.wait_for("project-row").await?;
    let create = browser.wait_for("project-create").await?;
    ensure!(create.is_enabled().await?, "project-create is disabled although the API grants james create:project");
    browser.goto(contract::routes::USERS).await?;
    browser.assert_shown_without("forbidden", &["user-row"]).await?;
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inspector_names_the_source_and_warns_about_an_unreadable_claim() -> Result<()> {
    let harness = Harness::start().await?;
    // The permissions claim is fine; the roles claim names `email_verified`, which dev-idp issues as `true`:
    // no list of roles, so it must grant nothing (not even the mapped delete:project) and say why.
    let roles =
        json!({ "roles_claim": "email_verified", "role_permissions": { "project-manager": ["delete:project"] } });
    harness.set_config(config_with(&harness, roles)?);
    let browser = harness.signed_in_browser("james").await?;
    browser.wait_for("nav-projects").await?;
    let permissions = shown_permissions(&browser).await?;
    ensure!(permissions == JAMES_PERMISSIONS, "james's permission hooks show {permissions:?}");

    let source = open_inspector_source(&browser).await?;
    ensure!(
        source.contains(PERMISSIONS_CLAIM) && source.contains("email_verified"),
        "the inspector's source {source:?} does not name both claims it read ({PERMISSIONS_CLAIM}, email_verified)"
    );
    let warnings = browser
        .wait_until("the inspector to show a warning", browser.timeout(), async || {
            let warnings = browser.texts("inspector-warning").await?;
            Ok((!warnings.is_empty()).then_some(warnings))
        })
        .await?;
    ensure!(
        warnings.len() == 1 && warnings[0].contains("email_verified"),
        "expected one inspector warning about the claim email_verified, the inspector shows {warnings:?}"
    );
    let listed = browser.text("inspector-permissions").await?;
    ensure!(!listed.contains("delete:project"), "the unreadable roles claim granted delete:project: {listed:?}");

    browser.close().await
}
