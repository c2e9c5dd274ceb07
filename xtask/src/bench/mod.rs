//! `cargo xtask bench`: our SPA and API against the React and Express peers (`../shared/peers`), measured side
//! by side in one run against the same provider (dev-idp), served by the same static server with the same
//! headers, alternating ours and the peer run by run.
//!
//! This module holds what every measurement shares: the [`BenchContext`] a measurement gets (the browser, the
//! served sites, the provider and a real access token) and the [`Figure`] it returns. The measurements live in
//! their own modules; the report ([`report`]) prints them and writes `target/bench/results.{json,md}`.

mod can;
mod dpop;
mod page;
pub(crate) mod report;
mod server;
pub(crate) mod stack;
mod wrk;

use crate::tools::{self, Needs};
use crate::workspace;
use anyhow::{Context, Result};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub(crate) use server::Site;

/// One measured figure: the same quantity for our app and for the peer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Figure {
    /// What was measured, as the table's first column says it (e.g. "first-load bytes, brotli, signed out").
    pub(crate) name: String,
    /// The unit of `ours` and `peer`: "B", "ms", "req/s", "requests", ...
    pub(crate) unit: &'static str,
    /// Our value.
    pub(crate) ours: f64,
    /// The peer's value; `f64::NAN` when the peer has nothing to compare (printed "n/a").
    pub(crate) peer: f64,
}

impl Figure {
    /// `ours / peer`, or `None` when there is no peer value or it is zero.
    pub(crate) fn ratio(&self) -> Option<f64> {
        (self.peer.is_finite() && self.peer != 0.0).then(|| self.ours / self.peer)
    }
}

/// What a measurement gets: the tools, the places, and the running stack.
pub(crate) struct BenchContext {
    /// Drives the async browser helpers of the e2e crate; see [`BenchContext::block_on`].
    pub(crate) runtime: tokio::runtime::Runtime,
    /// Chromium and chromedriver paths and the wait timeout, as the e2e harness reads them.
    pub(crate) settings: e2e::Settings,
    /// `target/bench`: the peers' copies, logs, artifacts and the results.
    pub(crate) dir: PathBuf,
    /// The `/config.json` every site answers (dev-idp as the provider, `/api` as `api_base`).
    pub(crate) config: serde_json::Value,
    /// Base URL of our api (`http://127.0.0.1:PORT`), which [`BenchContext::serve`] proxies `/api` to.
    pub(crate) api_url: String,
}

impl BenchContext {
    /// Runs `future` to completion on the bench's runtime (the e2e [`e2e::Browser`] is async).
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Serves `dist` on a new origin the same way both SPAs are served (see [`server`]): SPA fallback to
    /// `index.html`, `/config.json`, `/api` proxied to our api, `Cache-Control: no-store` on every answer.
    /// The origin is not registered at dev-idp, so signing in there fails; for pages that need no sign-in.
    pub(crate) fn serve(&self, dist: &Path) -> Result<Site> {
        let _entered = self.runtime.enter();
        self.block_on(Site::start(dist, self.config.clone(), self.api_url.clone()))
    }

    /// Opens a fresh headless Chromium session (own profile, own chromedriver) aimed at `origin`.
    pub(crate) fn browser(&self, origin: &str) -> Result<e2e::Browser> {
        let artifacts = self.dir.join("artifacts");
        std::fs::create_dir_all(&artifacts)?;
        self.block_on(e2e::Browser::open(&self.settings, origin, &artifacts))
    }
}

/// What `cargo xtask bench` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BenchOptions {
    /// Few runs and 2 s wrk runs (`--quick`), for development.
    pub(crate) quick: bool,
    /// Browser runs per app and figure (`--runs`, default 20; 3 with `--quick`).
    pub(crate) runs: usize,
    /// Seconds per wrk run (`--wrk-secs`, default 10; 2 with `--quick`).
    pub(crate) wrk_secs: u32,
    /// wrk's connections (`--connections`, default 64).
    pub(crate) connections: u32,
    /// wrk's threads (`--threads`, default 2).
    pub(crate) threads: u32,
}

impl BenchOptions {
    /// The defaults of a full run, or of a `--quick` one.
    pub(crate) fn new(quick: bool) -> Self {
        BenchOptions {
            quick,
            runs: if quick { 3 } else { 20 },
            wrk_secs: if quick { 2 } else { 10 },
            connections: 64,
            threads: 2,
        }
    }
}

