//! The harness's own mechanics, independent of the real SPA and servers: a stand-in page written to a temporary
//! directory exercises the static server, its SPA fallback, the chosen `/config.json`, the `/api` proxy, the
//! browser helpers (including that they fail, and how), and the clean-up of child processes.

use anyhow::{Context, Result, ensure};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use e2e::process::ChildGuard;
use e2e::{Harness, SpaConfig};
use serde_json::{Value, json};
use std::time::Duration;
use tempfile::TempDir;

/// A page that behaves like the SPA's start-up: fetch `/config.json`, then show `config-error` or `login-button`
/// with two `permission` hooks in the same render, and a second later a `late` hook.
const STAND_IN_PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>stand-in</title></head>
<body><main id="app">loading</main>
<span data-testid="hidden-hook" style="display:none">hidden</span>
<script>
  const app = document.getElementById("app");
  fetch("/config.json")
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error("config.json answered " + r.status))))
    .then((config) => {
      if (typeof config.issuer !== "string") throw new Error("issuer missing");
      app.innerHTML = '<button data-testid="login-button">Log in</button>'
        + '<span data-testid="route"></span>'
        + '<ul><li data-testid="permission">a</li><li data-testid="permission">b</li></ul>';
      document.querySelector('[data-testid="route"]').textContent = location.pathname;
      setTimeout(() => app.insertAdjacentHTML('beforeend', '<span data-testid="late">late</span>'), 1000);
    })
    .catch((err) => { app.innerHTML = '<p data-testid="config-error"></p>'; app.firstChild.textContent = String(err); });
</script></body></html>
"#;

