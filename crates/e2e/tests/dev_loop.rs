//! The dev loop holds still: under `cargo xtask dev`, a signed-in page left alone, and a role change on the User
//! List, reload nothing. And the same stack signs in on `http://localhost:<port>` as on `127.0.0.1`.
//!
//! `trunk serve` rebuilds the SPA, and its live reload reloads the page, on every change below the project
//! root that Trunk.toml's `[watch] ignore` does not cover. dev-idp and the api write their SQLite database on
//! every sign-in, token refresh and role change; if those writes reached trunk, each would reload the page, the
//! reload would restore the session and rotate the refresh token, which writes the database again. The other
//! e2e tests serve the built SPA themselves and cannot see this, so this one runs the real command, as a
//! process group, on free ports, with its data directory inside `.dev/` (where a developer's database lives,
//! so the ignore rule under test is the one that matters) and trunk's output in that directory too. It serves
//! the release build (`--release`), which `cargo xtask test e2e` has just built into the same target
//! directory: trunk's cargo step is then a no-op, and what is watched is the same either way.
//!
//! Two signals must stay quiet: trunk's log (`starting build`; the watcher's `accepted change in <path>` line
//! names the culprit) and the page itself (a marker set on `window` after sign-in survives, and the Navigation
//! Timing entry and `performance.timeOrigin` stay those of the first load).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context, Result, bail, ensure};
use e2e::Browser;
use e2e::ports::free_ports;
use e2e::process::ChildGuard;
use e2e::settings::{Needs, Settings, current_test_name, workspace_root};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How long the signed-in page is left alone (the issue's reproduction: 14 reloads in 20 idle seconds).
const IDLE: Duration = Duration::from_secs(20);
/// How long the page is watched after the last role change: a write that trunk does not ignore starts a build
/// within trunk's 25 ms debounce, so this is ample.
const AFTER_CHANGE: Duration = Duration::from_secs(5);
/// How often the page and trunk's log are looked at during those windows.
const LOOK_EVERY: Duration = Duration::from_millis(500);
/// How long `cargo xtask dev` may take to be ready: it builds the servers and trunk builds the SPA, both cached
/// after `cargo xtask test e2e`'s build steps, but not after a plain `cargo test`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// What trunk logs at the start of every build.
const BUILD_STARTED: &str = "starting build";
/// What trunk's watcher logs (at the debug level xtask asks for) for a change that will cause a build.
const CHANGE_ACCEPTED: &str = "accepted change in";
/// What `cargo xtask dev` prints once all three servers are ready.
const READY_BANNER: &str = "Ctrl-C stops everything.";
/// The role switched on and off again: one that grants nothing the test relies on.
const ROLE: &str = "auditor";

/// One `cargo xtask dev`, killed with its process group when dropped.
struct DevStack {
    xtask: ChildGuard,
    ports: [u16; 3],
    // Dropped last, once the servers have let go of it.
    data: TempDir,
}

impl DevStack {
    /// Starts `cargo xtask dev --release` on free ports with a data directory of its own in `.dev/`, and waits
    /// until it says it is ready.
    fn start(artifacts: &Path) -> Result<DevStack> {
        let root = workspace_root();
        let dev_dir = root.join(".dev");
        std::fs::create_dir_all(&dev_dir).with_context(|| format!("creating {}", dev_dir.display()))?;
        let data = tempfile::Builder::new()
            .prefix("e2e-dev-loop-")
            .tempdir_in(&dev_dir)
            .with_context(|| format!("creating a data directory in {}", dev_dir.display()))?;
        let ports = free_ports::<3>()?;
        let [spa, api, idp] = ports;
        let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        command
            .args(["xtask", "dev", "--skip-install", "--release"])
            .args(["--spa-port", &spa.to_string(), "--api-port", &api.to_string(), "--idp-port", &idp.to_string()])
            .arg("--data-dir")
            .arg(data.path())
            .arg("--dist")
            .arg(data.path().join("dist"))
            .current_dir(&root);
        let xtask = ChildGuard::spawn("cargo xtask dev", command, &artifacts.join("xtask-dev.log"))?;
        let mut stack = DevStack { xtask, ports, data };
        stack.wait_until_ready()?;
        Ok(stack)
    }

    fn wait_until_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while !self.log().contains(READY_BANNER) {
            self.xtask.ensure_running()?;
            if Instant::now() >= deadline {
                bail!(
                    "`cargo xtask dev` was not ready after {}s\n{}",
                    STARTUP_TIMEOUT.as_secs(),
                    self.xtask.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Ok(())
    }

    fn spa_origin(&self, host: &str) -> String {
        format!("http://{host}:{}", self.ports[0])
    }

    /// Everything `cargo xtask dev` and its children have printed so far.
    fn log(&self) -> String {
        std::fs::read_to_string(self.xtask.log_path()).unwrap_or_default()
    }

    /// trunk's lines of the log, as xtask relays them.
    fn trunk_lines(&self) -> Vec<String> {
        self.log().lines().filter(|line| line.starts_with("[trunk]")).map(str::to_owned).collect()
    }

    /// How many builds trunk has started so far.
    fn builds(&self) -> usize {
        self.trunk_lines().iter().filter(|line| line.contains(BUILD_STARTED)).count()
    }

    /// Fails, naming what trunk saw change, if it has started a build since it had started `builds`.
    fn ensure_no_rebuild_since(&mut self, builds: usize, during: &str) -> Result<()> {
        self.xtask.ensure_running()?;
        let now = self.builds();
        if now != builds {
            // Each accepted change names its path; one path often changes many times.
            let mut paths: Vec<(String, usize)> = Vec::new();
            for line in self.trunk_lines() {
                let Some((_, rest)) = line.split_once(CHANGE_ACCEPTED) else { continue };
                let path = rest.split(" of type ").next().unwrap_or(rest).trim().to_string();
                match paths.iter_mut().find(|(seen, _)| *seen == path) {
                    Some((_, count)) => *count += 1,
                    None => paths.push((path, 1)),
                }
            }
            let listed: Vec<String> = paths.iter().map(|(path, count)| format!("{path} ({count}×)")).collect();
            bail!(
                "trunk rebuilt {} time(s) {during}; the paths whose changes it accepted:\n  {}\n(full log: {})",
                now - builds,
                listed.join("\n  "),
                self.xtask.log_path().display()
            );
        }
        Ok(())
    }
}

impl Drop for DevStack {
    fn drop(&mut self) {
        // Killing xtask's group makes the kernel stop its children (PR_SET_PDEATHSIG); the data directory is
        // removed once they have closed their ports, so that no server writes into it as it goes.
        self.xtask.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.ports.iter().any(|port| TcpListener::bind(("127.0.0.1", *port)).is_err())
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = std::fs::remove_dir_all(self.data.path());
    }
}

/// What identifies the document the browser shows: a reload or another load changes it.
#[derive(Debug, PartialEq)]
struct Document {
    marker: Value,
    time_origin: Value,
    navigation: Value,
}

/// Leaves `marker` on the page's `window` and returns the document's identity.
async fn mark(browser: &Browser, marker: &str) -> Result<Document> {
    browser.execute("window.__devLoopMarker = arguments[0];", vec![json!(marker)]).await?;
    document(browser).await
}

async fn document(browser: &Browser) -> Result<Document> {
    let script = "const nav = performance.getEntriesByType('navigation').map(e => ({ type: e.type, name: e.name })); \
                  return { marker: window.__devLoopMarker ?? null, time_origin: performance.timeOrigin, nav };";
    let value = browser.execute(script, Vec::new()).await?;
    Ok(Document {
        marker: value["marker"].clone(),
        time_origin: value["time_origin"].clone(),
        navigation: value["nav"].clone(),
    })
}

/// What [`hold_still`] compares against, and for how long.
struct Stillness<'a> {
    document: &'a Document,
    builds: usize,
    window: Duration,
}

/// Watches the page and trunk for the window: fails as soon as either moves.
async fn hold_still(stack: &mut DevStack, browser: &Browser, still: Stillness<'_>, during: &str) -> Result<()> {
    let Stillness { document: expected, builds, window } = still;
    let until = Instant::now() + window;
    loop {
        stack.ensure_no_rebuild_since(builds, during)?;
        let now = document(browser).await.with_context(|| format!("reading the page {during}"))?;
        ensure!(
            &now == expected,
            "the page was loaded again {during}: it was {expected:?}, now it is {now:?}\n{}",
            stack.xtask.log_tail()
        );
        if Instant::now() >= until {
            return Ok(());
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

/// The CSS selector of `username`'s [`ROLE`] control.
fn role_control(username: &str) -> String {
    format!(r#"[data-testid="user-row"][data-user="{username}"] [data-testid="role-{ROLE}"]"#)
}

/// Whether `username`'s [`ROLE`] checkbox is checked, once it is shown and enabled.
async fn role_state(browser: &Browser, username: &str) -> Result<Option<bool>> {
    let script = "const c = document.querySelector(arguments[0]); \
                  return c && !c.disabled ? c.checked : null;";
    Ok(browser.execute(script, vec![json!(role_control(username))]).await?.as_bool())
}

/// Clicks `username`'s [`ROLE`] checkbox and waits until the User List, fetched again, shows it flipped.
async fn toggle_role(browser: &Browser, username: &str) -> Result<bool> {
    let before = browser
        .wait_until(&format!("{username}'s role-{ROLE} control"), browser.timeout(), async || {
            role_state(browser, username).await
        })
        .await?;
    let selector = role_control(username);
    browser.wait_for_css(&selector, &format!("{username}'s role-{ROLE} control")).await?.click().await?;
    let what = format!("{username}'s role-{ROLE} to become {}", if before { "unchecked" } else { "checked" });
    browser
        .wait_until(&what, browser.timeout(), async || {
            Ok(role_state(browser, username).await?.filter(|checked| *checked != before))
        })
        .await
}

/// A user on the first User List page other than the admin doing the clicking.
async fn someone_else(browser: &Browser) -> Result<String> {
    browser
        .wait_for_css(&format!(r#"[data-testid="user-row"] [data-testid="role-{ROLE}"]"#), "the role controls")
        .await?;
    let script = "return [...document.querySelectorAll('[data-testid=\"user-row\"]')].map(r => r.dataset.user);";
    let users = browser.execute(script, Vec::new()).await?;
    users
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|user| *user != "jhon")
        .map(str::to_owned)
        .with_context(|| format!("the User List's first page shows nobody but jhon: {users}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_loop_reloads_nothing_while_idle_or_after_a_role_change_and_signs_in_on_localhost() -> Result<()> {
    let settings = Settings::from_env();
    settings.skip_unless_ready(&Needs {
        built_spa: Some(&settings.dist_dir),
        servers: false,
        browser: true,
        trunk: true,
    });
    let artifacts: PathBuf = settings.artifacts_dir.join(current_test_name());
    let _ = std::fs::remove_dir_all(&artifacts);
    std::fs::create_dir_all(&artifacts).with_context(|| format!("creating {}", artifacts.display()))?;
    let mut stack = DevStack::start(&artifacts)?;

    // trunk's first build is the only one allowed: the sign-in's writes count too.
    let builds = stack.builds();
    let browser = Browser::open(&settings, &stack.spa_origin("127.0.0.1"), &artifacts).await?;
    browser.goto("/").await?;
    browser.sign_in_as("jhon").await?;
    browser.wait_for("permission").await?;
    let loaded = mark(&browser, "loaded once").await?;

    let idle = Stillness { document: &loaded, builds, window: IDLE };
    hold_still(&mut stack, &browser, idle, "while idle and signed in").await?;

    // A client-side navigation, so the document stays the one marked.
    browser.click("nav-users").await?;
    browser.wait_for("page-users").await?;
    let user = someone_else(&browser).await?;
    let changed = toggle_role(&browser, &user).await?;
    let restored = toggle_role(&browser, &user).await?;
    ensure!(changed != restored, "{user}'s role-{ROLE} did not flip back");
    let settled = Stillness { document: &loaded, builds, window: AFTER_CHANGE };
    hold_still(&mut stack, &browser, settled, "after a role change and its undo").await?;
    browser.close().await?;

    // The provider registers both loopback names as SPA origins, and trunk answers on both.
    let localhost = Browser::open(&settings, &stack.spa_origin("localhost"), &artifacts).await?;
    localhost.goto("/").await?;
    localhost.sign_in_as("jhon").await.context("signing in on http://localhost")?;
    let name = localhost.text("user-name").await?;
    ensure!(name == "Jhon Smith", "on localhost user-name shows {name:?}, expected \"Jhon Smith\"");
    let url = localhost.url().await?;
    ensure!(url.host_str() == Some("localhost"), "sign-in on localhost ended on {url}");
    localhost.close().await?;
    stack.ensure_no_rebuild_since(builds, "during the sign-in on localhost")
}
