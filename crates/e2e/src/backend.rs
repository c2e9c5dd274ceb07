//! Starting the real servers: the development OpenID Provider and the api, each as a child process with the
//! flags from the e2e contract, sharing one SQLite database in the test's temporary directory.

use crate::process::ChildGuard;
use anyhow::{Context, Result, bail};
use permissions::names::API_AUDIENCE;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// How long a server may take to answer `/healthz`: dev-idp generates its signing key on first start.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// The two running servers; dropping it stops both.
pub(crate) struct Backend {
    // Dropped in declaration order: the api goes first since it depends on the provider.
    pub(crate) api: ChildGuard,
    pub(crate) idp: ChildGuard,
}

/// Where and how the servers run; kept by the harness, so that it can start them later or start the api again.
#[derive(Debug, Clone)]
pub(crate) struct BackendSpec {
    pub(crate) bin_dir: PathBuf,
    pub(crate) work_dir: PathBuf,
    pub(crate) log_dir: PathBuf,
    pub(crate) idp_port: u16,
    pub(crate) api_port: u16,
    /// Every origin the SPA is served at, each registered with dev-idp (`--spa-origin`, repeated).
    pub(crate) spa_origins: Vec<String>,
    /// Extra dev-idp flags (e.g. `--token-ttl 60`), after the ones every harness passes.
    pub(crate) idp_args: Vec<String>,
    /// Extra api flags (e.g. `--roles-managed-by provider`), after the ones every harness passes.
    pub(crate) api_args: Vec<String>,
}

impl BackendSpec {
    /// The provider's issuer URL.
    pub(crate) fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.idp_port)
    }

    /// The shared database file.
    fn database(&self) -> PathBuf {
        self.work_dir.join("app.db")
    }
}

/// dev-idp's data directory (its signing keys) inside a harness's work directory.
pub(crate) fn idp_data_dir(work_dir: &Path) -> PathBuf {
    work_dir.join("idp")
}

/// The log filter the servers get unless `RUST_LOG` is set: dev-idp's and the api's own `info` lines plus one
/// line per HTTP request (tower-http's trace layer logs at `debug`), so a failing test's logs show which
/// endpoints the browser reached and what they answered.
const DEFAULT_LOG_FILTER: &str = "info,tower_http=debug";

/// Starts dev-idp, waits for it, then starts the api and waits for it.
///
/// The provider comes first: it creates and seeds the shared database, and the api may look up the provider's
/// metadata as it starts.
pub(crate) async fn start(spec: &BackendSpec) -> Result<Backend> {
    let idp = start_idp(spec).await?;
    let api = start_api(spec, API_AUDIENCE, "api.log").await?;
    Ok(Backend { api, idp })
}

/// Starts dev-idp on the spec's port and waits until it answers `/healthz`.
async fn start_idp(spec: &BackendSpec) -> Result<ChildGuard> {
    let dev_idp = binary(&spec.bin_dir, "dev-idp")?;
    let mut command = Command::new(&dev_idp);
    command
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", spec.idp_port))
        .arg("--database")
        .arg(spec.database())
        .arg("--data-dir")
        .arg(idp_data_dir(&spec.work_dir));
    for origin in &spec.spa_origins {
        command.arg("--spa-origin").arg(origin);
    }
    command.args(&spec.idp_args);
    default_log_filter(&mut command);
    let mut idp = ChildGuard::spawn("dev-idp", command, &spec.log_dir.join("dev-idp.log"))?;
    wait_healthy(&mut idp, &format!("{}{}", spec.issuer(), contract::api::HEALTH)).await?;
    Ok(idp)
}

/// Starts the api on the spec's port, accepting tokens for `audience`, with the spec's extra flags, logging to
/// `log_name` in the log directory, and waits until it answers `/healthz`.
pub(crate) async fn start_api(spec: &BackendSpec, audience: &str, log_name: &str) -> Result<ChildGuard> {
    let api = binary(&spec.bin_dir, "api")?;
    let mut command = Command::new(&api);
    command
        .arg("--issuer")
        .arg(spec.issuer())
        .arg("--audience")
        .arg(audience)
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", spec.api_port))
        .arg("--database")
        .arg(spec.database())
        // dev-idp types its access tokens `at+jwt`, so the strict mode, and the SPA's ID tokens name its client
        // id: the tests run the API refusing ID tokens both ways, as a careful operator would.
        .arg("--strict-token-type")
        .arg("--spa-client-id")
        .arg(permissions::names::CLIENT_ID);
    // The SPA reaches the api through its origin's proxy, so DPoP proofs name that origin (RFC 9449 `htu`).
    for origin in &spec.spa_origins {
        command.arg("--public-url").arg(format!("{origin}{}", contract::api::DEFAULT_BASE));
    }
    command.args(&spec.api_args);
    default_log_filter(&mut command);
    let mut api = ChildGuard::spawn("api", command, &spec.log_dir.join(log_name))?;
    wait_healthy(&mut api, &format!("http://127.0.0.1:{}{}", spec.api_port, contract::api::HEALTH)).await?;
    Ok(api)
}

/// Sets [`DEFAULT_LOG_FILTER`] for a server unless the environment chose a filter, and asks for a log without
/// terminal colour codes (it goes to a file, and into failure messages).
fn default_log_filter(command: &mut Command) {
    if std::env::var_os("RUST_LOG").is_none() {
        command.env("RUST_LOG", DEFAULT_LOG_FILTER);
    }
    command.env("NO_COLOR", "1");
}

/// The path of a server binary, or an error that says how to build it.
pub(crate) fn binary(bin_dir: &Path, name: &str) -> Result<PathBuf> {
    let path = bin_dir.join(name);
    if !path.is_file() {
        bail!(
            "{} not found: build it with `cargo build -p api -p dev-idp`, or point {} at the directory holding it",
            path.display(),
            crate::settings::ENV_BIN_DIR
        );
    }
    Ok(path)
}

/// Polls `url` until it answers 2xx, failing early (with the log) if the process exits.
pub(crate) async fn wait_healthy(child: &mut ChildGuard, url: &str) -> Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .context("building the health-check HTTP client")?;
    let started = Instant::now();
    loop {
        child.ensure_running()?;
        let last = match client.get(url).send().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => format!("HTTP {}", response.status()),
            Err(err) => err.to_string(),
        };
        if started.elapsed() > STARTUP_TIMEOUT {
            bail!(
                "{} did not answer {url} within {}s (last: {last})\n{}",
                child.name(),
                STARTUP_TIMEOUT.as_secs(),
                child.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
