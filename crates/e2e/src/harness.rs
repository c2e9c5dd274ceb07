//! One test's world: free ports, a temporary directory, the servers, the SPA origin, and the browsers opened on
//! it. Each test builds its own, so no state (database rows, provider sessions, cookies) leaks between tests.

use crate::backend::{self, Backend, BackendSpec};
use crate::browser::Browser;
use crate::ports::{ReservedPort, SilentServer, free_ports};
use crate::settings::{ENV_DIST_DIR, Needs, Settings, current_test_name};
use crate::spa_server::{SecurityHeaders, SpaConfig, SpaServer};
use anyhow::{Context, Result, bail, ensure};
use permissions::names::{API_AUDIENCE, CLIENT_ID, PERMISSIONS_CLAIM};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;

/// How long the harness's own HTTP requests to dev-idp may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `dev-idp rotate-key` may take: it generates an RSA key, which a debug build does slowly.
const ROTATE_KEY_TIMEOUT: Duration = Duration::from_secs(120);

/// When the harness starts dev-idp and the api.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum BackendStart {
    /// Before [`HarnessBuilder::start`] returns.
    #[default]
    Now,
    /// When the test calls [`Harness::start_backend`]; until then their ports are held but refuse connections.
    Later,
    /// Never: nothing listens on the provider's port.
    Never,
}

/// Which origins of the SPA server dev-idp registers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Origins {
    /// `http://127.0.0.1:<port>` alone.
    #[default]
    Loopback,
    /// `http://127.0.0.1:<port>` and `http://localhost:<port>`, as `cargo xtask dev` registers them.
    LoopbackAndLocalhost,
}

/// Options for [`Harness`]; start from [`Harness::builder`].
#[derive(Debug, Default)]
pub struct HarnessBuilder {
    config: SpaConfig,
    backend: BackendStart,
    origins: Origins,
    dist_dir: Option<PathBuf>,
    proxy_to: Option<String>,
    idp_args: Vec<String>,
    api_args: Vec<String>,
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
        self.backend = BackendStart::Never;
        self
    }

    /// Starts dev-idp and the api only when the test calls [`Harness::start_backend`]: the SPA then first meets
    /// a provider that is down. Their ports are reserved from the start (bound, not listening: connections are
    /// refused), so the configuration the SPA loads already names the provider it will find later.
    pub fn backend_later(mut self) -> Self {
        self.backend = BackendStart::Later;
        self
    }

    /// Has dev-idp register the SPA's `http://localhost:<port>` origin beside `http://127.0.0.1:<port>`, as
    /// `cargo xtask dev` does; see [`Harness::localhost_origin`].
    pub fn localhost_origin(mut self) -> Self {
        self.origins = Origins::LoopbackAndLocalhost;
        self
    }

    /// Serves this directory instead of the built SPA (the harness's own tests use a stand-in page), without the
    /// security headers.
    pub fn dist_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dist_dir = Some(dir.into());
        self
    }

    /// Proxies `/api/*` to this base URL (`http://host:port`) instead of the harness's api.
    pub fn proxy_to(mut self, base_url: impl Into<String>) -> Self {
        self.proxy_to = Some(base_url.into());
        self
    }

    /// Has dev-idp issue access and ID tokens that live `ttl` (whole seconds; `--token-ttl`), so that tests
    /// can watch the SPA renew its session. dev-idp refuses lifetimes outside the range its `--help` gives.
    pub fn token_ttl(self, ttl: Duration) -> Self {
        self.idp_arg("--token-ttl").idp_arg(ttl.as_secs().to_string())
    }

    /// Passes one more argument to dev-idp, after the ones every harness passes.
    pub fn idp_arg(mut self, arg: impl Into<String>) -> Self {
        self.idp_args.push(arg.into());
        self
    }

    /// Passes one more argument to the api (e.g. `--roles-managed-by`, `provider`), after the ones every harness
    /// passes (`--issuer`, `--audience`, `--listen`, `--database`, `--strict-token-type`, `--spa-client-id`).
    pub fn api_arg(mut self, arg: impl Into<String>) -> Self {
        self.api_args.push(arg.into());
        self
    }

    /// Starts everything and waits until it is ready.
    pub async fn start(self) -> Result<Harness> {
        let settings = Settings::from_env();
        // The built SPA is served under its strict policy; a stand-in page (not a trunk build) without one.
        let headers = if self.dist_dir.is_some() { SecurityHeaders::Off } else { SecurityHeaders::Strict };
        let dist_dir = self.dist_dir.unwrap_or_else(|| settings.dist_dir.clone());
        // Under a plain `cargo test` this ends the test binary with a message naming `cargo xtask test e2e`.
        settings.skip_unless_ready(&Needs {
            built_spa: Some(&dist_dir),
            servers: !matches!(self.backend, BackendStart::Never),
            browser: true,
            trunk: false,
        });
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
        let localhost_origin = format!("http://localhost:{spa_port}");
        let mut spa_origins = vec![spa_origin.clone()];
        if self.origins == Origins::LoopbackAndLocalhost {
            spa_origins.push(localhost_origin.clone());
        }
        let (idp_port, api_port, reserved) = match self.backend {
            BackendStart::Now => {
                let [idp_port, api_port] = free_ports::<2>()?;
                (idp_port, api_port, Vec::new())
            }
            BackendStart::Later | BackendStart::Never => {
                let reserved = vec![ReservedPort::new()?, ReservedPort::new()?];
                (reserved[0].port(), reserved[1].port(), reserved)
            }
        };
        let spec = BackendSpec {
            bin_dir: settings.bin_dir.clone(),
            work_dir: work.path().to_path_buf(),
            log_dir: artifacts.clone(),
            idp_port,
            api_port,
            spa_origins,
            idp_args: self.idp_args,
            api_args: self.api_args,
        };

        let backend = match self.backend {
            BackendStart::Now => Some(backend::start(&spec).await?),
            BackendStart::Later | BackendStart::Never => None,
        };
        let upstream = match (self.proxy_to, self.backend) {
            (Some(url), _) => Some(url.trim_end_matches('/').to_string()),
            (None, BackendStart::Now | BackendStart::Later) => Some(format!("http://127.0.0.1:{api_port}")),
            (None, BackendStart::Never) => None,
        };

        let default_config = default_config(&spec.issuer());
        let config = resolve(self.config, &default_config);
        let spa = SpaServer::start(listener, &dist_dir, config, upstream, headers)?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()
            .context("building the harness's HTTP client")?;
        Ok(Harness {
            settings,
            artifacts,
            spa_origin,
            localhost_origin,
            default_config,
            http,
            api_starts: 1,
            spa,
            backend,
            reserved,
            spec,
            _work: work,
        })
    }
}

