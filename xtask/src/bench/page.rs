//! What the browser measures, the same way for both SPAs: the bytes and requests of a first load (signed out
//! and signed in), the signed-in cold reload until `nav-users` (on `/`) and the first `project-row` (on
//! `/projects`), and the time from the provider's redirect to `/callback` until the Project List rows show.
//!
//! Times come from inside the page: a script that runs before each document's own scripts
//! ([`OBSERVER`]) notes `performance.now()` (milliseconds since the navigation started) at the DOM mutation that
//! adds the hook, so WebDriver's polling adds nothing to a figure. Requests are the page's Navigation and Resource
//! Timing entries; their bytes are fetched again by the bench (same URL; the API with the same token) and
//! compressed here, so both apps are counted alike whatever their server would have compressed.

use crate::dist::{brotli_len, gzip_len};
use anyhow::{Context, Result, bail};
use e2e::Browser;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Runs in every new document of a tab before the page's scripts. It records when the hooks first appear and,
/// when the tab was told to (`sessionStorage.__benchFollow`), clicks `nav-projects` as soon as it shows
/// outside `/callback` and `/projects`, as a user heading for the Project List would — in-page, so both apps
/// get the same immediate click.
const OBSERVER: &str = r#"(() => {
  const marks = {};
  window.__bench = marks;
  const follow = (() => { try { return sessionStorage.getItem('__benchFollow'); } catch (_) { return null; } })();
  const look = () => {
    const now = performance.now();
    if (marks.navUsers === undefined && document.querySelector('[data-testid="nav-users"]')) marks.navUsers = now;
    if (marks.row === undefined && document.querySelector('[data-testid="project-row"]')) marks.row = now;
    if (follow === 'projects' && marks.clicked === undefined
        && location.pathname !== '/callback' && location.pathname !== '/projects') {
      const link = document.querySelector('[data-testid="nav-projects"]');
      if (link) { marks.clicked = now; sessionStorage.removeItem('__benchFollow'); link.click(); }
    }
  };
  new MutationObserver(look).observe(document, { childList: true, subtree: true, attributes: true });
})();"#;

/// Reads the current document's requests: the navigation, then every resource, in start order.
const ENTRIES: &str = r#"
const nav = performance.getEntriesByType('navigation')[0];
const all = (nav ? [nav] : []).concat(performance.getEntriesByType('resource'));
return { fetchStart: nav ? nav.fetchStart : 0, entries: all.map((e) => ({
  name: e.name, initiator: e.initiatorType || 'navigation', start: e.startTime, duration: e.duration,
  decoded: e.decodedBodySize || 0 })) };"#;

/// One request the page made.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) initiator: String,
    /// Milliseconds since the navigation started.
    pub(crate) start: f64,
    pub(crate) duration: f64,
    /// The body size the browser reports (0 for cross-origin answers without `Timing-Allow-Origin`).
    decoded: u64,
}

impl Entry {
    /// The entry as the results file writes it.
    pub(crate) fn json(&self) -> Value {
        json!({ "name": self.name, "initiator": self.initiator, "start_ms": round(self.start),
                "duration_ms": round(self.duration) })
    }
}

/// Rounds to 0.1 for the results.
fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// The bytes and requests of one load.
#[derive(Debug, Clone, Default)]
pub(crate) struct Load {
    pub(crate) raw: usize,
    pub(crate) gzip: usize,
    pub(crate) brotli: usize,
    pub(crate) requests: usize,
    /// Requests to the provider (another origin than the SPA's).
    pub(crate) to_provider: usize,
    pub(crate) entries: Vec<Entry>,
    /// Each counted request's sizes, for seeing where the bytes go.
    pub(crate) files: Vec<FileSize>,
}

/// The sizes of one request's body.
#[derive(Debug, Clone)]
pub(crate) struct FileSize {
    pub(crate) name: String,
    pub(crate) raw: usize,
    pub(crate) gzip: usize,
    pub(crate) brotli: usize,
}

impl FileSize {
    /// The sizes as the results file writes them.
    pub(crate) fn json(&self) -> Value {
        json!({ "name": self.name, "raw": self.raw, "gzip": self.gzip, "brotli": self.brotli })
    }
}

/// What re-fetching needs to know.
pub(crate) struct Refetch<'a> {
    pub(crate) http: &'a reqwest::Client,
    /// The access token the API is fetched with.
    pub(crate) token: &'a str,
    /// The provider's token endpoint: answered to a POST the bench cannot repeat, so its size is the browser's.
    pub(crate) token_endpoint: &'a str,
}

/// Installs [`OBSERVER`] in the browser's current tab (for every document it loads from now on).
pub(crate) async fn observe(browser: &Browser) -> Result<()> {
    browser.add_script_for_new_documents(OBSERVER).await
}

/// The requests of the current document.
async fn entries(browser: &Browser) -> Result<(f64, Vec<Entry>)> {
    let value = browser.execute(ENTRIES, Vec::new()).await?;
    let list = value["entries"].as_array().with_context(|| format!("the timing script returned {value}"))?;
    let entries = list
        .iter()
        .map(|e| Entry {
            name: e["name"].as_str().unwrap_or_default().to_string(),
            initiator: e["initiator"].as_str().unwrap_or_default().to_string(),
            start: e["start"].as_f64().unwrap_or_default(),
            duration: e["duration"].as_f64().unwrap_or_default(),
            decoded: e["decoded"].as_u64().unwrap_or_default(),
        })
        .collect();
    Ok((value["fetchStart"].as_f64().unwrap_or_default(), entries))
}

