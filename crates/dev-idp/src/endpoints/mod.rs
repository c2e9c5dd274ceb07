//! The provider's HTTP endpoints, one module each, and their paths.
//!
//! Browser navigations ([`authorize`], [`end_session`]) answer people with
//! pages and redirects; the endpoints the SPA calls with `fetch()`
//! ([`token`], [`revocation`], [`discovery`], [`jwks`]) answer programs with
//! JSON and are the only ones open cross-origin (see [`crate::app`]).
//! [`health`] is for the supervisor that starts the provider.

pub(crate) mod authorize;
mod client_request;
pub(crate) mod discovery;
mod dpop_proof;
pub(crate) mod end_session;
pub(crate) mod health;
pub(crate) mod jwks;
pub(crate) mod revocation;
pub(crate) mod token;

use std::time::Duration;

use axum::http::header::{CACHE_CONTROL, LOCATION, REFERRER_POLICY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::cookies::{self, CSRF_COOKIE};
use crate::csrf;
use crate::error::PageError;
use crate::state::AppState;

/// The authorization endpoint (GET shows or answers, POST is the sign-in form).
pub const AUTHORIZE_PATH: &str = "/authorize";
/// The token endpoint.
pub const TOKEN_PATH: &str = "/oauth/token";
/// The revocation endpoint (RFC 7009), at Auth0's path.
pub const REVOCATION_PATH: &str = "/oauth/revoke";
/// The JWKS.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// The discovery document.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// The end-session (RP-initiated logout) endpoint, at Auth0's path.
pub const END_SESSION_PATH: &str = "/v2/logout";
/// The health check.
pub const HEALTH_PATH: &str = "/healthz";

/// The CSRF binding cookie lives a day, so a long-open tab still works.
const CSRF_COOKIE_MAX_AGE: u64 = 24 * 3600;

/// The browser's CSRF binding for a form about to be shown, and the
/// `Set-Cookie` value that keeps it. The browser's own binding cookie is
/// reused if it has one, so forms open in several tabs all stay valid.
fn csrf_binding(state: &AppState, headers: &HeaderMap) -> (String, HeaderValue) {
    let binding = cookies::read(headers, CSRF_COOKIE)
        .filter(|value| csrf::is_valid_binding(value))
        .map_or_else(csrf::new_binding, str::to_owned);
    let cookie = cookies::set(CSRF_COOKIE, &binding, CSRF_COOKIE_MAX_AGE, state.secure_cookies());
    (binding, cookie)
}

/// A redirect to `location` that is never cached and leaks nothing through
/// `Referer`: the answer of the browser-facing endpoints to a client.
fn redirect(status: StatusCode, location: &str) -> Response {
    let Ok(value) = HeaderValue::from_str(location) else {
        // `Url` serialisation is always a valid header value; should that
        // ever change, failing loudly beats redirecting somewhere odd.
        return PageError::Internal(format!("unusable redirect location {location:?}")).into_response();
    };
    let mut response = status.into_response();
    let headers = response.headers_mut();
    headers.insert(LOCATION, value);
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// Lets any cache (the browser's, the SPA's own) reuse a public document
/// for `max_age` (`public, max-age=N`), as real providers do for discovery
/// and the JWKS, so that a reload need not ask for them again.
fn cached_for(mut response: Response, max_age: Duration) -> Response {
    let value = format!("public, max-age={}", max_age.as_secs());
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(CACHE_CONTROL, value);
    }
    response
}