/// The servers and SPA origin of one test; dropping it stops them all.
pub struct Harness {
    settings: Settings,
    artifacts: PathBuf,
    spa_origin: String,
    localhost_origin: String,
    default_config: Value,
    http: reqwest::Client,
    /// How many times the api has been started, which numbers its log files.
    api_starts: usize,
    // Dropped in declaration order: stop serving, stop the servers, then remove their files.
    spa: SpaServer,
    backend: Option<Backend>,
    /// The servers' ports while they are not started yet ([`HarnessBuilder::backend_later`]).
    reserved: Vec<ReservedPort>,
    spec: BackendSpec,
    _work: TempDir,
}

impl Harness {
    /// Options for a harness.
    pub fn builder() -> HarnessBuilder {
        HarnessBuilder::default()
    }

    /// Serves the working configuration with `"dpop": "off"`: the SPA's tokens are then Bearer tokens, for the
    /// tests that replay a token of the SPA's from outside the browser to check something else than DPoP (a
    /// revoked refresh token must be refused because it is revoked, not because it lacks the browser's key).
    pub fn bearer_tokens_only(&self) {
        let mut config = self.default_config();
        config["dpop"] = json!("off");
        self.set_config(SpaConfig::Json(config));
    }

    /// The requests the SPA sent to the api through its origin so far, oldest first, with their credentials.
    pub fn proxied_requests(&self) -> Vec<crate::spa_server::ProxiedRequest> {
        self.spa.proxied_requests()
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

    /// The same SPA server by the name `localhost`, e.g. `http://localhost:41234`: a different origin to the
    /// browser (its own storage), which dev-idp accepts only with [`HarnessBuilder::localhost_origin`].
    pub fn localhost_origin(&self) -> &str {
        &self.localhost_origin
    }

    /// An absolute URL on the SPA's origin for `path` (which starts with `/`).
    pub fn spa_url(&self, path: &str) -> String {
        format!("{}{path}", self.spa_origin)
    }

    /// The dev provider's issuer URL (nothing listens there in a harness without backend).
    pub fn issuer(&self) -> String {
        self.spec.issuer()
    }

    /// The api's own base URL, bypassing the SPA origin's proxy.
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.spec.api_port)
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

