//! The permission-guarded JSON API.
//!
//! [`app`] builds the whole HTTP service from an [`AppState`]; `main.rs`
//! only parses flags, opens the store, builds the state and serves it, so
//! tests drive exactly what production runs.
//!
//! * [`config`]: flags and `API_*` environment variables;
//! * [`auth`]: bearer-token validation against the issuer's keys, and the
//!   [`auth::Authenticated`] extractor;
//! * [`routes`]: the handlers;
//! * [`input`]: path ids and JSON bodies of the write routes, validated;
//! * [`pagination`]: `?page=`/`?per_page=`, `X-Total-Count` and `Link`;
//! * [`error`]: the one error type and its JSON responses.
//!
//! The service keeps no per-user state between requests: every request
//! carries its token, and the only thing shared is read-mostly (the key set
//! and a cache of tokens already validated).
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
//! 2. **The page and its total**: one statement on a read-only SQLite
//!    connection, called in place (the store's `read_pool`): 150-290 µs with
//!    sqlx's worker threads and two queries, about 53 µs in place, about 34 µs
//!    once the index `projects_newest_first` spared the sort. No result is
//!    cached in the process, so several replicas never disagree.
//! 3. **The body**: the page is serialised straight into a buffer sized for
//!    it ([`pagination::Pagination::respond`]).
//! 4. **The process**: mimalloc as the allocator (about 33 -> 28 µs), and
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
use axum::extract::{DefaultBodyLimit, FromRef, Request};
use axum::http::header::{
    ACCEPT, AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, LINK, LOCATION, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, Method};
use axum::middleware::map_request;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, put};
use contract::api;
use contract::wire::RolesManagedBy;
use store::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::auth::Verifier;
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
    cors_origins: Arc<[HeaderValue]>,
    /// Who owns users' roles. With the development provider the store does,
    /// and the API edits them; with an external provider (Auth0, Keycloak)
    /// roles live there, and `PUT /users/{id}/roles` refuses (`409`) rather
    /// than edit a copy the provider never reads.
    roles: RolesManagedBy,
}

impl AppState {
    /// A state with no CORS origins, and roles managed by the API.
    pub fn new(store: Store, verifier: Arc<Verifier>) -> AppState {
        AppState { store, verifier, cors_origins: Arc::new([]), roles: RolesManagedBy::Api }
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

/// The whole HTTP service: the routes of [`contract::api`] below
/// [`contract::api::DEFAULT_BASE`], and the health check at the root.
pub fn app(state: AppState) -> Router {
    let cors = cors_layer(&state.cors_origins);
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
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// CORS for the configured origins, allowing the write methods and JSON
/// bodies, and exposing the pagination headers and `Location` so that
/// cross-origin scripts can read them.
fn cors_layer(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([AUTHORIZATION, ACCEPT, CONTENT_TYPE])
            .expose_headers([LINK, X_TOTAL_COUNT.clone(), LOCATION])
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
