//! The error responses of the provider.
//!
//! Two audiences, two shapes: the token and revocation endpoints answer
//! programs, with the RFC 6749 §5.2 JSON body (RFC 7009 §2.2.1 reuses it,
//! RFC 9449 §5 and §8 add the DPoP codes `invalid_dpop_proof` and
//! `use_dpop_nonce`);
//! the browser-facing endpoints answer people, with an HTML page. (Errors a
//! client should hear about at its redirect URI are redirects, built in
//! [`crate::endpoints::authorize`].) Internal failures are logged in full and reported
//! without detail.

use axum::Json;
use axum::http::header::{CACHE_CONTROL, PRAGMA};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::pages;

/// An error of the token endpoint (RFC 6749 §5.2).
#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    #[error("invalid_client: {0}")]
    InvalidClient(String),
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// The DPoP proof is missing where required, or defective (RFC 9449 §5).
    #[error("invalid_dpop_proof: {0}")]
    InvalidDpopProof(String),
    /// The DPoP proof lacks the current server nonce (RFC 9449 §8): the
    /// response carries one in `DPoP-Nonce`, and the client retries.
    #[error("use_dpop_nonce: {0}")]
    UseDpopNonce(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl TokenError {
    /// The `error` code of the response body.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            TokenError::InvalidRequest(_) => "invalid_request",
            TokenError::InvalidClient(_) => "invalid_client",
            TokenError::InvalidGrant(_) => "invalid_grant",
            TokenError::UnsupportedGrantType(_) => "unsupported_grant_type",
            TokenError::InvalidScope(_) => "invalid_scope",
            TokenError::InvalidDpopProof(_) => "invalid_dpop_proof",
            TokenError::UseDpopNonce(_) => "use_dpop_nonce",
            TokenError::Internal(_) => "server_error",
        }
    }
}

impl From<store::StoreError> for TokenError {
    fn from(error: store::StoreError) -> Self {
        TokenError::Internal(error.to_string())
    }
}

#[derive(Serialize)]
struct OAuthErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let (status, description) = match &self {
            // RFC 6749 §5.2: a client that fails to authenticate gets 401.
            TokenError::InvalidClient(d) => (StatusCode::UNAUTHORIZED, d.as_str()),
            TokenError::InvalidRequest(d)
            | TokenError::InvalidGrant(d)
            | TokenError::UnsupportedGrantType(d)
            | TokenError::InvalidScope(d)
            | TokenError::InvalidDpopProof(d)
            | TokenError::UseDpopNonce(d) => (StatusCode::BAD_REQUEST, d.as_str()),
            TokenError::Internal(detail) => {
                tracing::error!(%detail, "token endpoint failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "the provider failed to handle the request; see its log")
            }
        };
        if status != StatusCode::INTERNAL_SERVER_ERROR {
            tracing::info!(error = self.code(), description, "token request refused");
        }
        let body = OAuthErrorBody { error: self.code(), error_description: description };
        let mut response = (status, Json(body)).into_response();
        no_store(&mut response);
        response
    }
}

/// Marks a response as never to be cached (RFC 6749 §5.1).
pub(crate) fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
}

/// An error shown to the person in the browser, as an HTML page.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PageError {
    /// The request cannot be answered at all, e.g. an unknown client or an
    /// unregistered redirect URI: redirecting would be unsafe (RFC 6749 §4.1.2.1).
    #[error("{title}: {message}")]
    BadRequest { title: &'static str, message: String },
    /// A form (sign-in, sign-out) was not submitted from a page this
    /// provider served to this browser.
    #[error("{title}: {message}")]
    Forbidden { title: &'static str, message: String },
    #[error("internal error: {0}")]
    Internal(String),
}

impl PageError {
    pub(crate) fn bad_request(title: &'static str, message: impl Into<String>) -> PageError {
        PageError::BadRequest { title, message: message.into() }
    }
}

impl From<store::StoreError> for PageError {
    fn from(error: store::StoreError) -> Self {
        PageError::Internal(error.to_string())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::BadRequest { title, message } => {
                tracing::info!(title, %message, "request refused with an error page");
                pages::error_page(StatusCode::BAD_REQUEST, title, &message)
            }
            PageError::Forbidden { title, message } => {
                tracing::warn!(title, %message, "form refused");
                pages::error_page(StatusCode::FORBIDDEN, title, &message)
            }
            PageError::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                pages::error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The development provider failed to handle the request; its log has the details.",
                )
            }
        }
    }
}