    /// Opens a fresh browser session on the home page and signs in as `username` at the provider: where most
    /// tests of a signed-in app begin.
    pub async fn signed_in_browser(&self, username: &str) -> Result<Browser> {
        let browser = self.browser().await?;
        browser.goto(contract::routes::HOME).await?;
        browser.sign_in_as(username).await?;
        Ok(browser)
    }

    /// Opens a fresh browser session aimed at `origin`, another name of the SPA server (see
    /// [`Harness::localhost_origin`]).
    pub async fn browser_at(&self, origin: &str) -> Result<Browser> {
        Browser::open(&self.settings, origin, &self.artifacts).await
    }

    /// Puts a server on the provider's reserved port that accepts connections and never answers (a provider that
    /// hangs), for a harness built with [`HarnessBuilder::backend_later`]. Drop it before
    /// [`Harness::start_backend`], which then starts dev-idp on that port.
    pub async fn silent_provider(&mut self) -> Result<SilentServer> {
        let idp_port = self.spec.idp_port;
        let at = self.reserved.iter().position(|port| port.port() == idp_port);
        let reservation = at.map(|at| self.reserved.remove(at)).context("the provider's port is not reserved")?;
        SilentServer::listen(reservation.release()).await
    }

    /// Starts dev-idp and the api on their reserved ports, for a harness built with
    /// [`HarnessBuilder::backend_later`], and waits until both answer.
    pub async fn start_backend(&mut self) -> Result<()> {
        ensure!(self.backend.is_none(), "the backend is running already");
        ensure!(!self.reserved.is_empty(), "this harness was built without a backend");
        // The servers bind the ports themselves; the reservation must go first.
        for port in self.reserved.drain(..) {
            port.release();
        }
        self.backend = Some(backend::start(&self.spec).await?);
        Ok(())
    }

    /// Stops the api (an outage): requests to the SPA's `/api` proxy fail until [`Harness::restart_api`].
    pub fn stop_api(&mut self) -> Result<()> {
        let backend = self.backend.as_mut().context("the backend is not running")?;
        backend.api.kill();
        Ok(())
    }

    /// Stops the api (if it runs) and starts it again with the same flags (a deployment, say): it forgets every key it had
    /// fetched from the provider. Its new log is `api-<n>.log` in the artifacts.
    pub async fn restart_api(&mut self) -> Result<()> {
        self.restart_api_for(API_AUDIENCE).await
    }

    /// Like [`Harness::restart_api`], but the new api accepts only access tokens issued for `audience`.
    pub async fn restart_api_for(&mut self, audience: &str) -> Result<()> {
        let backend = self.backend.as_mut().context("the backend is not running")?;
        backend.api.kill();
        self.api_starts += 1;
        let log_name = format!("api-{}.log", self.api_starts);
        backend.api = backend::start_api(&self.spec, audience, &log_name).await?;
        Ok(())
    }

    /// The log of the api running now (or last).
    pub fn api_log_path(&self) -> PathBuf {
        match self.api_starts {
            1 => self.artifacts.join("api.log"),
            n => self.artifacts.join(format!("api-{n}.log")),
        }
    }

