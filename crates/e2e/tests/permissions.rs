//! What each permission unlocks, end to end: the controls the SPA renders for a user (present, absent, or
//! disabled with the reason), that the ones it renders work against the real api, that the api refuses what
//! the UI hides when called with the user's own access token, the permissions inspector, and the README's
//! screenshots.
//!
//! Users (see the e2e contract and the seeded demo data): `jhon` is `admin` (every permission), `james` is
//! `project-manager` (`read:project-list`, `create:project`), `bruno` is `viewer` (`read:project-list`),
//! `nobody` and `gustav` hold no role.

use anyhow::{Context, Result, bail, ensure};
use contract::api::{CAPABILITIES, PROJECTS, USERS};
use e2e::{Browser, Harness, api_path, screenshots};
use fantoccini::Locator;
use fantoccini::elements::Element;
use permissions::names::PERMISSIONS_CLAIM;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// The roles the seeded store knows, each with its `role-<role>` control on the User List.
const ROLES: [&str; 4] = ["admin", "project-manager", "viewer", "auditor"];

/// james's permissions, sorted.
const JAMES_PERMISSIONS: [&str; 2] = ["create:project", "read:project-list"];

/// Enough rows per API page to hold every seeded user and project (and a few created ones) at once.
const ALL: &str = "per_page=100";

/// Opens the Project List, checks that *New project* is offered, enabled and with no reason beside it, as it is
/// to whoever holds `create:project` (`who`, for the message), and returns it.
async fn open_projects_with_create_enabled(browser: &Browser, who: &str) -> Result<Element> {
    browser.goto(contract::routes::PROJECTS).await?;
    browser.wait_for("project-row").await?;
    let create = browser.wait_for("project-create").await?;
    ensure!(create.is_enabled().await?, "project-create is disabled for {who}, who holds create:project");
    browser.assert_shown_without("project-create", &["disabled-reason"]).await?;
    Ok(create)
}

