//! `dev-idp`: a development-only OpenID Provider for permission-spa.
//!
//! It signs in the demo users of the shared SQLite store (no passwords) and
//! issues RS256 ID and access tokens shaped like Auth0's, plus rotating
//! refresh tokens for `offline_access` ([`refresh_tokens`]), so the SPA and
//! the API can be developed and tested end to end without a real tenant.
//! Token requests may prove a DPoP key (RFC 9449, checked by the `dpop`
//! crate), and the tokens are then bound to it (`--dpop-nonce` and
//! `--require-dpop` tighten that; see `endpoints::token`). Its signing keys
//! can be rotated while it runs (`dev-idp rotate-key`,
//! [`signing_keys::rotate`]). Being a password-less login, it listens on
//! loopback addresses only, unless `--i-know-this-is-not-for-production`
//! says otherwise (see [`config`]).
//!
//! # Layout
//!
//! - `endpoints/`: one module per HTTP endpoint (authorize, token,
//!   revocation, end_session, discovery, jwks, health), and the token
//!   endpoint's DPoP proof check (`dpop_proof`); only they know HTTP
//!   requests.
//! - `pages/`: the HTML the provider shows people (sign-in, the sign-out
//!   confirmation, signed out, errors).
//! - What the endpoints are made of, each with one job: [`config`] and
//!   `cli` (validated settings), `state` (what handlers share),
//!   `registered_client`, `authorization_codes`, [`refresh_tokens`],
//!   `provider_session` and `cookies`, `csrf`, [`pkce`], `scopes`, `claims`
//!   and `jwt` (what a token says, and its signature), [`signing_keys`]
//!   (the key directory, and the live view a running provider signs with),
//!   `params` (strict form parsing), `error`, `random` and [`clock`].
//!
//! Dependencies point one way: `lib` → `endpoints` → `pages` and the
//! building blocks; nothing below `endpoints` knows a route.
//!
//! The crate is a library so tests (and other crates' test harnesses) can
//! build the router with [`app`] or run the whole server with [`serve`];
//! `main.rs` only parses the command line.

pub mod cli;
pub mod clock;
pub mod config;
pub mod pkce;
pub mod refresh_tokens;
pub mod signing_keys;

mod authorization_codes;
mod claims;
mod cookies;
mod csrf;
mod endpoints;
mod error;
mod jwt;
mod pages;
mod params;
mod provider_session;
mod random;
mod registered_client;
mod scopes;
mod state;

use anyhow::Context;
use axum::Router;
use axum::http::header::{CONTENT_TYPE, DATE};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::routing::{get, post};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::endpoints::{authorize, discovery, end_session, health, jwks, revocation, token};

pub use config::Config;
pub use endpoints::{
    AUTHORIZE_PATH, DISCOVERY_PATH, END_SESSION_PATH, HEALTH_PATH, JWKS_PATH, REVOCATION_PATH, TOKEN_PATH,
};
pub use state::{AppState, Settings};

/// The provider's routes.
pub fn app(state: AppState) -> Router {
    // Only what the SPA calls with fetch() is open cross-origin; the
    // browser-navigation endpoints need no CORS. The token endpoint takes a
    // `DPoP` proof header (a non-safelisted header, so the browser asks in
    // its preflight) and answers with a `DPoP-Nonce` the SPA must be able
    // to read (RFC 9449 §8), and the SPA reads `Date` too, to correct its
    // proofs' `iat` when its clock is off (neither is CORS-safelisted).
    // (`WWW-Authenticate` is a resource server's answer; the token
    // endpoint's errors are JSON bodies.)
    let origins: Vec<HeaderValue> =
        state.settings().spa_origins.iter().filter_map(|origin| HeaderValue::from_str(origin.as_str()).ok()).collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([CONTENT_TYPE, HeaderName::from_static("dpop")])
        .expose_headers([HeaderName::from_static("dpop-nonce"), DATE])
        .max_age(std::time::Duration::from_secs(600));
    let cross_origin = Router::new()
        .route(DISCOVERY_PATH, get(discovery::get))
        .route(JWKS_PATH, get(jwks::get))
        .route(TOKEN_PATH, post(token::post))
        .route(REVOCATION_PATH, post(revocation::post))
        .layer(cors);
    Router::new()
        .route(AUTHORIZE_PATH, get(authorize::get).post(authorize::post))
        .route(END_SESSION_PATH, get(end_session::get).post(end_session::post))
        .route(HEALTH_PATH, get(health::get))
        .merge(cross_origin)
        .layer(TraceLayer::new_for_http().make_span_with(server_kit::request_span))
        .with_state(state)
}

/// Binds, opens the store and the key, and serves until Ctrl-C or SIGTERM.
///
/// It refuses a non-loopback listen address the configuration does not
/// allow ([`config::check_exposure`]), and warns loudly on stderr about one
/// it does allow.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let exposure = config.exposure()?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let local = listener.local_addr().context("cannot read the listen address")?;
    if exposure == config::Exposure::NonLoopback {
        eprintln!("{}", config::non_loopback_warning(local));
        tracing::warn!(address = %local, "dev-idp listens on a non-loopback address: anyone who reaches it can sign in as anyone");
    }
    let issuer = config.issuer_for(local)?;
    let state = AppState::open(&config, issuer.clone()).await?;
    let origins: Vec<&str> = config.spa_origins.iter().map(|origin| origin.as_str()).collect();
    tracing::warn!("dev-idp is a development-only provider: anyone who can reach it can sign in as anyone");
    tracing::info!(
        address = %local,
        %issuer,
        spa_origins = %origins.join(","),
        kid = state.keys().active().kid(),
        refresh_reuse_interval_secs = state.settings().refresh_reuse_interval.as_secs(),
        dpop_nonce = state.settings().dpop_nonce,
        require_dpop = state.settings().require_dpop,
        "dev-idp listening on http://{local}"
    );
    axum::serve(listener, app(state))
        .with_graceful_shutdown(server_kit::shutdown_signal())
        .await
        .context("the server failed")
}
