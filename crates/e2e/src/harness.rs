//! One test's world: free ports, a temporary directory, the servers, the SPA origin, and the browsers opened on
//! it. Each test builds its own, so no state (database rows, provider sessions, cookies) leaks between tests.

use crate::backend::{self, Backend, BackendSpec};
use crate::browser::Browser;
use crate::ports::free_ports;
use crate::settings::{ENV_DIST_DIR, Settings, current_test_name};
use crate::spa_server::{SpaConfig, SpaServer};
use crate::{AUDIENCE, CLIENT_ID, PERMISSIONS_CLAIM};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// Options for [`Harness`]; start from [`Harness::builder`].
#[derive(Debug, Default)]
pub struct HarnessBuilder {
    config: SpaConfig,
    without_backend: bool,
    dist_dir: Option<PathBuf>,
    proxy_to: Option<String>,
}

impl HarnessBuilder {
    /// What `/config.json` answers at first (default: [`SpaConfig::Default`]).
    pub fn config(mut self, config: SpaConfig) -> Self {
        self.config = config;
        self
    }

    /// Starts neither dev-idp nor the api: for tests that never get past loading the configuration. `/api/*`
    /// then answers 502 unless [`HarnessBuilder::proxy_to`] names another upstream.
    pub fn without_backend(mut self) -> Self {
        self.without_backend = true;
        self
    }

    /// Serves this directory instead of the built SPA (the harness's own tests use a stand-in page).
    pub fn dist_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dist_dir = Some(dir.into());
        self
    }

    /// Proxies `/api/*` to this base URL (`http://host:port`) instead of the harness's api.
    pub fn proxy_to(mut self, base_url: impl Into<String>) -> Self {
        self.proxy_to = Some(base_url.into());
        self
    }

    /// Starts everything and waits until it is ready.
    pub async fn start(self) -> Result<Harness> {
        let settings = Settings::from_env();
        let dist_dir = self.dist_dir.unwrap_or_else(|| settings.dist_dir.clone());
        if !dist_dir.join("index.html").is_file() {
            bail!(
                "no built SPA at {}: run `cargo xtask test e2e` (or `trunk build --release --dist {}`), or point {ENV_DIST_DIR} at a build",
                dist_dir.display(),
                dist_dir.display()
            );
        }
        let artifacts = settings.artifacts_dir.join(current_test_name());
        // Logs and screenshots of an earlier run of this test would only mislead.
        let _ = std::fs::remove_dir_all(&artifacts);
        std::fs::create_dir_all(&artifacts).with_context(|| format!("creating {}", artifacts.display()))?;
        let work =
            tempfile::Builder::new().prefix("e2e-harness-").tempdir().context("creating a temporary directory")?;

        // The SPA origin binds port 0 itself (no race); the provider needs to know that origin before it starts.
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.context("binding the SPA server")?;
        let spa_port = listener.local_addr().context("reading the SPA server's port")?.port();
        let spa_origin = format!("http://127.0.0.1:{spa_port}");
        let [idp_port, api_port] = free_ports::<2>()?;

        let backend = if self.without_backend {
            None
        } else {
            let spec = BackendSpec {
                bin_dir: &settings.bin_dir,
                work_dir: work.path(),
                log_dir: &artifacts,
                idp_port,
                api_port,
                spa_origin: &spa_origin,
            };
            Some(backend::start(&spec).await?)
        };
        let upstream = match (self.proxy_to, &backend) {
            (Some(url), _) => Some(url.trim_end_matches('/').to_string()),
            (None, Some(_)) => Some(format!("http://127.0.0.1:{api_port}")),
            (None, None) => None,
        };

        let default_config = default_config(idp_port);
        let config = resolve(self.config, &default_config);
        let spa = SpaServer::start(listener, &dist_dir, config, upstream)?;
        Ok(Harness { settings, artifacts, spa_origin, idp_port, api_port, default_config, spa, backend, _work: work })
    }
}

/// The servers and SPA origin of one test; dropping it stops them all.
pub struct Harness {
    settings: Settings,
    artifacts: PathBuf,
    spa_origin: String,
    idp_port: u16,
    api_port: u16,
    default_config: Value,
    // Dropped in declaration order: stop serving, stop the servers, then remove their files.
    spa: SpaServer,
    backend: Option<Backend>,
    _work: TempDir,
}

impl Harness {
    /// Options for a harness.
    pub fn builder() -> HarnessBuilder {
        HarnessBuilder::default()
    }

    /// The full harness: dev-idp, api and the SPA origin with the working configuration.
    pub async fn start() -> Result<Harness> {
        Harness::builder().start().await
    }

    /// The SPA origin alone, answering `/config.json` with `config`.
    pub async fn spa_only(config: SpaConfig) -> Result<Harness> {
        Harness::builder().without_backend().config(config).start().await
    }

    /// The SPA's origin, e.g. `http://127.0.0.1:41234`.
    pub fn spa_origin(&self) -> &str {
        &self.spa_origin
    }

    /// An absolute URL on the SPA's origin for `path` (which starts with `/`).
    pub fn spa_url(&self, path: &str) -> String {
        format!("{}{path}", self.spa_origin)
    }

    /// The dev provider's issuer URL (nothing listens there in a harness without backend).
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.idp_port)
    }

    /// The api's own base URL, bypassing the SPA origin's proxy.
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port)
    }

    /// The configuration the SPA needs to work against this harness's provider.
    pub fn default_config(&self) -> Value {
        self.default_config.clone()
    }

    /// Changes what `/config.json` answers from the next request on.
    pub fn set_config(&self, config: SpaConfig) {
        self.spa.set_config(resolve(config, &self.default_config));
    }

    /// Where this test's logs and screenshots go.
    pub fn artifacts_dir(&self) -> &Path {
        &self.artifacts
    }

    /// The settings this harness was started with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Fails, quoting its log, if dev-idp or the api has died since start-up.
    pub fn ensure_backend_running(&mut self) -> Result<()> {
        if let Some(backend) = &mut self.backend {
            backend.idp.ensure_running()?;
            backend.api.ensure_running()?;
        }
        Ok(())
    }

    /// Opens a fresh browser session (new profile, no cookies) on this harness's SPA origin.
    pub async fn browser(&self) -> Result<Browser> {
        Browser::open(&self.settings, &self.spa_origin, &self.artifacts).await
    }

    /// Logs of the started servers, for tests that want to show them.
    pub fn log_tails(&self) -> String {
        match &self.backend {
            Some(backend) => format!("{}\n{}", backend.idp.log_tail(), backend.api.log_tail()),
            None => String::from("(no backend in this harness)"),
        }
    }

    /// The SPA server's socket address.
    pub fn spa_addr(&self) -> std::net::SocketAddr {
        self.spa.addr()
    }
}

/// The working configuration for a provider on `idp_port`, as the e2e contract describes it.
fn default_config(idp_port: u16) -> Value {
    json!({
        "issuer": format!("http://127.0.0.1:{idp_port}"),
        "client_id": CLIENT_ID,
        "audience": AUDIENCE,
        "permissions_claim": PERMISSIONS_CLAIM,
        "api_base": "/api/v1",
    })
}

/// Replaces [`SpaConfig::Default`] by the harness's working configuration.
fn resolve(config: SpaConfig, default_config: &Value) -> SpaConfig {
    match config {
        SpaConfig::Default => SpaConfig::Json(default_config.clone()),
        other => other,
    }
}
