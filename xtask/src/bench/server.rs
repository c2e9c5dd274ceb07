//! The one static server both SPAs are measured behind, so neither gains from its host: the e2e harness's SPA
//! origin ([`e2e::spa_server`]) — files from a `dist` directory with the SPA fallback to `index.html`,
//! `/config.json` from the bench, `/api/*` proxied to the chosen API — with `Cache-Control: no-store` on every
//! answer so that each reload is cold. No compression: the bench computes gzip and brotli sizes itself from what
//! the browser fetched.

use anyhow::{Context, Result};
use e2e::SpaConfig;
use e2e::spa_server::{Caching, SpaServer};
use std::path::Path;

/// A served SPA; dropping it stops the server.
pub(crate) struct Site {
    /// `http://127.0.0.1:PORT`.
    pub(crate) origin: String,
    /// Kept so that the server runs as long as the site lives.
    _server: SpaServer,
}

impl Site {
    /// Binds a free loopback port and serves `dist` there, with `config` as `/config.json` and `/api/*` forwarded
    /// to `upstream` (`http://host:port`). Must run inside the bench's runtime.
    pub(crate) async fn start(dist: &Path, config: serde_json::Value, upstream: String) -> Result<Site> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.context("binding a static server")?;
        Site::start_on(listener, dist, config, upstream)
    }

    /// [`Site::start`] on a listener bound already (when the origin must be known before the provider starts).
    pub(crate) fn start_on(
        listener: tokio::net::TcpListener,
        dist: &Path,
        config: serde_json::Value,
        upstream: String,
    ) -> Result<Site> {
        // Only a missing build is refused: the CASL page's build has `can-bench.html` and no `index.html`.
        anyhow::ensure!(dist.is_dir(), "{} is not a directory (was it built?)", dist.display());
        let upstream = upstream.trim_end_matches('/').to_string();
        let server = SpaServer::start_with(listener, dist, SpaConfig::Json(config), Some(upstream), Caching::NoStore)?;
        Ok(Site { origin: format!("http://127.0.0.1:{}", server.addr().port()), _server: server })
    }
}
