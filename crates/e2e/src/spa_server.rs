//! The SPA's origin, served in-process: the built files with a fallback to `index.html` for client-side
//! routes, `/config.json` answered with whatever the test chose (and can change between page loads), and
//! `/api/*` proxied to the api so the browser sees one origin, as in production. With
//! [`SecurityHeaders::Strict`] (what the harness serves the built SPA with) every answer but the proxied ones
//! carries the headers of the `spa-headers` crate, the policy computed from the dist's `index.html` and the
//! `/config.json` being served, so that every e2e test runs under the policy production gets. `cargo xtask
//! bench` serves the SPAs it measures through the same server, with [`Caching::NoStore`] so that every reload is
//! cold, and without the headers, which the React peer was not written for.

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};
use tokio::task::JoinHandle;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// The crate that computes the headers, for xtask, which reaches this server through this crate: one copy of it.
pub use spa_headers;

/// The largest request or response body the proxy passes on.
const PROXY_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// What `/config.json` answers.
#[derive(Debug, Clone, Default)]
pub enum SpaConfig {
    /// The working configuration for this harness's dev provider (see [`crate::Harness::default_config`]).
    #[default]
    Default,
    /// This JSON document.
    Json(Value),
    /// This body verbatim, labelled `application/json` — for configurations that are not JSON at all.
    Raw(String),
    /// A 404, as when the file was never deployed.
    NotFound,
}

/// Which `Cache-Control` the server's answers carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// `/config.json` says `no-store`; the files and the proxied answers carry what the file server or the api
    /// chose (what the e2e tests run against).
    ConfigOnly,
    /// Every answer says `no-store`, overriding the api's own header, so that each reload fetches everything again.
    NoStore,
}

/// Whether the server's answers carry the SPA's security headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityHeaders {
    /// None: for pages other than our SPA's build (the bench's React peer, the harness's stand-in page).
    Off,
    /// The headers of [`spa_headers`] on every answer of the files and `/config.json` (not on the api's, which
    /// are the api's own): the policy from the dist's `index.html` (which must be a trunk build) and the
    /// configuration served at that moment, so that a test that changes the configuration gets its policy too.
    Strict,
}

/// The state the handlers share.
#[derive(Clone)]
struct Shared {
    /// The configuration with [`SpaConfig::Default`] already resolved.
    config: Arc<RwLock<SpaConfig>>,
    /// The policy of the dist's `index.html`, before the configuration's origins, with [`SecurityHeaders::Strict`].
    policy: Option<spa_headers::Policy>,
    /// Base URL of the api (`http://127.0.0.1:PORT`), if there is one behind this origin.
    upstream: Option<String>,
    client: reqwest::Client,
    /// Every request proxied to the api, in order.
    proxied: Arc<std::sync::Mutex<Vec<ProxiedRequest>>>,
}

/// One request the SPA sent to the api through this origin, as the api received it: what a test needs to
/// replay it from outside the browser.
#[derive(Debug, Clone)]
pub struct ProxiedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path and query, `/api/v1/projects?page=1&per_page=20`.
    pub path_and_query: String,
    /// The `Authorization` header, if any (`Bearer …` or `DPoP …`).
    pub authorization: Option<String>,
    /// The `DPoP` proof header, if any.
    pub dpop: Option<String>,
}

/// A running SPA origin; dropping it stops the server.
pub struct SpaServer {
    addr: SocketAddr,
    config: Arc<RwLock<SpaConfig>>,
    proxied: Arc<std::sync::Mutex<Vec<ProxiedRequest>>>,
    task: JoinHandle<()>,
}

impl SpaServer {
    /// Serves `dist_dir` on an already bound listener, proxying `/api/*` to `upstream`, with `headers`.
    pub(crate) fn start(
        listener: tokio::net::TcpListener,
        dist_dir: &Path,
        config: SpaConfig,
        upstream: Option<String>,
        headers: SecurityHeaders,
    ) -> Result<Self> {
        SpaServer::start_with_headers(listener, dist_dir, config, upstream, Caching::ConfigOnly, headers)
    }

    /// Serves `dist_dir` on an already bound listener, proxying `/api/*` to `upstream` (`http://host:port`),
    /// with the `Cache-Control` that `caching` names and without security headers ([`SecurityHeaders::Off`]).
    /// Must run inside a Tokio runtime.
    pub fn start_with(
        listener: tokio::net::TcpListener,
        dist_dir: &Path,
        config: SpaConfig,
        upstream: Option<String>,
        caching: Caching,
    ) -> Result<Self> {
        SpaServer::start_with_headers(listener, dist_dir, config, upstream, caching, SecurityHeaders::Off)
    }

