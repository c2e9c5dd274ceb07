//! What each demo account sees: the signed-in name, the permissions the ID token carries, the navigation the
//! permissions allow, and the guarded screens — rendered, or refused in place.

use anyhow::{Context, Result, bail, ensure};
use e2e::{Browser, Harness};
use permissions::Permission;

/// Sorted, so the comparison does not depend on the order the SPA renders them in.
fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}

/// Checks that the header names the signed-in user `expected` (the ID token's `name`).
async fn expect_user_name(browser: &Browser, expected: &str) -> Result<()> {
    let name = browser.text("user-name").await?;
    ensure!(name == expected, "user-name shows {name:?}, expected {expected:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jhon_the_admin_sees_every_screen() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.signed_in_browser("jhon").await?;

    expect_user_name(&browser, "Jhon Smith").await?;
    // The nav link shows that the permissions are known; the home screen lists them in the same render.
    browser.wait_for("nav-users").await?;
    let permissions = sorted(browser.texts("permission").await?);
    // The admin role grants every permission the application knows.
    let expected = sorted(Permission::KNOWN.iter().map(ToString::to_string).collect());
    ensure!(permissions == expected, "permission hooks show {permissions:?}, expected {expected:?}");

    browser.click("nav-projects").await?;
    browser.wait_for("page-projects").await?;
    browser.assert_shown_without("project-row", &["forbidden"]).await?;
    browser.wait_for_path(contract::routes::PROJECTS).await?;

    browser.goto(contract::routes::USERS).await?;
    browser.wait_for("page-users").await?;
    browser.assert_shown_without("user-row", &["forbidden"]).await?;
    find_user_row(&browser, "jhon").await?;
    browser.close().await
}

/// Opens the permissions inspector and waits until it lists the signed-in user's permissions as known and
/// empty: the positive marker after which the home screen and the nav, rendered from the same store, must show
/// no permission at all. (While the store is pending the inspector says so; an empty home proves nothing then.)
async fn permissions_known_to_be_none(browser: &Browser) -> Result<()> {
    browser.click("inspector-toggle").await?;
    browser
        .wait_until("the inspector to list no permission, known", browser.timeout(), async || {
            // textContent, not the visible text: an empty entry has no size, which WebDriver calls hidden.
            let listed = browser.texts("inspector-permissions").await?;
            Ok((listed == [""]).then_some(()))
        })
        .await
}

/// How many User List pages [`find_user_row`] looks through.
const MAX_USER_PAGES: u32 = 5;

/// Walks the User List page by page until `username`'s row shows up.
///
/// The list is paginated and the demo accounts need not be on the first page; the SPA keeps the page number in
/// the URL (`/users?page=2`), which is the one way to reach a page that does not depend on the pager's markup.
async fn find_user_row(browser: &Browser, username: &str) -> Result<()> {
    let selector = format!(r#"[data-testid="user-row"][data-user="{username}"]"#);
    for page in 1..=MAX_USER_PAGES {
        browser.goto(&format!("{}?{}={page}", contract::routes::USERS, contract::routes::PAGE_PARAM)).await?;
        browser.wait_for("page-users").await?;
        // The rows arrive with one API answer, so once one is shown the page's rows are complete.
        browser.wait_for("user-row").await.with_context(|| format!("User List page {page} shows no rows"))?;
        if browser.count_css(&selector).await? > 0 {
            return Ok(());
        }
    }
    bail!("no user-row with data-user=\"{username}\" on the first {MAX_USER_PAGES} pages of the User List")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn james_the_project_manager_sees_projects_but_not_users() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.signed_in_browser("james").await?;

    expect_user_name(&browser, "James Carter").await?;
    browser.assert_shown_without("nav-projects", &["nav-users"]).await?;
    let permissions = sorted(browser.texts("permission").await?);
    ensure!(
        permissions == ["create:project", "read:project-list"],
        "permission hooks show {permissions:?}, expected create:project and read:project-list"
    );

    browser.goto(contract::routes::PROJECTS).await?;
    browser.wait_for("page-projects").await?;
    browser.assert_shown_without("project-row", &["forbidden"]).await?;

    browser.goto(contract::routes::USERS).await?;
    browser.assert_shown_without("forbidden", &["user-row", "page-users"]).await?;
    let path = browser.path().await?;
    ensure!(path == contract::routes::USERS, "the refused screen must stay at /users, but the browser is at {path}");
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_without_a_role_is_refused_everywhere() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.signed_in_browser("nobody").await?;

    expect_user_name(&browser, "Nobody Atall").await?;
    permissions_known_to_be_none(&browser).await?;
    browser.assert_shown_without("inspector", &["permission", "nav-projects", "nav-users"]).await?;

    browser.goto(contract::routes::PROJECTS).await?;
    browser.assert_shown_without("forbidden", &["project-row", "page-projects", "nav-projects"]).await?;

    browser.goto(contract::routes::USERS).await?;
    browser.assert_shown_without("forbidden", &["user-row", "page-users", "nav-users"]).await?;
    browser.close().await
}
