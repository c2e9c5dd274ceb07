//! The permission-guarded JSON API.
//!
//! [`app`] builds the whole HTTP service from an [`AppState`]; `main.rs`
//! only parses flags, opens the store, builds the state and serves it, so
//! tests drive exactly what production runs.
//!
//! * [`config`]: flags and `API_*` environment variables;
//! * [`auth`]: access-token validation against the issuer's keys, DPoP
//!   proofs for DPoP-bound tokens, and the [`auth::Authenticated`] extractor;
//! * [`routes`]: the handlers;
//! * [`input`]: path ids and JSON bodies of the write routes, validated;
//! * [`pagination`]: `?page=`/`?per_page=`, `X-Total-Count` and `Link`;
//! * [`error`]: the one error type and its JSON responses.
//!
//! The service keeps no per-user state between requests: every request
//! carries its token, and what is shared is read-mostly (the key set and a
//! cache of tokens already validated) or short-lived (the DPoP proofs seen
//! in the last minute, so that none is accepted twice).
//!
//! # The hot path
//!
//! What an authenticated `GET /api/v1/projects` costs, and what each choice
//! buys (CPU time of the api process per request under the bench's wrk load,
//! 64 connections on a 2-core machine; Express spends 230-300 µs on its
//! static list there):
//!
//! 1. **The token**: [`auth::Verifier::verify`] checks the signature once per
//!    token and remembers the result until the token's `exp` plus the leeway,
//!    and only while the key set that verified it is in use; repeats are one
//!    hash look-up of the whole token, so any other token (another `alg`,
//!    `kid`, audience or signature) is verified from scratch.
//! 2. **The proof**, for a DPoP-bound token (`Authorization: DPoP`): never
//!    cached, since each request has its own. One ES256 signature check
//!    under the proof's key, the JSON of its header and claims, the key's
//!    thumbprint, the token's hash (`ath`), the URL's normalisation, and one
//!    insertion into the replay cache (a mutex and a hash map). The bench's
//!    DPoP figures (`examples/dpop_cost.rs`, in process, release, the
//!    2-core machine): with RustCrypto's P-256 (behind `jsonwebtoken`)
//!    `dpop::verify` took about 290 µs, 287 µs of it the signature, and a
//!    DPoP request fifteen times a bearer one; so the `dpop` crate checks
//!    ES256 with ring, already linked for TLS, which cut `verify` to about
//!    76 µs under load (README, "Latest run", for the current figures).
//!    The signature is still most of it, and proofs cannot be cached. The
//!    nonce (`--dpop-nonce`) adds one HMAC.
//! 3. **The page and its total**: one statement on a read-only SQLite
//!    connection, called in place (the store's `read_pool`): 150-290 µs with
//!    sqlx's worker threads and two queries, about 53 µs in place, about 34 µs
//!    once the index `projects_newest_first` spared the sort. No result is
//!    cached in the process, so several replicas never disagree.
//! 4. **The body**: the page is serialised straight into a buffer sized for
//!    it ([`pagination::Pagination::respond`]).
//! 5. **The process**: mimalloc as the allocator (about 33 -> 28 µs), and
//!    `TCP_NODELAY`; the runtime is tokio's default, one worker per core.
//!
//! What remains is roughly a quarter each for the kernel's TCP, SQLite, and
//! hyper with axum and the middleware, and the rest for JSON and allocation.

pub mod auth;
pub mod config;
pub mod error;
pub mod input;
pub mod pagination;
pub mod routes;

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, Request, State};
use axum::http::header::{
    ACCEPT, AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, LINK, LOCATION, WWW_AUTHENTICATE,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, Method};
use axum::middleware::{Next, from_fn_with_state, map_request};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, put};
use contract::api;
use contract::wire::RolesManagedBy;
use store::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::auth::dpop::{DPOP, DPOP_NONCE, nonce_header};
use crate::auth::{DpopPolicy, Verifier};
use crate::error::ApiError;
use crate::pagination::X_TOTAL_COUNT;

/// The largest request body: the write routes' JSON bodies are a few
/// hundred bytes; anything larger is refused outright.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// What every request can reach: the database, the token verifier, and the
/// deployment's settings.
#[derive(Clone)]
pub struct AppState {
    store: Store,
    verifier: Arc<Verifier>,
    dpop: Arc<DpopPolicy>,
    cors_origins: Arc<[HeaderValue]>,
    /// Who owns users' roles. With the development provider the store does,
    /// and the API edits them; with an external provider (Auth0, Keycloak)
    /// roles live there, and `PUT /users/{id}/roles` refuses (`409`) rather
    /// than edit a copy the provider never reads.
    roles: RolesManagedBy,
}