    /// The statuses of the api's answers to `method` requests for `path` (any query), in order, as the current
    /// api's log shows them (see [`Harness::idp_requests`] for the log lines it reads).
    pub fn api_statuses(&self, method: &str, path: &str) -> Result<Vec<u16>> {
        let log = self.api_log_path();
        let text = std::fs::read_to_string(&log).with_context(|| format!("reading {}", log.display()))?;
        Ok(text
            .lines()
            .map(strip_ansi)
            .filter(|line| line.contains("finished processing request") && names_request(line, method, path))
            .filter_map(|line| {
                let at = line.find("status=")? + "status=".len();
                line[at..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
            })
            .collect())
    }

    /// Withdraws every signing key but the newest from dev-idp's data directory, as an operator would withdraw
    /// a compromised key: the provider stops publishing it at its next request, and tokens it signed stop
    /// verifying wherever keys are fetched afresh. Returns how many key files it removed.
    pub fn withdraw_older_signing_keys(&self) -> Result<usize> {
        // dev-idp keeps one PEM file per key in `keys/`, named so that they sort oldest first.
        let dir = self.idp_data_dir().join("keys");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .with_context(|| format!("listing {}", dir.display()))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "pem"))
            .collect();
        files.sort();
        ensure!(files.len() > 1, "{} holds {} key file(s); withdrawing needs a newer key", dir.display(), files.len());
        // The last one sorts newest: it stays.
        files.pop();
        for file in &files {
            std::fs::remove_file(file).with_context(|| format!("removing {}", file.display()))?;
        }
        Ok(files.len())
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

    /// dev-idp's data directory, where its signing keys live (see `dev-idp --help`).
    pub fn idp_data_dir(&self) -> PathBuf {
        backend::idp_data_dir(&self.spec.work_dir)
    }

    /// dev-idp's log file.
    pub fn idp_log_path(&self) -> PathBuf {
        self.artifacts.join("dev-idp.log")
    }

    /// How many `method` requests for `path` (any query) dev-idp has received so far, counted in its log: at the
    /// harness's log filter its HTTP trace layer logs one "started processing request" line per request. With
    /// `RUST_LOG` set otherwise this may count nothing, so a caller should first see a request it knows of.
    pub fn idp_requests(&self, method: &str, path: &str) -> Result<usize> {
        let log = self.idp_log_path();
        let text = std::fs::read_to_string(&log).with_context(|| format!("reading {}", log.display()))?;
        let count = text
            .lines()
            .map(strip_ansi)
            .filter(|line| line.contains("started processing request") && names_request(line, method, path))
            .count();
        Ok(count)
    }

    /// Runs `dev-idp rotate-key --data-dir <this harness's data dir>` to completion and returns what it printed.
    /// The running provider notices the new key by itself; see [`Harness::wait_for_new_signing_key`].
    pub async fn rotate_key(&self) -> Result<String> {
        let dev_idp = backend::binary(&self.settings.bin_dir, "dev-idp")?;
        let data_dir = self.idp_data_dir();
        let mut command = tokio::process::Command::new(&dev_idp);
        command.arg("rotate-key").arg("--data-dir").arg(&data_dir).stdin(std::process::Stdio::null());
        if std::env::var_os("RUST_LOG").is_none() {
            command.env("RUST_LOG", "info");
        }
        // Dropping the future on timeout kills the child instead of leaving it behind.
        command.kill_on_drop(true);
        let shown = format!("{} rotate-key --data-dir {}", dev_idp.display(), data_dir.display());
        let output = tokio::time::timeout(ROTATE_KEY_TIMEOUT, command.output())
            .await
            .with_context(|| format!("`{shown}` did not finish within {}s", ROTATE_KEY_TIMEOUT.as_secs()))?
            .with_context(|| format!("running `{shown}`"))?;
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        let log = self.artifacts.join("rotate-key.log");
        std::fs::write(&log, format!("$ {shown}\n{text}")).with_context(|| format!("writing {}", log.display()))?;
        ensure!(output.status.success(), "`{shown}` failed ({}):\n{text}", output.status);
        Ok(text)
    }

    /// The `kid` dev-idp signs with right now, as its `/healthz` reports it.
    pub async fn active_kid(&self) -> Result<String> {
        let health = self.idp_get_json("/healthz").await?;
        health["kid"].as_str().map(str::to_owned).with_context(|| format!("/healthz names no kid: {health}"))
    }

    /// The `kid`s dev-idp's JWKS publishes, in its order (the signing key first).
    pub async fn jwks_kids(&self) -> Result<Vec<String>> {
        let jwks = self.idp_get_json("/.well-known/jwks.json").await?;
        let keys = jwks["keys"].as_array().with_context(|| format!("the JWKS has no keys array: {jwks}"))?;
        Ok(keys.iter().filter_map(|key| key["kid"].as_str().map(str::to_owned)).collect())
    }

