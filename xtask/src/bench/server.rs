//! The one static server both SPAs are measured behind, so neither gains from its host: files from a `dist`
//! directory with the SPA fallback to `index.html`, `/config.json` from the bench, `/api/*` proxied to the chosen
//! API, and `Cache-Control: no-store` on every answer so that each reload is cold. No compression: the bench
//! computes gzip and brotli sizes itself from what the browser fetched.

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use std::path::Path;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// The largest request or response body the proxy passes on.
const PROXY_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// A served SPA; dropping it stops the server.
pub(crate) struct Site {
    /// `http://127.0.0.1:PORT`.
    pub(crate) origin: String,
    task: JoinHandle<()>,
}

/// What the handlers share.
struct Shared {
    config: serde_json::Value,
    upstream: String,
    client: reqwest::Client,
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
        anyhow::ensure!(dist.join("index.html").is_file(), "{} has no index.html", dist.display());
        let port = listener.local_addr().context("reading the static server's address")?.port();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the proxy's HTTP client")?;
        let shared = Arc::new(Shared { config, upstream: upstream.trim_end_matches('/').to_string(), client });
        let files = ServeDir::new(dist).fallback(ServeFile::new(dist.join("index.html")));
        let app = Router::new()
            .route(contract::routes::CONFIG, get(config_json))
            .route("/api", any(proxy))
            .route("/api/{*rest}", any(proxy))
            .fallback_service(files)
            .with_state(shared)
            .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                eprintln!("bench: a static server stopped: {err}");
            }
        });
        Ok(Site { origin: format!("http://127.0.0.1:{port}"), task })
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `GET /config.json`.
async fn config_json(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(shared.config.clone()).into_response()
}

/// `/api/*`: the request to the upstream API and its answer back, end-to-end headers included.
async fn proxy(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    match forward(&shared, request).await {
        Ok(response) => response,
        Err(err) => (StatusCode::BAD_GATEWAY, format!("bench proxy: {err:#}")).into_response(),
    }
}

async fn forward(shared: &Shared, request: Request) -> Result<Response> {
    let (parts, body) = request.into_parts();
    let path_and_query = parts.uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
    let url = format!("{}{path_and_query}", shared.upstream);
    let body = axum::body::to_bytes(body, PROXY_BODY_LIMIT).await.context("reading the request body")?;
    let mut outgoing = shared.client.request(parts.method, &url).body(body);
    for (name, value) in &parts.headers {
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

/// Copies the headers meant for the final recipient (`X-Total-Count`, `WWW-Authenticate`, ...).
fn copy_end_to_end_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if !is_hop_by_hop(name) && name != header::CONTENT_LENGTH {
            to.append(name.clone(), value.clone());
        }
    }
}

/// Headers that describe one connection rather than the message (RFC 9110 §7.6.1).
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
