//! What each demo account sees: the signed-in name, the permissions the ID token carries, the navigation the
//! permissions allow, and the guarded screens — rendered, or refused in place.

use anyhow::{Context, Result, bail, ensure};
use e2e::{Browser, Harness};

/// Every permission the admin role grants, in the order the contract lists them.
const ALL_PERMISSIONS: [&str; 5] =
    ["read:project-list", "read:user-list", "create:project", "delete:project", "update:user-roles"];

/// Sorted, so the comparison does not depend on the order the SPA renders them in.
fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jhon_the_admin_sees_every_screen() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.browser().await?;
    browser.goto("/").await?;
    browser.sign_in_as("jhon").await?;

    let name = browser.text("user-name").await?;
    ensure!(name == "Jhon Smith", "user-name shows {name:?}, expected \"Jhon Smith\"");
    let permissions = sorted(browser.texts("permission").await?);
    let expected = sorted(ALL_PERMISSIONS.iter().map(|p| p.to_string()).collect());
    ensure!(permissions == expected, "permission hooks show {permissions:?}, expected {expected:?}");

    browser.wait_for("nav-users").await?;
    browser.click("nav-projects").await?;
    browser.wait_for("page-projects").await?;
    browser.wait_for("project-row").await?;
    browser.wait_for_path("/projects").await?;
    browser.assert_absent("forbidden").await?;

    browser.goto("/users").await?;
    browser.wait_for("page-users").await?;
    browser.wait_for("user-row").await?;
    browser.assert_absent("forbidden").await?;
    find_user_row(&browser, "jhon").await?;
    browser.close().await
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
        browser.goto(&format!("/users?page={page}")).await?;
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
    let browser = harness.browser().await?;
    browser.goto("/").await?;
    browser.sign_in_as("james").await?;

    let name = browser.text("user-name").await?;
    ensure!(name == "James Carter", "user-name shows {name:?}, expected \"James Carter\"");
    let permissions = sorted(browser.texts("permission").await?);
    ensure!(
        permissions == ["create:project", "read:project-list"],
        "permission hooks show {permissions:?}, expected create:project and read:project-list"
    );
    browser.wait_for("nav-projects").await?;
    browser.assert_absent("nav-users").await?;

    browser.goto("/projects").await?;
    browser.wait_for("page-projects").await?;
    browser.wait_for("project-row").await?;
    browser.assert_absent("forbidden").await?;

    browser.goto("/users").await?;
    browser.wait_for("forbidden").await?;
    let path = browser.path().await?;
    ensure!(path == "/users", "the refused screen must stay at /users, but the browser is at {path}");
    browser.assert_absent("user-row").await?;
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_without_a_role_is_refused_everywhere() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.browser().await?;
    browser.goto("/").await?;
    browser.sign_in_as("nobody").await?;

    let name = browser.text("user-name").await?;
    ensure!(name == "Nobody Atall", "user-name shows {name:?}, expected \"Nobody Atall\"");
    browser.assert_absent("nav-projects").await?;
    browser.assert_absent("nav-users").await?;
    let permissions = browser.count("permission").await?;
    ensure!(permissions == 0, "nobody holds no permission, but the page shows {permissions} permission hook(s)");

    browser.goto("/projects").await?;
    browser.wait_for("forbidden").await?;
    browser.assert_absent("project-row").await?;

    browser.goto("/users").await?;
    browser.wait_for("forbidden").await?;
    browser.assert_absent("user-row").await?;
    browser.close().await
}