    /// [`SpaServer::start_with`], with the security headers `headers` names.
    pub fn start_with_headers(
        listener: tokio::net::TcpListener,
        dist_dir: &Path,
        config: SpaConfig,
        upstream: Option<String>,
        caching: Caching,
        headers: SecurityHeaders,
    ) -> Result<Self> {
        let addr = listener.local_addr().context("reading the SPA server's address")?;
        let policy = match headers {
            SecurityHeaders::Off => None,
            SecurityHeaders::Strict => {
                let index = dist_dir.join("index.html");
                let html = std::fs::read_to_string(&index).with_context(|| format!("reading {}", index.display()))?;
                let policy = spa_headers::Policy::for_index_html(&html)
                    .with_context(|| format!("computing the security headers from {}", index.display()))?;
                Some(policy)
            }
        };
        let config = Arc::new(RwLock::new(config));
        // The proxy passes redirects through to the browser instead of following them itself.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the proxy's HTTP client")?;
        let proxied = Arc::default();
        let shared = Shared { config: config.clone(), policy, upstream, client, proxied: Arc::clone(&proxied) };
        let files = ServeDir::new(dist_dir).fallback(ServeFile::new(dist_dir.join("index.html")));
        let mut site = Router::new().route(contract::routes::CONFIG, get(config_json)).fallback_service(files);
        if headers == SecurityHeaders::Strict {
            site = site.layer(middleware::from_fn_with_state(shared.clone(), add_security_headers));
        }
        // Added after the layer, so the api's answers pass through as the api wrote them.
        let mut app = site.route("/api", any(proxy)).route("/api/{*rest}", any(proxy)).with_state(shared);
        if caching == Caching::NoStore {
            app = app
                .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        }
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                eprintln!("e2e: the SPA server stopped: {err}");
            }
        });
        Ok(SpaServer { addr, config, proxied, task })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The requests proxied to the api so far, oldest first.
    pub fn proxied_requests(&self) -> Vec<ProxiedRequest> {
        self.proxied.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Replaces what `/config.json` answers from the next request on; `Default` must be resolved by the caller.
    pub(crate) fn set_config(&self, config: SpaConfig) {
        *self.config.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = config;
    }
}

impl Drop for SpaServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `GET /config.json`.
async fn config_json(State(shared): State<Shared>) -> Response {
    let config = shared.config.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
    let no_store = (header::CACHE_CONTROL, "no-store");
    match config {
        SpaConfig::Json(value) => ([no_store], axum::Json(value)).into_response(),
        SpaConfig::Raw(body) => ([no_store, (header::CONTENT_TYPE, "application/json")], body).into_response(),
        SpaConfig::NotFound | SpaConfig::Default => {
            (StatusCode::NOT_FOUND, [no_store], "no config.json here").into_response()
        }
    }
}

/// Puts the security headers on an answer of the files or `/config.json`: the dist's policy with the origins of the
/// configuration served now. A configuration the headers cannot read (missing, not JSON, no issuer) opens no
/// origin beyond the SPA's own: the SPA cannot use it either, and shows its configuration error without fetching.
async fn add_security_headers(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let Some(policy) = shared.policy.clone() else { return response };
    let config = match shared.config.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone() {
        SpaConfig::Json(value) => Some(value.to_string()),
        SpaConfig::Raw(body) => Some(body),
        SpaConfig::NotFound | SpaConfig::Default => None,
    };
    let policy = config.and_then(|config| policy.clone().with_config(&config).ok()).unwrap_or(policy);
    for (name, value) in policy.headers() {
        match (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
            (Ok(name), Ok(value)) => {
                response.headers_mut().insert(name, value);
            }
            // spa-headers writes only origins and hashes; a value that is no header value is its bug, shown here.
            _ => eprintln!("e2e: the SPA server cannot send the header {name}: {value}"),
        }
    }
    response
}

/// `/api/*`: forwards the request to the api and its answer back, headers included.
async fn proxy(State(shared): State<Shared>, request: Request) -> Response {
    match forward(&shared, request).await {
        Ok(response) => response,
        Err(err) => (StatusCode::BAD_GATEWAY, format!("e2e proxy: {err:#}")).into_response(),
    }
}

async fn forward(shared: &Shared, request: Request) -> Result<Response> {
    let upstream = shared.upstream.as_deref().context("this harness runs without an api behind /api")?;
    let (parts, body) = request.into_parts();
    let path_and_query = parts.uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
    let url = format!("{upstream}{path_and_query}");
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    shared.proxied.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(ProxiedRequest {
        method: parts.method.to_string(),
        path_and_query: path_and_query.to_owned(),
        authorization: header("authorization"),
        dpop: header("dpop"),
    });
    let body = axum::body::to_bytes(body, PROXY_BODY_LIMIT).await.context("reading the request body")?;

    let mut outgoing = shared.client.request(parts.method, &url).body(body);
    for (name, value) in &parts.headers {
        // reqwest sets Host for the upstream and frames the body itself.
        if !is_hop_by_hop(name) && name != header::HOST && name != header::CONTENT_LENGTH {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = outgoing.send().await.with_context(|| format!("forwarding to {url}"))?;

    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.with_context(|| format!("reading the answer of {url}"))?;
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    copy_end_to_end_headers(&headers, response.headers_mut());
    Ok(response)
}

/// Copies the headers meant for the final recipient (`X-Total-Count`, `Link`, `WWW-Authenticate`, ...).
fn copy_end_to_end_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if !is_hop_by_hop(name) && name != header::CONTENT_LENGTH {
            to.append(name.clone(), value.clone());
        }
    }
}

/// Headers that describe one connection rather than the message (RFC 9110 §7.6.1), which a proxy must not forward.
fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}
