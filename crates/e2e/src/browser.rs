//! A headless Chromium session on the SPA's origin, driven through the SPA's `data-testid` hooks.
//!
//! Each [`Browser`] runs its own chromedriver on a free port and its own Chromium profile in a temporary
//! directory, so sessions share nothing (cookies, storage, the provider's login session). Helpers wait for the
//! page instead of sleeping: the SPA renders asynchronously and sign-in goes through redirects. When a wait
//! fails, the error names the hook and carries the page's URL, a piece of its markup and a screenshot path.

mod devtools;

pub use devtools::StoredItem;

use crate::ports::free_port;
use crate::process::ChildGuard;
use crate::settings::{ENV_CHROMEDRIVER, ENV_CHROMIUM, Settings};
use anyhow::{Context, Result, anyhow, bail};
use fantoccini::elements::Element;
use fantoccini::wd::WindowHandle;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How long one of chromedriver's vendor commands (a CDP call, the log) may take.
const DRIVER_COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// Chromium's flags: headless without sandbox (containers run us as root), and nothing that phones home or
/// slows start-up.
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    // Container /dev/shm is often tiny; Chromium then crashes tabs unless it uses /tmp instead.
    "--disable-dev-shm-usage",
];

/// The window size every session gets, so layouts (and screenshots) are comparable between runs.
pub const WINDOW_SIZE: (u32, u32) = (1280, 900);

/// How often the wait helpers look at the page again.
const POLL: Duration = Duration::from_millis(100);
/// How much of the page's markup a failure message quotes.
const SNIPPET_CHARS: usize = 2500;
/// How many of the latest console messages a failure message quotes.
const CONSOLE_TAIL: usize = 15;

/// One browser session; dropping it ends chromedriver and Chromium. Prefer [`Browser::close`] at the end of a
/// test, which ends the session politely first.
pub struct Browser {
    client: Client,
    origin: String,
    timeout: Duration,
    artifacts: PathBuf,
    screenshots: AtomicUsize,
    /// chromedriver's base URL, for the commands fantoccini has no method for (the console log).
    driver_url: String,
    /// Every console message read so far (reading takes them out of chromedriver's buffer).
    console: Mutex<Vec<String>>,
    // Dropped after the client: killing chromedriver's process group takes Chromium with it, after which the
    // profile directory can be removed.
    driver: ChildGuard,
    _profile: TempDir,
}

impl Browser {
    /// Starts chromedriver and a new Chromium session with a fresh profile, aimed at `origin`.
    pub async fn open(settings: &Settings, origin: &str, artifacts: &Path) -> Result<Browser> {
        for (path, var) in [(&settings.chromedriver, ENV_CHROMEDRIVER), (&settings.chromium, ENV_CHROMIUM)] {
            if !path.is_file() {
                bail!("{} not found: run `cargo xtask install`, or point {var} at the binary", path.display());
            }
        }
        let profile = tempfile::Builder::new()
            .prefix("e2e-chromium-")
            .tempdir()
            .context("creating a Chromium profile directory")?;
        let port = free_port()?;
        let mut command = Command::new(&settings.chromedriver);
        command.arg(format!("--port={port}")).arg("--allowed-ips=127.0.0.1");
        let mut driver = ChildGuard::spawn("chromedriver", command, &artifacts.join("chromedriver.log"))?;
        let driver_url = format!("http://127.0.0.1:{port}");
        wait_for_driver(&mut driver, &driver_url).await?;

        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push(format!("--window-size={},{}", WINDOW_SIZE.0, WINDOW_SIZE.1));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": settings.chromium, "args": args },
            // Keeps the page's console messages for `Browser::console_messages`.
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else { unreachable!("json! of an object literal") };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver_url)
            .await
            .map_err(|err| anyhow!("starting a Chromium session through chromedriver: {err}\n{}", driver.log_tail()))?;
        client.set_window_size(WINDOW_SIZE.0, WINDOW_SIZE.1).await.context("setting the window size")?;