/// `cargo xtask bench`: builds everything, starts the stack, measures, reports.
pub(crate) fn run(options: &BenchOptions, skip_install: bool) -> Result<()> {
    let started = Instant::now();
    if !skip_install {
        tools::ensure(Needs::SPA_BUILD.and(Needs { browser: true, ..Needs::default() }))?;
        wrk::ensure_wrk()?;
    }
    let dir = workspace::Metadata::load()?.target_dir.join("bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let built = stack::build(&dir)?;

    harness_env(&built.bin_dir, &dir.join("artifacts"));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    let settings = e2e::Settings::from_env();
    let stack = runtime.block_on(stack::start(&built, &dir))?;
    let ctx = BenchContext {
        runtime,
        settings,
        dir: dir.clone(),
        config: stack.harness.default_config(),
        api_url: stack.harness.api_url(),
    };
    let machine = report::machine(&ctx.settings.chromium);
    println!("\nbench: {}", report::machine_line(&machine, options));

    let token = ctx.block_on(stack.harness.access_token_for(stack::USER)).context("signing in for a token")?;
    let mut figures = Vec::new();
    let browsers = [ctx.browser(&stack.ours.origin)?, ctx.browser(&stack.peer.origin)?];
    let pages = ctx.block_on(measure_pages(&stack, &browsers, &token, options.runs))?;
    figures.extend(pages.figures);
    for browser in browsers {
        ctx.block_on(browser.close())?;
    }
    figures.extend(can::measure(&ctx, &[5_000, 10_000], options.runs)?);

    // A new sign-in, so that no token nears its expiry during the wrk runs; both APIs get this same one.
    let token = ctx.block_on(stack.harness.access_token_for(stack::USER)).context("signing in for a token")?;
    figures.extend(measure_api(&stack, &token, options, &dir)?);
    figures.extend(dpop::measure(options)?);
    report::write(&dir, &machine, options, &figures, &pages.waterfalls, &pages.files)?;
    println!("bench: done in {} s", started.elapsed().as_secs());
    let _entered = ctx.runtime.enter();
    drop(stack);
    Ok(())
}

/// Sets what the e2e harness reads from the environment: the release servers in `bin_dir`, logs under
/// `artifacts`, no skipping, and the servers' warnings only (a log line per request would be measured too).
/// Call it before any other thread starts (before the tokio runtime): `cargo xtask load` starts its stack the
/// same way.
pub(crate) fn harness_env(bin_dir: &Path, artifacts: &Path) {
    let env = [
        ("E2E_BIN_DIR", bin_dir.as_os_str().to_os_string()),
        ("E2E_ARTIFACTS_DIR", artifacts.as_os_str().to_os_string()),
        ("E2E_REQUIRED", "1".into()),
        ("RUST_LOG", "warn".into()),
    ];
    for (name, value) in env {
        // SAFETY: both callers run this before they start their runtime, while no other thread exists that
        // could read the environment as it changes.
        unsafe { std::env::set_var(name, value) };
    }
}

/// What the browser part measured.
struct PageResults {
    figures: Vec<Figure>,
    /// One run's requests per figure, ours and the peer's.
    waterfalls: serde_json::Value,
    /// Each first load's files with their sizes, ours and the peer's.
    files: serde_json::Value,
}

/// The browser figures, ours first in each pair; `browsers` are ours and the peer's.
async fn measure_pages(
    stack: &stack::Stack,
    browsers: &[e2e::Browser; 2],
    token: &str,
    runs: usize,
) -> Result<PageResults> {
    let metadata = stack.harness.provider_metadata().await?;
    let token_endpoint = metadata["token_endpoint"].as_str().context("the discovery document has no token_endpoint")?;
    let http = reqwest::Client::new();
    let refetch = page::Refetch { http: &http, token, token_endpoint };
    for browser in browsers {
        page::observe(browser).await?;
    }
    let mut figures = Vec::new();
    let mut waterfalls = serde_json::Map::new();
    let mut sizes = serde_json::Map::new();
    let mut loads = Vec::new();
    for (state, marker) in [("signed out", "login-button"), ("signed in", "nav-users")] {
        let mut pair = Vec::new();
        for browser in browsers {
            if state == "signed in" {
                browser.sign_in_as(stack::USER).await?;
            }
            pair.push(page::load(browser, "/", marker, &refetch).await?);
        }
        loads.push((state, pair));
    }
    for (state, pair) in &loads {
        let [ours, peer] = [&pair[0], &pair[1]];
        let figure = |what: &str, unit: &'static str, of: fn(&page::Load) -> usize| Figure {
            name: format!("first load of `/` {state}: {what}"),
            unit,
            ours: of(ours) as f64,
            peer: of(peer) as f64,
        };
        figures.push(figure("bytes, raw (all files but maps)", "B", |l| l.raw));
        figures.push(figure("bytes, gzip -9", "B", |l| l.gzip));
        figures.push(figure("bytes, brotli -11", "B", |l| l.brotli));
        figures.push(figure("requests", "requests", |l| l.requests));
        figures.push(figure("of which to the provider", "requests", |l| l.to_provider));
        waterfalls.insert(format!("first load, {state}"), sides(&ours.entries, &peer.entries));
        let files = |load: &page::Load| load.files.iter().map(page::FileSize::json).collect::<Vec<_>>();
        sizes.insert(format!("first load, {state}"), serde_json::json!({ "ours": files(ours), "peer": files(peer) }));
    }

    for (path, mark, what) in [
        ("/", page::Mark::NavUsers, "signed-in cold reload of `/` until `nav-users` is in the DOM"),
        ("/projects", page::Mark::Row, "signed-in cold reload of `/projects` until the first `project-row`"),
    ] {
        for browser in browsers {
            browser.goto(path).await?;
        }
        let samples = alternate(runs, |side| page::reload_until(&browsers[side], mark)).await?;
        figures.push(median_figure(format!("{what}, median of {runs}"), &samples, |s| s.ms));
        if mark == page::Mark::NavUsers {
            let name = format!("same reload of `/`: first contentful paint, median of {runs}");
            figures.push(median_figure(name, &samples, |s| s.paint.unwrap_or(f64::NAN)));
        }
        waterfalls.insert(what.to_string(), last_waterfall(&samples));
    }

    let what = "`/callback` (after the provider's redirect) until Project List rows, via `nav-projects`";
    let samples = alternate(runs, |side| page::callback_to_rows(&browsers[side], stack::USER)).await?;
    figures.push(median_figure(format!("{what}, median of {runs}"), &samples, |s| s.ms));
    waterfalls.insert(what.to_string(), last_waterfall(&samples));
    Ok(PageResults { figures, waterfalls: waterfalls.into(), files: sizes.into() })
}