/// Waits until the page has made no new request for half a second (at most 5 s), so that requests started
/// just after the marker hook are counted too.
async fn settle(browser: &Browser) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last = usize::MAX;
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline {
        let count = entries(browser).await?.1.len();
        if count != last {
            last = count;
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() >= Duration::from_millis(500) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Loads `path` in a new document, waits for the hook `marker`, lets the requests settle and counts them.
pub(crate) async fn load(browser: &Browser, path: &str, marker: &str, refetch: &Refetch<'_>) -> Result<Load> {
    browser.goto(path).await?;
    browser.wait_for(marker).await?;
    settle(browser).await?;
    let (_, entries) = entries(browser).await?;
    let mut load = Load::default();
    for entry in &entries {
        if entry.name.ends_with(".map") {
            continue;
        }
        load.requests += 1;
        if !entry.name.starts_with(browser.origin()) {
            load.to_provider += 1;
        }
        let body = body_of(entry, refetch).await?;
        // An empty body (the token endpoint's, unknown) costs nothing; compressing it would count the headers.
        let file = if body.is_empty() {
            FileSize { name: entry.name.clone(), raw: 0, gzip: 0, brotli: 0 }
        } else {
            FileSize { name: entry.name.clone(), raw: body.len(), gzip: gzip_len(&body)?, brotli: brotli_len(&body)? }
        };
        load.raw += file.raw;
        load.gzip += file.gzip;
        load.brotli += file.brotli;
        load.files.push(file);
    }
    load.entries = entries;
    Ok(load)
}

/// The body of what `entry` fetched: fetched again with GET (with the token for the API), or, for the token
/// endpoint's POST, as many placeholder bytes as the browser reports (its compressed sizes are then a guess).
async fn body_of(entry: &Entry, refetch: &Refetch<'_>) -> Result<Vec<u8>> {
    let url = entry.name.split('#').next().unwrap_or_default();
    if url == refetch.token_endpoint {
        return Ok(vec![b'a'; usize::try_from(entry.decoded).unwrap_or_default()]);
    }
    let mut request = refetch.http.get(url);
    if url.contains("/api/") {
        request = request.bearer_auth(refetch.token);
    }
    let answer = request.send().await.with_context(|| format!("fetching {url} again"))?;
    Ok(answer.bytes().await.with_context(|| format!("reading {url}"))?.to_vec())
}

/// Which in-page mark a timing reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    /// `nav-users` in the DOM.
    NavUsers,
    /// The first `project-row` in the DOM.
    Row,
}

impl Mark {
    fn key(self) -> &'static str {
        match self {
            Mark::NavUsers => "navUsers",
            Mark::Row => "row",
        }
    }
}

/// Polls the current document until [`OBSERVER`] has noted `mark`; returns it, in ms since navigation start.
/// Script errors while a navigation replaces the document are retried until the browser's timeout.
async fn wait_mark(browser: &Browser, mark: Mark) -> Result<f64> {
    let deadline = Instant::now() + browser.timeout();
    let script = format!("return (window.__bench && window.__bench.{}) ?? null;", mark.key());
    loop {
        if let Ok(value) = browser.execute(&script, Vec::new()).await
            && let Some(ms) = value.as_f64()
        {
            return Ok(ms);
        }
        if Instant::now() >= deadline {
            let at = browser.url().await.map(|u| u.to_string()).unwrap_or_default();
            bail!("timed out waiting for the page to show {:?} (at {at})", mark);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One timed run: the figure's milliseconds, the first contentful paint when the run reads it, and the requests.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub(crate) ms: f64,
    /// `first-contentful-paint`, ms since the navigation started.
    pub(crate) paint: Option<f64>,
    pub(crate) entries: Vec<Entry>,
}

/// Reloads the current page (cold: everything is `no-store`) and returns the ms until `mark`, the first
/// contentful paint (waited for up to 2 s after the mark) and the requests.
pub(crate) async fn reload_until(browser: &Browser, mark: Mark) -> Result<Sample> {
    browser.refresh().await?;
    let ms = wait_mark(browser, mark).await?;
    let script = "const p = performance.getEntriesByName('first-contentful-paint')[0]; return p ? p.startTime : null;";
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut paint = None;
    while paint.is_none() && Instant::now() < deadline {
        paint = browser.execute(script, Vec::new()).await?.as_f64();
        if paint.is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(Sample { ms, paint, entries: entries(browser).await?.1 })
}

/// Signs out completely (the SPA origin's storage and every cookie, the provider's session too), signs in as
/// `user` from `/`, and returns the ms from the start of the `/callback` request (after the provider's redirect)
/// until the first `project-row`, the in-page click on `nav-projects` included, with that document's requests.
pub(crate) async fn callback_to_rows(browser: &Browser, user: &str) -> Result<Sample> {
    // Off the origin first, so that no running copy of the app writes its session back after the clearing.
    browser.client().goto("about:blank").await.context("leaving the SPA")?;
    browser.cdp("Storage.clearDataForOrigin", json!({ "origin": browser.origin(), "storageTypes": "all" })).await?;
    browser.clear_all_cookies().await?;
    browser.goto("/").await?;
    browser.wait_for("login-button").await?;
    browser.execute("sessionStorage.setItem('__benchFollow', 'projects');", Vec::new()).await?;
    browser.click("login-button").await?;
    browser.click(&format!("signin-{user}")).await?;
    let rows = wait_mark(browser, Mark::Row).await?;
    let (fetch_start, mut entries) = entries(browser).await?;
    // The document's clock starts with the sign-in form's POST to the provider; the figure and its waterfall
    // start where the browser fetches `/callback`.
    for entry in &mut entries {
        entry.start -= fetch_start;
        if entry.initiator == "navigation" {
            entry.start = 0.0;
            entry.duration -= fetch_start;
        }
    }
    Ok(Sample { ms: rows - fetch_start, paint: None, entries })
}