        Ok(Browser {
            client,
            origin: origin.trim_end_matches('/').to_string(),
            timeout: settings.timeout,
            artifacts: artifacts.to_path_buf(),
            screenshots: AtomicUsize::new(0),
            driver_url,
            console: Mutex::new(Vec::new()),
            driver,
            _profile: profile,
        })
    }

    /// The underlying WebDriver client, for anything the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Changes how long the wait helpers wait before failing (default: the settings' timeout).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// How long the wait helpers wait before failing.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The SPA origin this browser is aimed at.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Ends the session (Chromium quits) and stops chromedriver. The page's console messages are left in the
    /// test's artifacts (`console.log`).
    pub async fn close(mut self) -> Result<()> {
        let _ = self.console_messages().await;
        // A client is a handle on the session; closing through a clone ends that session.
        self.client.clone().close().await.context("closing the browser session")?;
        self.driver.kill();
        Ok(())
    }

    /// Navigates to `path` on the SPA origin (e.g. `/users`), or to an absolute URL.
    pub async fn goto(&self, path: &str) -> Result<()> {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.origin)
        };
        self.client().goto(&url).await.with_context(|| format!("navigating to {url}"))
    }

    /// The current page's URL.
    pub async fn url(&self) -> Result<url::Url> {
        self.client().current_url().await.context("reading the current URL")
    }

    /// The current page's path, e.g. `/users`.
    pub async fn path(&self) -> Result<String> {
        Ok(self.url().await?.path().to_string())
    }

    /// Waits until a visible element with `data-testid="<testid>"` exists, and returns it.
    pub async fn wait_for(&self, testid: &str) -> Result<Element> {
        self.wait_for_css(&testid_selector(testid), &format!("hook `{testid}`")).await
    }

    /// Waits until a visible element matching the CSS `selector` exists; `what` names it in the error.
    pub async fn wait_for_css(&self, selector: &str, what: &str) -> Result<Element> {
        let deadline = Instant::now() + self.timeout;
        let mut last_error = None;
        loop {
            match self.first_visible(selector).await {
                Ok(Some(element)) => return Ok(element),
                Ok(None) => {}
                // Commands can fail while a navigation replaces the document; the next poll sees the new page.
                Err(err) => last_error = Some(err),
            }
            if Instant::now() >= deadline {
                let mut message =
                    format!("timed out after {}s waiting for {what} ({selector})", self.timeout.as_secs());
                if let Some(err) = last_error {
                    message.push_str(&format!("; last WebDriver error: {err}"));
                }
                return Err(self.failure(&message, what).await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until the current path is `path` (the SPA redirects and replaces history as it signs in).
    pub async fn wait_for_path(&self, path: &str) -> Result<()> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Ok(url) = self.client().current_url().await
                && url.path() == path
                && url.as_str().starts_with(&self.origin)
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let message =
                    format!("timed out after {}s waiting for the path to become {path}", self.timeout.as_secs());
                return Err(self.failure(&message, "path").await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// How many elements with `data-testid="<testid>"` the page has now (visible or not).
    pub async fn count(&self, testid: &str) -> Result<usize> {
        self.count_css(&testid_selector(testid)).await
    }

    /// How many elements match the CSS `selector` now (visible or not).
    pub async fn count_css(&self, selector: &str) -> Result<usize> {
        let elements = self.client().find_all(Locator::Css(selector)).await;
        Ok(elements.with_context(|| format!("looking for {selector}"))?.len())
    }

    /// Waits until the hook `shown` is visible, then fails if any hook of `absent` is in the document at that same
    /// moment (one script reads both, so they describe one state of the page).
    ///
    /// This is how to assert absence: an element missing from a page that has not rendered yet proves nothing,
    /// so the caller names the positive marker of the render that would hold the missing elements — the screen's
    /// root hook (`page-users`), `user-name` once signed in, `auth-error`, ... Hidden elements count as present.
    pub async fn assert_shown_without(&self, shown: &str, absent: &[&str]) -> Result<()> {
        let look = self.wait_for_shown(shown, absent).await?;
        self.ensure_none_found(shown, &look).await
    }

    /// [`Browser::assert_shown_without`], then keeps looking for `window`: `shown` must stay on the page and none
    /// of `absent` may turn up — for what would arrive only after a round trip (an `auth-error` after a refused
    /// refresh). A document change during the window (reload, navigation) is a failure too.
    pub async fn assert_shown_without_for(&self, shown: &str, absent: &[&str], window: Duration) -> Result<()> {
        let look = self.wait_for_shown(shown, absent).await?;
        self.ensure_none_found(shown, &look).await?;
        let until = Instant::now() + window;
        while Instant::now() < until {
            tokio::time::sleep(POLL).await;
            let look = match self.look(shown, absent).await {
                Ok(look) => look,
                Err(err) => {
                    let message = format!("while watching `{shown}` for {}s: {err:#}", window.as_secs());
                    return Err(self.failure(&message, &format!("watch-{shown}")).await);
                }
            };
            if !look.shown {
                let message = format!("hook `{shown}` left the page while it was watched for {}s", window.as_secs());
                return Err(self.failure(&message, &format!("gone-{shown}")).await);
            }
            self.ensure_none_found(shown, &look).await?;
        }
        Ok(())
    }

    /// Polls [`Browser::look`] until `shown` is visible.
    async fn wait_for_shown(&self, shown: &str, absent: &[&str]) -> Result<Look> {
        let deadline = Instant::now() + self.timeout;
        let mut last_error = None;
        loop {
            match self.look(shown, absent).await {
                Ok(look) if look.shown => return Ok(look),
                Ok(_) => {}
                // Between documents scripts fail; the next poll sees the new page.
                Err(err) => last_error = Some(err),
            }
            if Instant::now() >= deadline {
                let mut message = format!(
                    "timed out after {}s waiting for hook `{shown}` (the marker after which {absent:?} must be absent)",
                    self.timeout.as_secs()
                );
                if let Some(err) = last_error {
                    message.push_str(&format!("; last error: {err:#}"));
                }
                return Err(self.failure(&message, shown).await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// One look at the document: whether `shown` is visible, and the text of every `absent` hook present.
    async fn look(&self, shown: &str, absent: &[&str]) -> Result<Look> {
        let script = "const [shown, absent] = arguments; \
            const all = (id) => Array.from(document.querySelectorAll(`[data-testid=\"${id}\"]`)); \
            const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden'; \
            return { shown: all(shown).some(visible), \
                     found: absent.map((id) => [id, all(id).map((el) => el.textContent.trim())]) \
                                  .filter(([, texts]) => texts.length > 0) };";
        let value = self.client().execute(script, vec![json!(shown), json!(absent)]).await?;
        let found = value["found"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|entry| {
                        let id = entry[0].as_str().unwrap_or_default().to_string();
                        let texts = entry[1]
                            .as_array()
                            .map(|texts| texts.iter().map(|t| t.as_str().unwrap_or_default().to_string()).collect())
                            .unwrap_or_default();
                        (id, texts)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Look { shown: value["shown"] == json!(true), found })
    }

    /// Fails, naming what was found, if `look` found any of the hooks that must be absent.
    async fn ensure_none_found(&self, shown: &str, look: &Look) -> Result<()> {
        if look.found.is_empty() {
            return Ok(());
        }
        let found: Vec<String> =
            look.found.iter().map(|(id, texts)| format!("{} × `{id}` ({})", texts.len(), texts.join(" | "))).collect();
        let message = format!("with hook `{shown}` on the page, it also has {}", found.join(", "));
        Err(self.failure(&message, &format!("not-without-{shown}")).await)
    }

    /// Waits for the hook and clicks it.
    pub async fn click(&self, testid: &str) -> Result<()> {
        let element = self.wait_for(testid).await?;
        element.click().await.with_context(|| format!("clicking hook `{testid}`"))
    }

    /// Clicks the first visible element with the hook if there is one now, without waiting; returns whether it
    /// clicked. For pages that may be leaving (a redirect under way), where [`Browser::click`] would wait.
    pub async fn click_if_visible(&self, testid: &str) -> Result<bool> {
        let Some(element) = self.first_visible(&testid_selector(testid)).await? else { return Ok(false) };
        element.click().await.with_context(|| format!("clicking hook `{testid}`"))?;
        Ok(true)
    }

    /// Waits for a visible element matching the CSS `selector` and clicks it; `what` names it in errors. For an
    /// element known by where it is, e.g. the `login-button` inside `auth-error`.
    pub async fn click_css(&self, selector: &str, what: &str) -> Result<()> {
        let element = self.wait_for_css(selector, what).await?;
        element.click().await.with_context(|| format!("clicking {what} ({selector})"))
    }

    /// Waits for the hook and returns its visible text, trimmed.
    pub async fn text(&self, testid: &str) -> Result<String> {
        let element = self.wait_for(testid).await?;
        let text = element.text().await.with_context(|| format!("reading the text of hook `{testid}`"))?;
        Ok(text.trim().to_string())
    }

    /// The trimmed text content of every element with the hook, in document order (hidden ones included).
    pub async fn texts(&self, testid: &str) -> Result<Vec<String>> {
        let elements = self.client().find_all(Locator::Css(&testid_selector(testid))).await;
        let mut texts = Vec::new();
        for element in elements.with_context(|| format!("looking for hook `{testid}`"))? {
            let text = element.prop("textContent").await.with_context(|| format!("reading hook `{testid}`"))?;
            texts.push(text.unwrap_or_default().trim().to_string());
        }
        Ok(texts)
    }

    /// Signs in through the dev provider: clicks `login-button`, picks `signin-<username>` on the provider's page
    /// and waits until the SPA shows `user-name` again.
    pub async fn sign_in_as(&self, username: &str) -> Result<()> {
        self.click("login-button").await.context("starting sign-in")?;
        self.click(&format!("signin-{username}"))
            .await
            .with_context(|| format!("choosing {username} at the provider"))?;
        self.wait_for_origin().await?;
        self.wait_for("user-name")
            .await
            .with_context(|| format!("waiting to be back on the SPA signed in as {username}"))?;
        Ok(())
    }

    /// Waits until the browser is back on the SPA's origin (after a round-trip through the provider).
    pub async fn wait_for_origin(&self) -> Result<()> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Ok(url) = self.client().current_url().await
                && url.as_str().starts_with(&format!("{}/", self.origin))
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let message =
                    format!("timed out after {}s waiting to return to {}", self.timeout.as_secs(), self.origin);
                return Err(self.failure(&message, "origin").await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until no element with `data-testid="<testid>"` is left on the page (e.g. `user-name` after another
    /// tab signed out).
    pub async fn wait_for_absent(&self, testid: &str) -> Result<()> {
        let selector = testid_selector(testid);
        let deadline = Instant::now() + self.timeout;
        loop {
            let present = self.count_css(&selector).await?;
            if present == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let message = format!(
                    "timed out after {}s waiting for hook `{testid}` to go away (the page still has {present})",
                    self.timeout.as_secs()
                );
                return Err(self.failure(&message, &format!("still-{testid}")).await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Polls `check` until it returns `Some`, for at most `timeout`; `what` names the condition in the error.
    /// An `Err` from `check` ends the wait at once (a condition that can no longer come true).
    pub async fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl AsyncFnMut() -> Result<Option<T>>,
    ) -> Result<T> {
        let deadline = Instant::now() + timeout;
        loop {
            match check().await {
                Ok(Some(value)) => return Ok(value),
                Ok(None) => {}
                Err(err) => {
                    let message = format!("while waiting for {what}: {err:#}");
                    return Err(self.failure(&message, "wait-until").await);
                }
            }
            if Instant::now() >= deadline {
                let message = format!("timed out after {}s waiting for {what}", timeout.as_secs());
                return Err(self.failure(&message, "wait-until").await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Runs `script` in the page (WebDriver "execute script": the body of a function, `arguments` are `args`) and
    /// returns what it returned.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.client().execute(script, args).await.with_context(|| format!("running script: {script}"))
    }

    /// The value stored under `key` in the SPA origin's `localStorage`, if any. The page must be on the SPA's
    /// origin (storage is per origin).
    pub async fn local_storage_get(&self, key: &str) -> Result<Option<String>> {
        let value = self.execute("return window.localStorage.getItem(arguments[0]);", vec![json!(key)]).await?;
        match value {
            Value::Null => Ok(None),
            Value::String(text) => Ok(Some(text)),
            other => bail!("localStorage.getItem({key:?}) returned {other}"),
        }
    }

    /// Reloads the current page, as the browser's reload button does.
    pub async fn refresh(&self) -> Result<()> {
        self.client().refresh().await.context("reloading the page")
    }

    /// Goes one step back in the tab's history, as the browser's Back button does.
    pub async fn back(&self) -> Result<()> {
        self.client().back().await.context("going back in history")
    }

    /// How the current document was loaded: its Navigation Timing entry (`type` is `navigate`, `reload` or
    /// `back_forward`; `url` is the URL it was loaded from, before any `history.replaceState`).
    pub async fn navigation_entry(&self) -> Result<NavigationEntry> {
        let script = "const e = performance.getEntriesByType('navigation')[0]; \
                      return e ? { type: e.type, url: e.name } : null;";
        let value = self.execute(script, Vec::new()).await?;
        let field = |name: &str| value[name].as_str().map(str::to_owned);
        match (field("type"), field("url")) {
            (Some(kind), Some(url)) => Ok(NavigationEntry { kind, url }),
            _ => bail!("the page has no navigation timing entry ({value})"),
        }
    }

    /// `history.length`: how many entries the tab's session history has.
    pub async fn history_length(&self) -> Result<u64> {
        let value = self.execute("return window.history.length;", Vec::new()).await?;
        value.as_u64().with_context(|| format!("history.length is {value}"))
    }

    /// The tab the session is driving now.
    pub async fn current_tab(&self) -> Result<Tab> {
        Ok(Tab(self.client().window().await.context("reading the current window handle")?))
    }

    /// Opens a new tab in this browser (same profile: it shares `localStorage`, cookies and `BroadcastChannel`s
    /// with the others) and switches to it; it starts on `about:blank`.
    pub async fn open_tab(&self) -> Result<Tab> {
        let created = self.client().new_window(true).await.context("opening a new tab")?;
        let tab = Tab(created.handle);
        self.switch_to(&tab).await?;
        Ok(tab)
    }

    /// Makes `tab` the one the helpers drive.
    pub async fn switch_to(&self, tab: &Tab) -> Result<()> {
        self.client().switch_to_window(tab.0.clone()).await.context("switching tabs")
    }

    /// POSTs `body` to chromedriver's vendor endpoint `suffix` of this session (`se/log`, `goog/cdp/execute`):
    /// the commands W3C WebDriver has no verb for. Answers any status; the caller reads it.
    pub(crate) async fn driver_command(&self, suffix: &str, body: Value) -> Result<reqwest::Response> {
        let session = self
            .client()
            .session_id()
            .await
            .context("reading the WebDriver session id")?
            .context("the WebDriver session has no id")?;
        let url = format!("{}/session/{session}/{suffix}", self.driver_url);
        reqwest::Client::new()
            .post(&url)
            .json(&body)
            .timeout(DRIVER_COMMAND_TIMEOUT)
            .send()
            .await
            .with_context(|| format!("POST {url}"))
    }

    /// The page's console messages since the session started (level, source and text, one a line); they are
    /// also appended to the test's `console.log`.
    pub async fn console_messages(&self) -> Result<Vec<String>> {
        // chromedriver's log endpoint (no W3C command exists); it hands each entry out once.
        let answer: Value = self
            .driver_command("se/log", json!({ "type": "browser" }))
            .await?
            .json()
            .await
            .context("reading chromedriver's browser log")?;
        let fresh: Vec<String> = answer["value"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|entry| {
                        let level = entry["level"].as_str().unwrap_or("?");
                        let source = entry["source"].as_str().unwrap_or("?");
                        let text = entry["message"].as_str().unwrap_or_default();
                        format!("[{level}] {source}: {text}")
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !fresh.is_empty() {
            let path = self.artifacts.join("console.log");
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("opening {}", path.display()))?;
            for line in &fresh {
                writeln!(file, "{line}").with_context(|| format!("writing {}", path.display()))?;
            }
        }
        let mut all = self.console.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        all.extend(fresh);
        Ok(all.clone())
    }

    /// Saves a PNG screenshot of the window to `path`.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        let png = self.client().screenshot().await.context("taking a screenshot")?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
    }

    /// The page's markup (the `<body>` if there is one), for messages.
    pub async fn body_html(&self) -> Result<String> {
        let script = "return document.body ? document.body.outerHTML : document.documentElement.outerHTML;";
        let value = self.client().execute(script, Vec::new()).await.context("reading the page's markup")?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// The first visible element matching `selector`, if any.
    async fn first_visible(&self, selector: &str) -> Result<Option<Element>, fantoccini::error::CmdError> {
        for element in self.client().find_all(Locator::Css(selector)).await? {
            // An element can go stale between finding and asking; that is just "not yet".
            if element.is_displayed().await.unwrap_or(false) {
                return Ok(Some(element));
            }
        }
        Ok(None)
    }

    /// Builds a failure error: `message`, then where the browser is, what the page says and a screenshot.
    async fn failure(&self, message: &str, label: &str) -> anyhow::Error {
        let url = match self.client().current_url().await {
            Ok(url) => url.to_string(),
            Err(err) => format!("(unknown: {err})"),
        };
        let snippet = match self.body_html().await {
            Ok(html) => truncate(&html, SNIPPET_CHARS),
            Err(err) => format!("(unavailable: {err:#})"),
        };
        let n = self.screenshots.fetch_add(1, Ordering::Relaxed) + 1;
        let safe_label = label
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("_");
        let shot = self.artifacts.join(format!("failure-{n:02}-{safe_label}.png"));
        let shot_note = match self.screenshot(&shot).await {
            Ok(()) => shot.display().to_string(),
            Err(err) => format!("(none: {err:#})"),
        };
        let console = match self.console_messages().await {
            Ok(lines) if lines.is_empty() => String::from("(empty)"),
            Ok(lines) => {
                let tail = &lines[lines.len().saturating_sub(CONSOLE_TAIL)..];
                format!("\n    {}", tail.join("\n    "))
            }
            Err(err) => format!("(unavailable: {err:#})"),
        };
        anyhow!("{message}\n  page: {url}\n  screenshot: {shot_note}\n  console: {console}\n  markup: {snippet}")
    }
}

/// How a document was loaded; see [`Browser::navigation_entry`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavigationEntry {
    /// `navigate`, `reload` or `back_forward`.
    pub kind: String,
    /// The URL the document was loaded from.
    pub url: String,
}

/// What [`Browser::look`] saw.
struct Look {
    /// Whether the marker hook is visible.
    shown: bool,
    /// Each hook that must be absent but is present, with the texts of its elements.
    found: Vec<(String, Vec<String>)>,
}

/// A tab of a [`Browser`]; see [`Browser::open_tab`] and [`Browser::switch_to`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tab(WindowHandle);

/// The CSS selector for a `data-testid` hook.
pub fn testid_selector(testid: &str) -> String {
    format!("[data-testid=\"{testid}\"]")
}

/// Waits until chromedriver answers `/status` as ready.
async fn wait_for_driver(driver: &mut ChildGuard, url: &str) -> Result<()> {
    let client =
        reqwest::Client::builder().timeout(Duration::from_secs(2)).build().context("building an HTTP client")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        driver.ensure_running()?;
        if let Ok(response) = client.get(format!("{url}/status")).send().await
            && let Ok(status) = response.json::<Value>().await
            && status["value"]["ready"] == Value::Bool(true)
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("chromedriver did not become ready at {url}\n{}", driver.log_tail());
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Shortens `text` to about `max` characters on a character boundary.
fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}… ({} more bytes)", &text[..cut], text.len() - cut),
        None => text.to_string(),
    }
}