/// Runs `measure` `runs` times for each side (0 = ours, 1 = the peer), alternating and swapping who goes first
/// every run; returns each side's samples in order.
async fn alternate<F, Fut>(runs: usize, mut measure: F) -> Result<[Vec<page::Sample>; 2]>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<page::Sample>>,
{
    let mut samples = [Vec::new(), Vec::new()];
    for run in 0..runs {
        let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            samples[side].push(measure(side).await?);
        }
    }
    Ok(samples)
}

/// The figure of both sides' samples: the medians of what `value` reads from them, in milliseconds.
fn median_figure(name: String, samples: &[Vec<page::Sample>; 2], value: fn(&page::Sample) -> f64) -> Figure {
    let side = |side: &[page::Sample]| median(&side.iter().map(value).filter(|v| v.is_finite()).collect::<Vec<_>>());
    Figure { name, unit: "ms", ours: side(&samples[0]), peer: side(&samples[1]) }
}

/// The requests of each side's last run.
fn last_waterfall(samples: &[Vec<page::Sample>; 2]) -> serde_json::Value {
    let last = |side: &[page::Sample]| side.last().map(|s| s.entries.clone()).unwrap_or_default();
    sides(&last(&samples[0]), &last(&samples[1]))
}

/// The median of `values` (NaN when empty).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// A waterfall pair for the results.
fn sides(ours: &[page::Entry], peer: &[page::Entry]) -> serde_json::Value {
    let list = |entries: &[page::Entry]| entries.iter().map(page::Entry::json).collect::<Vec<_>>();
    serde_json::json!({ "ours": list(ours), "peer": list(peer) })
}

/// The wrk figures: the list on both APIs (ours, then the peer, then ours and the peer again in a full run),
/// then the write on ours.
fn measure_api(stack: &stack::Stack, token: &str, options: &BenchOptions, dir: &Path) -> Result<Vec<Figure>> {
    let targets = [stack.harness.api_url(), stack.node_url.clone()];
    let list = [
        wrk::run(&targets[0], token, wrk::Load::ListProjects, options, dir)?,
        wrk::run(&targets[1], token, wrk::Load::ListProjects, options, dir)?,
    ];
    let write = wrk::run(&targets[0], token, wrk::Load::CreateProject, options, dir)?;
    let conn = options.connections;
    let mut figures = vec![
        Figure {
            name: format!("authenticated `GET /api/v1/projects`, {conn} connections: requests/s"),
            unit: "req/s",
            ours: list[0].requests_per_sec,
            peer: list[1].requests_per_sec,
        },
        Figure { name: "same: p50 latency".into(), unit: "ms", ours: list[0].p50_ms, peer: list[1].p50_ms },
        Figure { name: "same: p99 latency".into(), unit: "ms", ours: list[0].p99_ms, peer: list[1].p99_ms },
        Figure {
            name: "authenticated `POST /api/v1/projects` (the peer has no write route): requests/s".to_string(),
            unit: "req/s",
            ours: write.requests_per_sec,
            peer: f64::NAN,
        },
        Figure { name: "same: p99 latency".into(), unit: "ms", ours: write.p99_ms, peer: f64::NAN },
    ];
    for (what, run, peer) in [("GET", &list[0], Some(&list[1])), ("POST", &write, None)] {
        let errors = run.errors + peer.map_or(0, |p| p.errors);
        if errors > 0 {
            figures.push(Figure {
                name: format!("{what}: answers that were not 2xx (the figures above do not count)"),
                unit: "answers",
                ours: run.errors as f64,
                peer: peer.map_or(f64::NAN, |p| p.errors as f64),
            });
        }
    }
    Ok(figures)
}