    /// Waits until dev-idp signs with another key than `old_kid` (after [`Harness::rotate_key`]), and returns
    /// the new `kid`. Asking is what makes a running provider look for a rotated key.
    pub async fn wait_for_new_signing_key(&self, old_kid: &str, timeout: Duration) -> Result<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let kid = self.active_kid().await?;
            if kid != old_kid {
                return Ok(kid);
            }
            if std::time::Instant::now() >= deadline {
                bail!(
                    "dev-idp still signs with {old_kid} {}s after the rotation\n{}",
                    timeout.as_secs(),
                    self.log_tails()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// dev-idp's discovery document.
    pub async fn provider_metadata(&self) -> Result<Value> {
        self.idp_get_json("/.well-known/openid-configuration").await
    }

    /// POSTs `form` to dev-idp's token endpoint (from its discovery document) as the SPA's public client would,
    /// and returns the answer whatever its status.
    pub async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenAnswer> {
        self.token_request_proved(form, None).await
    }

    /// [`Harness::token_request`] with `proof` as its `DPoP` header.
    pub async fn token_request_with_proof(&self, form: &[(&str, &str)], proof: &str) -> Result<TokenAnswer> {
        self.token_request_proved(form, Some(proof)).await
    }

    async fn token_request_proved(&self, form: &[(&str, &str)], proof: Option<&str>) -> Result<TokenAnswer> {
        let metadata = self.provider_metadata().await?;
        let endpoint = metadata["token_endpoint"]
            .as_str()
            .with_context(|| format!("the discovery document names no token_endpoint: {metadata}"))?;
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let mut request = self
            .http
            .post(endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(proof) = proof {
            request = request.header("DPoP", proof);
        }
        let response = request.body(body).send().await.with_context(|| format!("POST {endpoint}"))?;
        let status = response.status();
        let text = response.text().await.with_context(|| format!("reading the answer of POST {endpoint}"))?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(TokenAnswer { status, body })
    }

    /// A `refresh_token` grant for the SPA's client with `refresh_token`.
    pub async fn refresh_grant(&self, refresh_token: &str) -> Result<TokenAnswer> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CLIENT_ID),
        ])
        .await
    }

    /// GETs `path` on dev-idp and parses the JSON answer, which must be 2xx.
    async fn idp_get_json(&self, path: &str) -> Result<Value> {
        let url = format!("{}{path}", self.issuer());
        let response = self.http.get(&url).send().await.with_context(|| format!("GET {url}"))?;
        let status = response.status();
        let text = response.text().await.with_context(|| format!("reading the answer of GET {url}"))?;
        ensure!(status.is_success(), "GET {url} answered {status}: {text}");
        serde_json::from_str(&text).with_context(|| format!("GET {url} answered something other than JSON: {text}"))
    }
}

/// Whether a trace-layer log line belongs to a `method` request for `path` (any query).
fn names_request(line: &str, method: &str, path: &str) -> bool {
    let wanted = format!("method={method} uri={path}");
    line.find(&wanted)
        .is_some_and(|at| matches!(line[at + wanted.len()..].chars().next(), Some('?') | Some(' ') | Some('}')))
}

/// `line` without terminal colour codes (`ESC [ ... m`), which the servers' logs carry.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Skip to the end of the escape sequence (a letter).
            for next in chars.by_ref() {
                if next.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What dev-idp's token endpoint answered: the status and the body (JSON, or the text as a JSON string).
#[derive(Debug, Clone)]
pub struct TokenAnswer {
    pub status: reqwest::StatusCode,
    pub body: Value,
}

impl TokenAnswer {
    /// The OAuth `error` code of an error answer, if there is one.
    pub fn error(&self) -> Option<&str> {
        self.body["error"].as_str()
    }
}

/// The working configuration for the provider at `issuer`, as the e2e contract describes it.
fn default_config(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "audience": API_AUDIENCE,
        "permissions_claim": PERMISSIONS_CLAIM,
        "api_base": contract::api::DEFAULT_BASE,
    })
}

/// Replaces [`SpaConfig::Default`] by the harness's working configuration.
fn resolve(config: SpaConfig, default_config: &Value) -> SpaConfig {
    match config {
        SpaConfig::Default => SpaConfig::Json(default_config.clone()),
        other => other,
    }
}
