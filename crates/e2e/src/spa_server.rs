//! The SPA's origin, served in-process: the built files with a fallback to `index.html` for client-side
//! routes, `/config.json` answered with whatever the test chose (and can change between page loads), and
//! `/api/*` proxied to the api so the browser sees one origin, as in production. `cargo xtask bench` serves
//! the SPAs it measures through the same server, with [`Caching::NoStore`] so that every reload is cold.

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};
use tokio::task::JoinHandle;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

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

/// The state the handlers share.
#[derive(Clone)]
struct Shared {
    /// The configuration with [`SpaConfig::Default`] already resolved.
    config: Arc<RwLock<SpaConfig>>,
    /// Base URL of the api (`http://127.0.0.1:PORT`), if there is one behind this origin.
    upstream: Option<String>,
    client: reqwest::Client,
}

/// A running SPA origin; dropping it stops the server.
pub struct SpaServer {
    addr: SocketAddr,
    config: Arc<RwLock<SpaConfig>>,
    task: JoinHandle<()>,
}

impl SpaServer {
    /// Serves `dist_dir` on an already bound listener, proxying `/api/*` to `upstream`.
    pub(crate) fn start(
        listener: tokio::net::TcpListener,
        dist_dir: &Path,
        config: SpaConfig,
        upstream: Option<String>,
    ) -> Result<Self> {
        SpaServer::start_with(listener, dist_dir, config, upstream, Caching::ConfigOnly)
    }

    /// Serves `dist_dir` on an already bound listener, proxying `/api/*` to `upstream` (`http://host:port`),
    /// with the `Cache-Control` that `caching` names. Must run inside a Tokio runtime.
    pub fn start_with(
        listener: tokio::net::TcpListener,
        dist_dir: &Path,
        config: SpaConfig,
        upstream: Option<String>,
        caching: Caching,
    ) -> Result<Self> {
        let addr = listener.local_addr().context("reading the SPA server's address")?;
        let config = Arc::new(RwLock::new(config));
        // The proxy passes redirects through to the browser instead of following them itself.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the proxy's HTTP client")?;
        let shared = Shared { config: config.clone(), upstream, client };
        let files = ServeDir::new(dist_dir).fallback(ServeFile::new(dist_dir.join("index.html")));
        let mut app = Router::new()
            .route(contract::routes::CONFIG, get(config_json))
            .route("/api", any(proxy))
            .route("/api/{*rest}", any(proxy))
            .fallback_service(files)
            .with_state(shared);
        if caching == Caching::NoStore {
            app = app
                .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        }
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                eprintln!("e2e: the SPA server stopped: {err}");
            }
        });
        Ok(SpaServer { addr, config, task })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
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