impl AppState {
    /// A state with no CORS origins, roles managed by the API, and the
    /// default [`DpopPolicy`] (DPoP-bound and bearer tokens accepted, no
    /// nonces, proofs' URLs checked against the `Host` header).
    pub fn new(store: Store, verifier: Arc<Verifier>) -> AppState {
        AppState {
            store,
            verifier,
            dpop: Arc::new(DpopPolicy::default()),
            cors_origins: Arc::new([]),
            roles: RolesManagedBy::Api,
        }
    }

    /// Treats DPoP as `policy` says.
    pub fn with_dpop(mut self, policy: DpopPolicy) -> AppState {
        self.dpop = Arc::new(policy);
        self
    }

    /// Says who owns users' roles (the store by default).
    pub fn with_roles_managed_by(mut self, roles: RolesManagedBy) -> AppState {
        self.roles = roles;
        self
    }

    /// Allows these origins to call the API cross-origin (none by default).
    pub fn with_cors_origins(mut self, origins: impl IntoIterator<Item = HeaderValue>) -> AppState {
        self.cors_origins = origins.into_iter().collect();
        self
    }
}

impl FromRef<AppState> for Store {
    fn from_ref(state: &AppState) -> Store {
        state.store.clone()
    }
}

impl FromRef<AppState> for RolesManagedBy {
    fn from_ref(state: &AppState) -> RolesManagedBy {
        state.roles
    }
}

impl FromRef<AppState> for Arc<Verifier> {
    fn from_ref(state: &AppState) -> Arc<Verifier> {
        state.verifier.clone()
    }
}

impl FromRef<AppState> for Arc<DpopPolicy> {
    fn from_ref(state: &AppState) -> Arc<DpopPolicy> {
        state.dpop.clone()
    }
}

/// The whole HTTP service: the routes of [`contract::api`] below
/// [`contract::api::DEFAULT_BASE`], and the health check at the root.
pub fn app(state: AppState) -> Router {
    let cors = cors_layer(&state.cors_origins);
    let dpop = state.dpop.clone();
    let mounted = routes::mounted;
    let router = Router::new()
        .route(&mounted(api::PROJECTS), get(routes::list_projects).post(routes::create_project))
        .route(&mounted(api::PROJECT), delete(routes::delete_project))
        .route(&mounted(api::USERS), get(routes::list_users))
        .route(&mounted(api::USER_ROLES), put(routes::set_user_roles))
        .route(&mounted(api::ROLES), get(routes::list_roles))
        .route(&mounted(api::CAPABILITIES), get(routes::capabilities))
        .route(api::HEALTH, get(routes::healthz))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(map_request(refuse_large_bodies))
        // Responses depend on the caller's token: no shared cache may keep them.
        .layer(SetResponseHeaderLayer::if_not_present(CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http().make_span_with(server_kit::request_span));
    // Only with nonces required: without them, no request pays for the layer.
    let router = if dpop.nonces().is_some() { router.layer(from_fn_with_state(dpop, send_dpop_nonce)) } else { router };
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// CORS for the configured origins, allowing the write methods, JSON
/// bodies and DPoP proofs, and exposing the pagination headers, `Location`,
/// and DPoP's `DPoP-Nonce` and `WWW-Authenticate` (whose `use_dpop_nonce`
/// tells a client to retry with the nonce) so that cross-origin scripts can
/// read them.
fn cors_layer(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([AUTHORIZATION, ACCEPT, CONTENT_TYPE, DPOP.clone()])
            .expose_headers([LINK, X_TOTAL_COUNT.clone(), LOCATION, DPOP_NONCE.clone(), WWW_AUTHENTICATE])
            .max_age(Duration::from_secs(600)),
    )
}

/// Refuses a declared body over [`MAX_BODY_BYTES`] before any handler runs.
async fn refuse_large_bodies(request: Request) -> Result<Request, ApiError> {
    // hyper has already refused a malformed Content-Length, so an unreadable
    // one here cannot happen; it is let through to the body limit regardless.
    let declared = request.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    match declared {
        Some(len) if len > MAX_BODY_BYTES as u64 => Err(ApiError::PayloadTooLarge),
        _ => Ok(request),
    }
}

/// With `--dpop-nonce`, every response to a request carrying a DPoP proof,
/// success or error, carries the current server nonce (`DPoP-Nonce`,
/// RFC 9449 §9): the `use_dpop_nonce` answer needs it, and on other answers
/// it lets clients keep the freshest nonce, so that they never need the
/// extra round trip of a stale one while they keep sending requests. The
/// nonce changes once per window; it costs one HMAC per response.
async fn send_dpop_nonce(State(policy): State<Arc<DpopPolicy>>, request: Request, next: Next) -> Response {
    let has_proof = request.headers().contains_key(&DPOP);
    let mut response = next.run(request).await;
    if has_proof && let Some(nonce) = nonce_header(&policy, jsonwebtoken::get_current_timestamp()) {
        response.headers_mut().insert(DPOP_NONCE.clone(), nonce);
    }
    response
}

/// A handler panic is a bug; it is logged and answered like any other error.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!("a request handler panicked: {message}");
    ApiError::Internal.into_response()
}
