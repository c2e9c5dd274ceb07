//! The built SPA under its security headers (crates/spa-headers), as the harness serves it to every e2e test: the
//! headers are on its HTML answer, and a whole session — sign-in, the Project List with a project created through
//! its form, the User List, a reload, sign-out — runs without one Content-Security-Policy violation in the
//! browser's console. That the console would show one is checked too, by breaking the policy on purpose.

use anyhow::{Context, Result, ensure};
use e2e::{Browser, Harness};
use fantoccini::Locator;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Console lines that report a policy violation (Chromium's wording: "Refused to load/connect/execute ... because
/// it violates the following Content Security Policy directive ...").
fn violations(console: &[String]) -> Vec<&String> {
    console.iter().filter(|line| line.contains("Content Security Policy") || line.contains("Refused to")).collect()
}

/// Fails with the offending console lines if any reports a violation; `when` says how far the session got.
async fn ensure_no_violation(browser: &Browser, when: &str) -> Result<()> {
    let console = browser.console_messages().await?;
    let found = violations(&console);
    ensure!(
        found.is_empty(),
        "{when}, the console reports CSP violations:\n{}",
        found.iter().map(|l| l.as_str()).collect::<Vec<_>>().join("\n")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_answer_carries_the_strict_policy_and_the_fixed_headers() -> Result<()> {
    let harness = Harness::start().await?;
    // A client-side route: the index.html fallback, which is what a browser loads first.
    let url = harness.spa_url(contract::routes::PROJECTS);
    let response = reqwest::get(&url).await.with_context(|| format!("GET {url}"))?;
    let header = |name: &str| {
        response.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned).unwrap_or_default()
    };
    ensure!(header("content-type").starts_with("text/html"), "GET {url} answered {}", header("content-type"));
    let csp = header("content-security-policy");
    let directives: Vec<&str> = csp.split("; ").collect();
    for expected in [
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        ensure!(directives.contains(&expected), "the policy lacks `{expected}`: {csp:?}");
    }
    // Scripts: the origin, wasm compilation and the loader's hash; nothing inline by any other means.
    let script_src = directives.iter().find(|d| d.starts_with("script-src ")).context("no script-src")?;
    ensure!(script_src.starts_with("script-src 'self' 'wasm-unsafe-eval' 'sha256-"), "script-src is {script_src:?}");
    ensure!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"), "the policy allows inline code: {csp}");
    // Fetches: the origin (config.json, the api through the proxy) and the provider, nothing else.
    let connect_src = format!("connect-src 'self' {}", harness.issuer());
    ensure!(directives.contains(&connect_src.as_str()), "expected `{connect_src}` in {csp:?}");
    // Forms: sign-out's POST to the provider's end-session endpoint, and the redirect back to the SPA.
    let form_action = format!("form-action 'self' {}", harness.issuer());
    ensure!(directives.contains(&form_action.as_str()), "expected `{form_action}` in {csp:?}");
    for (name, value) in
        [("referrer-policy", "no-referrer"), ("x-content-type-options", "nosniff"), ("x-frame-options", "DENY")]
    {
        ensure!(header(name) == value, "{name} is {:?}, expected {value:?}", header(name));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_session_runs_under_the_headers_without_a_policy_violation() -> Result<()> {
    let harness = Harness::start().await?;
    let browser = harness.signed_in_browser("jhon").await?;
    ensure_no_violation(&browser, "after signing in").await?;

    // The Project List, and a project created through the form (handled in the page, never submitted: the
    // policy's `form-action` would stop a submission to anywhere but the SPA and the provider).
    browser.goto(contract::routes::PROJECTS).await?;
    browser.wait_for("project-row").await?;
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let name = format!("CSP project {nanos:x}");
    browser.click("project-create").await?;
    browser.wait_for("project-name").await?.send_keys(&name).await.context("typing the project's name")?;
    browser.click("project-submit").await?;
    browser
        .wait_until(&format!("a project-row for {name:?}"), browser.timeout(), async || {
            for row in browser.client().find_all(Locator::Css(r#"[data-testid="project-row"]"#)).await? {
                if row.text().await.unwrap_or_default().contains(&name) {
                    return Ok(Some(()));
                }
            }
            Ok(None)
        })
        .await?;

    // The User List, then a reload of it: a second start-up, from the provider documents the first one kept.
    browser.goto(contract::routes::USERS).await?;
    browser.wait_for("user-row").await?;
    browser.refresh().await?;
    browser.wait_for("user-row").await?;
    ensure_no_violation(&browser, "after the lists and a reload").await?;

    // Sign-out: the revocation request to the provider, then a form POST to its end-session endpoint (which
    // `form-action` must allow, and the redirect back to the SPA too) and back.
    browser.click("logout-button").await?;
    browser.wait_for_path(contract::routes::HOME).await?;
    browser.wait_for("login-button").await?;
    ensure_no_violation(&browser, "after signing out").await?;

    // The policy is enforced, and its violations reach the console: a fetch to an origin it does not name is
    // refused (so the checks above could fail).
    browser.execute("fetch('https://not-allowed.invalid/').catch(() => {}); return true;", Vec::new()).await?;
    let refused = browser
        .wait_until("the console to report the refused fetch", Duration::from_secs(10), async || {
            let console = browser.console_messages().await?;
            Ok(violations(&console).into_iter().find(|line| line.contains("not-allowed.invalid")).cloned())
        })
        .await?;
    ensure!(refused.contains("connect-src"), "the refusal does not name connect-src: {refused}");
    browser.close().await
}
