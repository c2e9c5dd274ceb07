//! No request waits on one it need not (issue 8): the code a screen needs is downloaded in a chunk, and neither
//! the screen's data nor the start-up's other requests queue behind that download.
//!
//! Each test holds one kind of request in the page (a script that runs before the SPA in every document wraps
//! `fetch`, which the chunk loader and the SPA both use) and shows that another request is made meanwhile: the
//! Project List's API request while its chunk is held, the callback's chunk while `/config.json` is held. A test
//! fails if the request it waits for only comes once the held one is released, which is what a waterfall is.

use anyhow::{Context, Result, ensure};
use contract::api::PROJECTS;
use e2e::{Browser, Harness, api_path};
use serde_json::{Value, json};
use std::time::Duration;

/// Holds every `fetch` whose URL contains one of `HOLD` (replaced by a JSON array of strings) until
/// `window.__e2eRelease()`; `window.__e2eFetched` lists every URL fetched, `window.__e2eHeld` those held.
const HOLD_SCRIPT: &str = r#"
(() => {
  if (location.origin !== SPA_ORIGIN) return;
  const hold = HOLD;
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  window.__e2eFetched = [];
  window.__e2eHeld = [];
  window.__e2eRelease = () => release();
  const original = window.fetch;
  window.fetch = function (...args) {
    const target = args[0] instanceof Request ? args[0].url : String(args[0]);
    window.__e2eFetched.push(target);
    if (!hold.some((part) => target.includes(part))) return original.apply(this, args);
    window.__e2eHeld.push(target);
    return released.then(() => original.apply(this, args));
  };
})();
"#;

/// Installs [`HOLD_SCRIPT`], holding the fetches whose URL contains one of `hold`, for every document the tab
/// loads from now on.
async fn hold_fetches(harness: &Harness, browser: &Browser, hold: &[&str]) -> Result<()> {
    let script = HOLD_SCRIPT
        .replace("SPA_ORIGIN", &json!(harness.spa_origin()).to_string())
        .replace("HOLD", &json!(hold).to_string());
    browser.add_script_for_new_documents(&script).await
}

/// The URLs the current document has fetched, and those of them held.
async fn fetches(browser: &Browser) -> Result<(Vec<String>, Vec<String>)> {
    let value = browser.execute("return [window.__e2eFetched ?? null, window.__e2eHeld ?? null];", Vec::new()).await?;
    let list = |value: &Value| -> Result<Vec<String>> {
        let items = value.as_array().context("the fetch-holding script is not installed in this document")?;
        Ok(items.iter().filter_map(|item| item.as_str().map(String::from)).collect())
    };
    Ok((list(&value[0])?, list(&value[1])?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_of_the_project_list_asks_the_api_while_the_screen_s_chunk_is_still_downloading() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.signed_in_browser("jhon").await?;
    browser.goto(PROJECTS_ROUTE).await?;
    browser.wait_for("project-row").await?;
    let projects = api_path(PROJECTS);
    let before = harness.api_statuses("GET", &projects)?.len();

    hold_fetches(&harness, &browser, &["-split_project_list.wasm"]).await?;
    browser.refresh().await?;
    browser
        .wait_until("the Project List's chunk to be requested (and held)", Duration::from_secs(10), async || {
            let (_, held) = fetches(&browser).await?;
            Ok((!held.is_empty()).then_some(()))
        })
        .await?;
    browser
        .wait_until(
            "the api to answer the Project List's request while the screen's chunk is held",
            Duration::from_secs(10),
            async || Ok((harness.api_statuses("GET", &projects)?.len() > before).then_some(())),
        )
        .await?;
    ensure!(browser.count("project-row").await? == 0, "rows shown while the screen's code is held");

    browser.execute("window.__e2eRelease();", Vec::new()).await?;
    browser.wait_for("project-row").await?;
    let statuses = harness.api_statuses("GET", &projects)?;
    ensure!(
        statuses[before..] == [200],
        "the reload should ask the api for the list once, and the screen take that answer over: {:?}",
        &statuses[before..]
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_s_chunk_downloads_while_the_configuration_is_still_loading() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.browser().await?;
    browser.goto("/").await?;
    browser.wait_for("login-button").await?;
    // For the documents loaded from now on: `/` has its configuration already, and the provider's pages are
    // left alone; the callback's document is the one held.
    hold_fetches(&harness, &browser, &["/config.json"]).await?;
    let callback = "-split_callback_code.wasm";
    browser.click("login-button").await?;
    browser.click("signin-jhon").await?;
    browser.wait_for_origin().await?;
    browser
        .wait_until(
            "the callback's chunk to be requested while /config.json is held",
            Duration::from_secs(10),
            async || {
                let (fetched, held) = fetches(&browser).await?;
                Ok((!held.is_empty() && fetched.iter().any(|url| url.contains(callback))).then_some(()))
            },
        )
        .await?;
    browser.execute("window.__e2eRelease();", Vec::new()).await?;
    browser.wait_for("user-name").await?;
    Ok(())
}

/// The Project List's route.
const PROJECTS_ROUTE: &str = contract::routes::PROJECTS;