/// A directory holding the stand-in page as `index.html`.
fn stand_in_dist() -> Result<TempDir> {
    let dir = tempfile::tempdir().context("creating a stand-in dist directory")?;
    std::fs::write(dir.path().join("index.html"), STAND_IN_PAGE).context("writing the stand-in page")?;
    std::fs::write(dir.path().join("app.js"), "console.log('asset');").context("writing a stand-in asset")?;
    Ok(dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_server_falls_back_to_index_and_serves_the_chosen_config() -> Result<()> {
    let dist = stand_in_dist()?;
    let harness = Harness::builder().without_backend().dist_dir(dist.path()).start().await?;
    let http = reqwest::Client::new();

    for path in ["/", "/users", "/deep/client/route?x=1"] {
        let response = http.get(harness.spa_url(path)).send().await?;
        ensure!(response.status() == StatusCode::OK, "{path} answered {}", response.status());
        ensure!(response.text().await?.contains("stand-in"), "{path} did not serve index.html");
    }
    let asset = http.get(harness.spa_url("/app.js")).send().await?.text().await?;
    ensure!(asset.contains("asset"), "/app.js served {asset:?}");

    let config: Value = http.get(harness.spa_url("/config.json")).send().await?.json().await?;
    ensure!(config == harness.default_config(), "default config.json is {config}");
    ensure!(config["issuer"] == json!(harness.issuer()), "issuer in {config}");
    ensure!(config["client_id"] == "permission-spa" && config["api_base"] == "/api/v1", "config {config}");

    harness.set_config(SpaConfig::NotFound);
    let status = http.get(harness.spa_url("/config.json")).send().await?.status();
    ensure!(status == StatusCode::NOT_FOUND, "NotFound config answered {status}");

    harness.set_config(SpaConfig::Raw("{ not json".into()));
    let body = http.get(harness.spa_url("/config.json")).send().await?.text().await?;
    ensure!(body == "{ not json", "Raw config answered {body:?}");
    Ok(())
}

/// An upstream that echoes what reached it and answers like the api refusing a call.
async fn echo(method: Method, uri: Uri, headers: HeaderMap, body: String) -> impl IntoResponse {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let echoed = json!({
        "method": method.as_str(),
        "uri": uri.to_string(),
        "authorization": header("authorization"),
        "x_custom": header("x-custom"),
        "connection": header("connection"),
        "body": body,
    });
    (
        StatusCode::UNAUTHORIZED,
        [
            ("www-authenticate", "Bearer realm=\"api\", error=\"invalid_token\""),
            ("x-total-count", "42"),
            ("link", "</api/v1/users?page=2>; rel=\"next\""),
        ],
        axum::Json(echoed),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_proxy_forwards_requests_and_answers_with_their_headers() -> Result<()> {
    let upstream = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let upstream_url = format!("http://{}", upstream.local_addr()?);
    let upstream_task = tokio::spawn(async move { axum::serve(upstream, axum::Router::new().fallback(echo)).await });

    let dist = stand_in_dist()?;
    let harness = Harness::builder().without_backend().dist_dir(dist.path()).proxy_to(&upstream_url).start().await?;
    let response = reqwest::Client::new()
        .post(harness.spa_url("/api/v1/projects?page=2&per_page=5"))
        .header("authorization", "Bearer abc.def.ghi")
        .header("x-custom", "kept")
        .body("payload")
        .send()
        .await?;

    ensure!(response.status() == StatusCode::UNAUTHORIZED, "status {}", response.status());
    let headers = response.headers().clone();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    ensure!(header("www-authenticate").starts_with("Bearer"), "WWW-Authenticate {:?}", header("www-authenticate"));
    ensure!(header("x-total-count") == "42", "X-Total-Count {:?}", header("x-total-count"));
    ensure!(header("link").contains("rel=\"next\""), "Link {:?}", header("link"));
    let echoed: Value = response.json().await?;
    ensure!(echoed["method"] == "POST", "method {echoed}");
    ensure!(echoed["uri"] == "/api/v1/projects?page=2&per_page=5", "uri {echoed}");
    ensure!(echoed["authorization"] == "Bearer abc.def.ghi", "authorization {echoed}");
    ensure!(echoed["x_custom"] == "kept" && echoed["body"] == "payload", "forwarded {echoed}");

    // Without an upstream the proxy says so instead of hanging.
    let lone = Harness::builder().without_backend().dist_dir(dist.path()).start().await?;
    let status = reqwest::get(lone.spa_url("/api/v1/users")).await?.status();
    ensure!(status == StatusCode::BAD_GATEWAY, "proxy without upstream answered {status}");
    upstream_task.abort();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_helpers_find_hooks_and_fail_with_context() -> Result<()> {
    let dist = stand_in_dist()?;
    let harness = Harness::builder().without_backend().dist_dir(dist.path()).start().await?;
    let mut browser = harness.browser().await?;

    browser.goto("/deep/route").await?;
    // Absence is asserted beside the marker of the render that would hold the element; hooks of that same render
    // count, however soon after the navigation the check starts (a bare count could still read zero there).
    let beside = browser.assert_shown_without("login-button", &["permission"]).await.expect_err("rendered together");
    ensure!(format!("{beside:#}").contains("2 × `permission` (a | b)"), "shown-without error: {beside:#}");
    browser.assert_shown_without("login-button", &["config-error"]).await?;
    // A hidden element is still on the page.
    browser.assert_shown_without("login-button", &["hidden-hook"]).await.expect_err("hidden counts as present");
    let route = browser.text("route").await?;
    ensure!(route == "/deep/route", "the SPA fallback served the page at {route:?}");
    ensure!(browser.count("permission").await? == 2, "count of permission hooks");
    ensure!(browser.texts("permission").await? == ["a", "b"], "texts of permission hooks");
    // Watching for a window catches what turns up after the marker.
    browser.goto("/").await?;
    let late = browser
        .assert_shown_without_for("login-button", &["late"], Duration::from_secs(5))
        .await
        .expect_err("the late hook turns up within the window");
    ensure!(format!("{late:#}").contains("`late`"), "shown-without-for error: {late:#}");
    browser.goto("/deep/route").await?;
    browser.wait_for("login-button").await?;
    let (width, height) = browser.client().get_window_size().await?;
    ensure!((width, height) == (1280, 900), "window is {width}x{height}");

    // The helpers must be able to fail, and say where: the hook, the URL and the markup.
    browser.set_timeout(Duration::from_secs(1));
    let present = browser.assert_shown_without("route", &["login-button"]).await.expect_err("login-button is present");
    ensure!(format!("{present:#}").contains("`login-button` (Log in)"), "shown-without error: {present:#}");
    let never = browser.assert_shown_without("no-such-hook", &["late"]).await.expect_err("the marker never shows");
    ensure!(format!("{never:#}").contains("no-such-hook"), "a missing marker's error: {never:#}");
    let hidden = browser.wait_for("hidden-hook").await.expect_err("a hidden element is not visible");
    let message = format!("{hidden:#}");
    ensure!(message.contains("hidden-hook") && message.contains("/deep/route"), "wait error: {message}");
    ensure!(message.contains("data-testid=\"login-button\""), "wait error lacks the markup: {message}");

    let shot = harness.artifacts_dir().join("stand-in.png");
    browser.screenshot(&shot).await?;
    let png = std::fs::read(&shot)?;
    ensure!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");

    browser.set_timeout(Duration::from_secs(20));
    harness.set_config(SpaConfig::NotFound);
    browser.goto("/").await?;
    browser.assert_shown_without("config-error", &["login-button"]).await?;
    browser.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_storage_scan_sees_every_area_and_the_page_clock_moves() -> Result<()> {
    let dist = stand_in_dist()?;
    let harness = Harness::builder().without_backend().dist_dir(dist.path()).start().await?;
    let browser = harness.browser().await?;
    browser.goto("/").await?;
    browser.wait_for("login-button").await?;

    // One value in each area the scan claims to read; the scan must find each of them.
    let script = "localStorage.setItem('local-key', 'local-value'); \
                  sessionStorage.setItem('session-key', 'session-value'); \
                  document.cookie = 'cookie-key=cookie-value; path=/'; \
                  history.replaceState({ kept: 'history-value' }, ''); \
                  return new Promise((resolve, reject) => { \
                    const open = indexedDB.open('e2e-db', 1); \
                    open.onupgradeneeded = () => open.result.createObjectStore('things'); \
                    open.onerror = () => reject(open.error); \
                    open.onsuccess = () => { \
                      const tx = open.result.transaction('things', 'readwrite'); \
                      tx.objectStore('things').put({ secret: 'idb-value' }, 'thing-1'); \
                      tx.oncomplete = () => { open.result.close(); caches.open('e2e-cache').then(() => resolve(true)); }; \
                    }; \
                  });";
    browser.execute(script, Vec::new()).await?;
    let items = browser.stored_items().await?;
    for (area, needle) in [
        ("localStorage", "local-value"),
        ("sessionStorage", "session-value"),
        ("cookie", "cookie-value"),
        ("history.state", "history-value"),
        ("indexedDB", "idb-value"),
    ] {
        ensure!(
            items.iter().any(|item| item.area == area && item.value.contains(needle)),
            "the scan missed {needle} in {area}: {items:?}"
        );
    }
    ensure!(
        items.iter().any(|item| item.area == "cacheStorage" && item.key == "e2e-cache"),
        "the scan missed the cache e2e-cache: {items:?}"
    );

    // CDP reaches the browser, and clearing the cookies takes the page's cookie with it.
    browser.clear_all_cookies().await?;
    ensure!(!browser.all_cookies().await?.iter().any(|c| c.value == "cookie-value"), "a cookie survived clearing");

    // The page clock moves Date.now() forward by the offset, and only in this document.
    let before = browser.execute("return Date.now();", Vec::new()).await?.as_f64().unwrap_or_default();
    let offset = browser.advance_page_clock(3600).await?;
    let after = browser.execute("return Date.now();", Vec::new()).await?.as_f64().unwrap_or_default();
    ensure!(offset == 3600.0 && after - before >= 3_600_000.0, "the clock moved from {before} to {after}");
    browser.refresh().await?;
    browser.wait_for("login-button").await?;
    let reloaded = browser.execute("return Date.now();", Vec::new()).await?.as_f64().unwrap_or_default();
    ensure!(reloaded < before + 600_000.0, "a new document kept the moved clock ({reloaded} after {before})");
    browser.close().await
}

#[test]
fn child_processes_die_with_their_guard_and_process_group() -> Result<()> {
    let logs = tempfile::tempdir()?;
    let mut command = std::process::Command::new("sh");
    // The shell forks a grandchild in the same process group; killing the group must take it too.
    command.args(["-c", "sleep 300 & echo $! ; wait"]);
    let guard = ChildGuard::spawn("sleeper", command, &logs.path().join("sleeper.log"))?;
    let log = guard.log_path().to_path_buf();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let grandchild: i32 = loop {
        if let Ok(pid) = std::fs::read_to_string(&log).unwrap_or_default().trim().parse() {
            break pid;
        }
        ensure!(std::time::Instant::now() < deadline, "the sleeper never printed its child's pid");
        std::thread::sleep(Duration::from_millis(20));
    };
    ensure!(std::path::Path::new(&format!("/proc/{grandchild}")).exists(), "the grandchild is not running");
    drop(guard);
    // Reaped by init after the kill; give it a moment to disappear from /proc.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&format!("/proc/{grandchild}")).exists() {
        let state = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
        if state.split_whitespace().nth(2) == Some("Z") {
            break;
        }
        ensure!(std::time::Instant::now() < deadline, "the grandchild {grandchild} survived its guard");
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}
