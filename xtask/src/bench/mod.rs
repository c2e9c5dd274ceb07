//! `cargo xtask bench`: our SPA and API against the React and Express peers (`../shared/peers`), measured side
//! by side in one run against the same provider (dev-idp), served by the same static server with the same
//! headers, alternating ours and the peer run by run.
//!
//! This module holds what every measurement shares: the [`BenchContext`] a measurement gets (the browser, the
//! served sites, the provider and a real access token) and the [`Figure`] it returns. The measurements live in
//! their own modules; the report ([`report`]) prints them and writes `target/bench/results.{json,md}`.

mod server;

use anyhow::Result;
use std::future::Future;
use std::path::{Path, PathBuf};

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
    /// `--quick`: few runs and short wrk runs, for development; the figures are then only indicative.
    pub(crate) quick: bool,
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

/// `cargo xtask bench`.
pub(crate) fn run(options: &BenchOptions, skip_install: bool) -> Result<()> {
    let _ = (options, skip_install);
    anyhow::bail!("cargo xtask bench: the measurements are being wired up (see issue 8)")
}