/// The CSS selector of the project row for project `id`.
fn project_row(id: i64) -> String {
    format!(r#"[data-testid="project-row"][data-project="{id}"]"#)
}

/// The CSS selector of `username`'s row on the User List.
fn user_row(username: &str) -> String {
    format!(r#"[data-testid="user-row"][data-user="{username}"]"#)
}

/// The CSS selector of the `role-<role>` control in `username`'s row.
fn role_control(username: &str, role: &str) -> String {
    format!(r#"{} [data-testid="role-{role}"]"#, user_row(username))
}

/// A project name no other run or test uses.
fn unique_project_name() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("E2E project {:x}-{}", nanos, std::process::id())
}

/// Today's date in UTC as `YYYY-MM-DD`, the form the api dates projects in.
fn today_utc() -> String {
    let days = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400) as i64;
    let (year, month, day) = civil_date(days);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The proleptic Gregorian date `days` days after 1970-01-01, counted in 400-year eras of 146 097 days that
/// start on a 1 March, so that the leap day falls at the end of each era-year.
fn civil_date(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[test]
fn civil_dates_are_right() {
    assert_eq!(civil_date(0), (1970, 1, 1));
    assert_eq!(civil_date(59), (1970, 3, 1));
    assert_eq!(civil_date(11_016), (2000, 2, 29));
    assert_eq!(civil_date(19_782), (2024, 2, 29));
    assert_eq!(civil_date(20_453), (2025, 12, 31));
    assert_eq!(civil_date(20_454), (2026, 1, 1));
    assert_eq!(civil_date(-1), (1969, 12, 31));
}

/// `GET path` with `token`, which must answer 200, as JSON.
async fn api_get_ok(harness: &Harness, path: &str, token: &str) -> Result<Value> {
    let answer = harness.api_call(Method::GET, path, Some(token), None).await?;
    ensure!(answer.status == StatusCode::OK, "GET {path} answered {}: {}", answer.status, answer.body);
    Ok(answer.body)
}

/// The roles the api lists for `username` (`GET /api/v1/users` with an admin's token).
async fn api_roles_of(harness: &Harness, admin_token: &str, username: &str) -> Result<Vec<String>> {
    let users = api_get_ok(harness, &format!("{}?{ALL}", api_path(USERS)), admin_token).await?;
    let user = users
        .as_array()
        .context("GET /api/v1/users answered no array")?
        .iter()
        .find(|user| user["username"] == username)
        .with_context(|| format!("GET /api/v1/users does not list {username}: {users}"))?;
    let roles = user["roles"].as_array().with_context(|| format!("{username} has no roles array: {user}"))?;
    Ok(roles.iter().filter_map(|role| role.as_str().map(str::to_owned)).collect())
}

/// The ids of every project the api lists.
async fn api_project_ids(harness: &Harness, token: &str) -> Result<Vec<i64>> {
    let projects = api_get_ok(harness, &format!("{}?{ALL}", api_path(PROJECTS)), token).await?;
    let list = projects.as_array().context("GET /api/v1/projects answered no array")?;
    Ok(list.iter().filter_map(|project| project["id"].as_i64()).collect())
}

/// Waits until `element` has left the document: the list it was part of has been rendered anew.
async fn wait_until_replaced(browser: &Browser, element: &Element, what: &str) -> Result<()> {
    browser
        .wait_until(what, browser.timeout(), async || match element.prop("isConnected").await {
            Ok(Some(connected)) if connected == "true" => Ok(None),
            Ok(_) => Ok(Some(())),
            Err(err) if err.is_stale_element_reference() || err.is_no_such_element() => Ok(Some(())),
            Err(err) => Err(err.into()),
        })
        .await
}

/// Whether the `role-<role>` checkbox in `username`'s row is checked; waits for it to be shown.
async fn role_checked(browser: &Browser, username: &str, role: &str) -> Result<(Element, bool)> {
    let selector = role_control(username, role);
    let control = browser.wait_for_css(&selector, &format!("{username}'s role-{role} control")).await?;
    let checked = control.is_selected().await.with_context(|| format!("reading whether {selector} is checked"))?;
    Ok((control, checked))
}

/// Clicks `username`'s `role-<role>` checkbox on the User List, waits until the list has been fetched again
/// and rendered anew, and returns whether the re-rendered checkbox is checked.
async fn toggle_role(browser: &Browser, username: &str, role: &str) -> Result<bool> {
    let (control, _) = role_checked(browser, username, role).await?;
    control.click().await.with_context(|| format!("clicking {username}'s role-{role} checkbox"))?;
    wait_until_replaced(
        browser,
        &control,
        &format!("the User List to be reloaded after toggling {username}'s role-{role}"),
    )
    .await?;
    Ok(role_checked(browser, username, role).await?.1)
}

/// Rows per page on the SPA's lists.
const SPA_PER_PAGE: usize = 10;

/// Visits every page of the Project List (`/projects?page=N`, as many as the api's `project_count` needs)
/// and fails if any row offers `project-delete`.
async fn assert_no_delete_on_any_page(browser: &Browser, project_count: usize) -> Result<()> {
    let pages = project_count.div_ceil(SPA_PER_PAGE).max(1);
    for page in 1..=pages {
        browser.goto(&format!("{}?{}={page}", contract::routes::PROJECTS, contract::routes::PAGE_PARAM)).await?;
        // The rows render with whatever actions they offer, so once a row shows, its Delete would be there.
        browser
            .assert_shown_without("project-row", &["project-delete", "project-delete-confirm"])
            .await
            .with_context(|| format!("Project List page {page}"))?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jhon_creates_and_deletes_a_project() -> Result<()> {
    let harness = Harness::start().await?;
    let token = harness.access_token_for("jhon").await?;
    let browser = harness.signed_in_browser("jhon").await?;
    let create = open_projects_with_create_enabled(&browser, "jhon").await?;
    ensure!(browser.count("project-delete").await? > 0, "jhon holds delete:project but no row has project-delete");

    let name = unique_project_name();
    create.click().await.context("clicking project-create")?;
    browser.wait_for("project-name").await?.send_keys(&name).await.context("typing the project's name")?;
    browser
        .wait_for("project-description")
        .await?
        .send_keys("Created by the end-to-end tests")
        .await
        .context("typing the project's description")?;
    // The api dates the project with its own clock; a run across midnight (UTC) may see either day.
    let day_of_submit = today_utc();
    browser.click("project-submit").await?;

    // The new project is dated today, so it heads the list (newest first).
    let row = browser
        .wait_until(&format!("a project-row for {name:?}"), browser.timeout(), async || {
            for row in browser.client().find_all(Locator::Css(r#"[data-testid="project-row"]"#)).await? {
                if row.text().await.unwrap_or_default().contains(&name) {
                    return Ok(Some(row));
                }
            }
            Ok(None)
        })
        .await?;
    let id: i64 = row
        .attr("data-project")
        .await?
        .context("the new project-row has no data-project")?
        .parse()
        .context("the new project-row's data-project is not a number")?;
    let first = browser.wait_for("project-row").await?.attr("data-project").await?;
    ensure!(first == Some(id.to_string()), "the new project {id} is not listed first (the first row is {first:?})");
    let row_text = row.text().await?;
    let today = today_utc();
    ensure!(
        row_text.contains(&today) || row_text.contains(&day_of_submit),
        "the new project's row does not show today's date {today}: {row_text:?}"
    );
    ensure!(api_project_ids(&harness, &token).await?.contains(&id), "the api does not list the new project {id}");

    let row_selector = project_row(id);
    let delete = format!(r#"{row_selector} [data-testid="project-delete"]"#);
    browser.wait_for_css(&delete, "the new project's project-delete").await?.click().await?;
    let confirm = format!(r#"{row_selector} [data-testid="project-delete-confirm"]"#);
    browser.wait_for_css(&confirm, "the new project's project-delete-confirm").await?.click().await?;
    browser
        .wait_until(&format!("project {id}'s row to disappear"), browser.timeout(), async || {
            Ok((browser.count_css(&row_selector).await? == 0).then_some(()))
        })
        .await?;
    browser.wait_for("project-row").await?;
    ensure!(!api_project_ids(&harness, &token).await?.contains(&id), "the api still lists the deleted project {id}");
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jhon_grants_and_removes_a_role() -> Result<()> {
    let harness = Harness::start().await?;
    let token = harness.access_token_for("jhon").await?;
    let before = api_roles_of(&harness, &token, "gustav").await?;
    ensure!(before.is_empty(), "gustav should start without a role, but the api lists {before:?}");

    let browser = harness.signed_in_browser("jhon").await?;
    browser.goto(contract::routes::USERS).await?;
    browser.wait_for("user-row").await?;
    // Every row has one control per role once the role catalog has arrived.
    let rows = browser.count("user-row").await?;
    for role in ROLES {
        let selector = format!(r#"[data-testid="user-row"] [data-testid="role-{role}"]"#);
        browser
            .wait_until(&format!("each of the {rows} user rows to have role-{role}"), browser.timeout(), async || {
                Ok((browser.count_css(&selector).await? == rows).then_some(()))
            })
            .await?;
    }
    // fatima is an admin on the first page (the list is sorted by username; jhon is on the second).
    let (_, fatima_admin) = role_checked(&browser, "fatima", "admin").await?;
    ensure!(fatima_admin, "fatima's role-admin checkbox is not checked, though fatima is an admin");
    for role in ROLES {
        let (_, checked) = role_checked(&browser, "gustav", role).await?;
        ensure!(!checked, "gustav holds no role, but his role-{role} checkbox is checked");
    }

    ensure!(toggle_role(&browser, "gustav", "viewer").await?, "gustav's role-viewer is unchecked after granting it");
    let granted = api_roles_of(&harness, &token, "gustav").await?;
    ensure!(granted == ["viewer"], "after granting viewer the api lists gustav's roles as {granted:?}");

    ensure!(!toggle_role(&browser, "gustav", "viewer").await?, "gustav's role-viewer is still checked after removal");
    let removed = api_roles_of(&harness, &token, "gustav").await?;
    ensure!(removed.is_empty(), "after removing viewer the api lists gustav's roles as {removed:?}");
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn james_may_create_but_not_delete_and_the_api_agrees() -> Result<()> {
    let harness = Harness::start().await?;
    let token = harness.access_token_for("james").await?;
    let browser = harness.signed_in_browser("james").await?;
    open_projects_with_create_enabled(&browser, "james").await?;
    let project_count = api_project_ids(&harness, &token).await?.len();
    assert_no_delete_on_any_page(&browser, project_count).await?;
    browser.goto(contract::routes::USERS).await?;
    browser.assert_shown_without("forbidden", &["user-row", "page-users"]).await?;
    browser.close().await?;

    let capabilities = api_get_ok(&harness, &api_path(CAPABILITIES), &token).await?;
    ensure!(
        capabilities["permissions"] == json!(JAMES_PERMISSIONS),
        "GET /api/v1/me/capabilities lists {}, expected exactly {JAMES_PERMISSIONS:?}",
        capabilities["permissions"]
    );
    // The token works for what james may do, so the refusals below are about permissions, not the token.
    let projects_before = api_project_ids(&harness, &token).await?;
    ensure!(projects_before.contains(&1), "project 1 is not in the list james reads: {projects_before:?}");

    let refused: [(Method, String, Option<Value>); 3] = [
        (Method::DELETE, api_path(&contract::api::project(1)), None),
        (Method::PUT, api_path(&contract::api::user_roles(1)), Some(json!({ "roles": ["project-manager"] }))),
        (Method::GET, api_path(USERS), None),
    ];
    for (method, path, body) in refused {
        let answer = harness.api_call(method.clone(), &path, Some(&token), body.as_ref()).await?;
        ensure!(
            answer.status == StatusCode::FORBIDDEN,
            "{method} {path} with james's token answered {}, expected 403: {}",
            answer.status,
            answer.body
        );
        let challenge = answer.www_authenticate().unwrap_or_default();
        ensure!(
            challenge.contains("insufficient_scope"),
            "{method} {path}'s 403 has WWW-Authenticate {challenge:?}, expected an insufficient_scope challenge"
        );
    }
    // Refused means nothing happened.
    ensure!(api_project_ids(&harness, &token).await?.contains(&1), "project 1 is gone after james's refused DELETE");
    let admin = harness.access_token_for("jhon").await?;
    let roles = api_roles_of(&harness, &admin, "jhon").await?;
    ensure!(roles == ["admin"], "jhon's roles are {roles:?} after james's refused PUT, expected [\"admin\"]");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bruno_the_viewer_sees_new_project_disabled_with_the_reason() -> Result<()> {
    let harness = Harness::start().await?;
    let token = harness.access_token_for("bruno").await?;
    let browser = harness.signed_in_browser("bruno").await?;
    // The nav link shows that the permissions are known; the home screen lists them in the same render.
    browser.wait_for("nav-projects").await?;
    let permissions = browser.texts("permission").await?;
    ensure!(permissions == ["read:project-list"], "bruno's permission hooks show {permissions:?}");
    browser.goto(contract::routes::PROJECTS).await?;
    browser.wait_for("project-row").await?;
    let create = browser.wait_for("project-create").await?;
    ensure!(!create.is_enabled().await?, "project-create is enabled for bruno, who lacks create:project");
    let reason = browser.text("disabled-reason").await?;
    ensure!(reason.contains("create:project"), "the disabled-reason {reason:?} does not name create:project");
    // Evidence for whoever reads the run: the disabled button beside its reason.
    browser.screenshot(&harness.artifacts_dir().join("bruno-projects.png")).await?;
    // Clicking the disabled control opens nothing (whether or not WebDriver lets the click through).
    let _ = create.click().await;
    browser.assert_shown_without("project-create", &["project-form"]).await?;
    let project_count = api_project_ids(&harness, &token).await?.len();
    assert_no_delete_on_any_page(&browser, project_count).await?;
    browser.close().await?;

    let answer = harness
        .api_call(Method::POST, &api_path(PROJECTS), Some(&token), Some(&json!({ "name": "Not bruno's to make" })))
        .await?;
    ensure!(
        answer.status == StatusCode::FORBIDDEN,
        "POST /api/v1/projects with bruno's token answered {}, expected 403: {}",
        answer.status,
        answer.body
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_sees_nothing_and_the_api_refuses_nobody() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.signed_in_browser("nobody").await?;
    for path in [contract::routes::PROJECTS, contract::routes::USERS] {
        browser.goto(path).await?;
        // Forbidden is the verdict of known permissions: the nav beside it is decided too.
        browser
            .assert_shown_without(
                "forbidden",
                &["project-row", "user-row", "project-create", "nav-projects", "nav-users"],
            )
            .await
            .with_context(|| format!("{path} for nobody"))?;
    }
    browser.close().await?;

    let token = harness.access_token_for("nobody").await?;
    let answer = harness.api_call(Method::GET, &api_path(PROJECTS), Some(&token), None).await?;
    ensure!(
        answer.status == StatusCode::FORBIDDEN,
        "GET /api/v1/projects with nobody's token answered {}, expected 403: {}",
        answer.status,
        answer.body
    );
    let capabilities = api_get_ok(&harness, &api_path(CAPABILITIES), &token).await?;
    ensure!(capabilities["permissions"] == json!([]), "nobody's capabilities are {}", capabilities["permissions"]);
    Ok(())
}

/// The inspector's guard rows, as `label | needs | verdict` lines.
async fn guard_rows(browser: &Browser) -> Result<Vec<String>> {
    let mut rows = Vec::new();
    for row in browser.client().find_all(Locator::Css(r#"[data-testid="inspector-guard"]"#)).await? {
        let cells = row.find_all(Locator::Css("td")).await?;
        let mut texts = Vec::new();
        for cell in cells {
            texts.push(cell.text().await?.trim().to_string());
        }
        rows.push(texts.join(" | "));
    }
    Ok(rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inspector_explains_james_s_screen() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.signed_in_browser("james").await?;
    browser.assert_shown_without("inspector-toggle", &["inspector"]).await?;
    browser.click("inspector-toggle").await?;
    browser.wait_for("inspector").await?;

    let listed = browser.text("inspector-permissions").await?;
    let mut parsed: Vec<&str> = listed.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    parsed.sort();
    ensure!(parsed == JAMES_PERMISSIONS, "inspector-permissions shows {listed:?}, expected {JAMES_PERMISSIONS:?}");
    let raw =
        browser.wait_for_css(r#"[data-testid="inspector"] pre"#, "the inspector's raw claim").await?.text().await?;
    ensure!(raw.contains(PERMISSIONS_CLAIM), "the inspector's raw claim does not mention {PERMISSIONS_CLAIM}: {raw}");
    // The parsed list above is of the same report as the warnings: it is rendered, so they would be too.
    browser.assert_shown_without("inspector-permissions", &["inspector-warning"]).await?;

    // A client-side navigation keeps the panel open, and it follows the new screen's guards.
    browser.click("nav-projects").await?;
    browser.wait_for("page-projects").await?;
    let expected = [
        ("nav: Projects", "shown"),
        ("nav: Users", "hidden: needs read:user-list"),
        ("Project List screen", "shown"),
        ("action: New project", "shown"),
    ];
    let rows = browser
        .wait_until("the inspector to list the Project List's guards", browser.timeout(), async || {
            let rows = guard_rows(&browser).await?;
            let complete = expected.iter().all(|(label, verdict)| {
                rows.iter().any(|row| row.starts_with(&format!("{label} |")) && row.ends_with(&format!("| {verdict}")))
            });
            Ok(complete.then_some(rows))
        })
        .await?;
    ensure!(
        !rows.iter().any(|row| row.starts_with("User List screen |")),
        "the inspector still lists the User List screen's guard on /projects: {rows:#?}"
    );
    browser.close().await
}

/// Signs `username` in and saves the README's screenshots of home, projects and users, plus the open
/// inspector when `with_inspector`. Returns the paths written.
async fn screenshot_every_screen(username: &str, may_see_users: bool, with_inspector: bool) -> Result<Vec<String>> {
    let harness = Harness::start().await?;
    let browser = harness.signed_in_browser(username).await?;
    let mut written = Vec::new();

    browser.wait_for("permission").await?;
    written.push(screenshots::save(&browser, username, "home").await?);

    browser.goto(contract::routes::PROJECTS).await?;
    browser.wait_for("project-row").await?;
    browser.wait_for("project-create").await?;
    written.push(screenshots::save(&browser, username, "projects").await?);

    browser.goto(contract::routes::USERS).await?;
    if may_see_users {
        browser.wait_for("user-row").await?;
        // The role controls arrive with the role catalog, after the rows.
        browser.wait_for_css(r#"[data-testid="user-row"] [data-testid="role-admin"]"#, "the role controls").await?;
    } else {
        browser.wait_for("forbidden").await?;
    }
    written.push(screenshots::save(&browser, username, "users").await?);

    if with_inspector {
        browser.goto(contract::routes::PROJECTS).await?;
        browser.wait_for("project-row").await?;
        browser.click("inspector-toggle").await?;
        let panel = browser.wait_for("inspector").await?;
        browser.wait_for("inspector-guard").await?;
        browser.execute("arguments[0].scrollIntoView({ block: 'end' });", vec![serde_json::to_value(&panel)?]).await?;
        written.push(screenshots::save(&browser, username, "inspector").await?);
    }
    browser.close().await?;

    let mut paths = Vec::new();
    for path in written {
        let png = std::fs::read(&path).with_context(|| format!("reading back {}", path.display()))?;
        let (width, height) = screenshots::png_size(&png).with_context(|| path.display().to_string())?;
        ensure!(
            width == e2e::browser::WINDOW_SIZE.0,
            "{} is {width}×{height}, expected the window's width {}",
            path.display(),
            e2e::browser::WINDOW_SIZE.0
        );
        paths.push(path.display().to_string());
    }
    Ok(paths)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_for_jhon() -> Result<()> {
    let paths = screenshot_every_screen("jhon", true, false).await?;
    if paths.len() != 3 {
        bail!("expected 3 screenshots for jhon, wrote {paths:?}");
    }
    println!("screenshots: {paths:#?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_for_james() -> Result<()> {
    let paths = screenshot_every_screen("james", false, true).await?;
    if paths.len() != 4 {
        bail!("expected 4 screenshots for james, wrote {paths:?}");
    }
    println!("screenshots: {paths:#?}");
    Ok(())
}
