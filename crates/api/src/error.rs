//! The API's one error type, and how each error becomes an HTTP response.
//!
//! Every error response has a JSON body `{"error": ..., "error_description": ...}`;
//! a request body that fails validation (`422`) adds `"field"`, naming the
//! member of the body at fault when there is one.
//! Authentication failures also carry the `WWW-Authenticate` challenge of
//! RFC 6750 §3: no error code when the token is simply missing (or of
//! another scheme), `invalid_request` (`400`) when the request is malformed
//! as such (two `Authorization` headers), `invalid_token` when it is unusable, `insufficient_scope` (with the
//! missing permission as `scope`) when it lacks a permission.
//!
//! Requests with the `DPoP` scheme are answered with `DPoP` challenges
//! (RFC 9449 §7.1), which also list the proof algorithms accepted (`algs`):
//! `invalid_dpop_proof` for a proof's defect, `use_dpop_nonce` when a server
//! nonce is required (the response then carries a fresh `DPoP-Nonce`,
//! added by the nonce layer of [`crate::app`]), and `invalid_token` for the
//! token itself. A request without credentials is offered both schemes (a
//! `Bearer` challenge, then a `DPoP` one, RFC 9449 §7.2), or only `DPoP`
//! when bearer tokens are refused. Internal details (database messages)
//! are logged, never sent.

use std::borrow::Cow;

use axum::Json;
use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use contract::wire::ErrorBody;
use dpop::ProofError;
use permissions::Permission;
use store::StoreError;

use crate::auth::AuthError;

/// The challenge for a request without credentials (RFC 6750 §3.1).
const BEARER_CHALLENGE: &str = r#"Bearer realm="api""#;
/// Seconds a client should wait when the issuer's keys are not loaded yet.
const KEYS_RETRY_AFTER_SECONDS: &str = "5";
/// The start of every `DPoP` challenge: the realm and the proof algorithms
/// accepted (RFC 9449 §7.1), by preference.
static DPOP_CHALLENGE: LazyLock<String> =
    LazyLock::new(|| format!(r#"DPoP realm="api", algs="{}""#, dpop::SIGNING_ALGS.join(" ")));
/// What a request without usable credentials is told when bearer tokens are refused.
const DPOP_REQUIRED: &str =
    "this API requires a DPoP-bound access token: send `Authorization: DPoP <token>` with a `DPoP` proof header";

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing, malformed or invalid token, or keys not loaded yet
    /// (answered with `Bearer` challenges).
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The token of a `DPoP`-scheme request was refused (answered with a
    /// `DPoP` challenge; `503` while the keys are not loaded).
    #[error("{0}")]
    DpopToken(AuthError),
    /// The DPoP proof of a request was refused (RFC 9449 §7.1).
    #[error("{0}")]
    DpopProof(ProofError),
    /// No credentials, a bearer token, or another scheme, while the API
    /// requires DPoP (`--require-dpop`).
    #[error("{DPOP_REQUIRED}")]
    DpopRequired,
    /// A valid token without the permission the route needs.
    #[error("the token lacks the `{0}` permission")]
    InsufficientScope(Permission),
    /// A query parameter out of range or not a number, or a body that is
    /// not JSON at all.
    #[error("{0}")]
    BadRequest(&'static str),
    /// A request body without a JSON content type.
    #[error("the request body must be JSON, sent with `Content-Type: application/json`")]
    UnsupportedMediaType,
    /// A well-formed JSON body that the route does not accept.
    #[error("{description}")]
    Invalid {
        /// The member of the body at fault, if it is one member.
        field: Option<String>,
        /// What is wrong with it, for people.
        description: String,
    },
    /// A path that names no resource.
    #[error("no such resource")]
    NotFound,
    /// A resource the path's pattern allows but that does not exist (the
    /// description says which kind).
    #[error("{0}")]
    NoSuch(&'static str),
    /// The request is well-formed but would break a rule of the data.
    #[error("{0}")]
    Conflict(&'static str),
    /// A route's path with a method it does not serve.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A body over [`crate::MAX_BODY_BYTES`].
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// The database failed; logged in full, reported as unavailable.
    #[error("database error: {0}")]
    Store(#[from] StoreError),
    /// A bug (a handler panicked); logged where it happened.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// A `422` about one member of the request body.
    pub fn invalid(field: &str, description: impl Into<String>) -> ApiError {
        ApiError::Invalid { field: Some(field.to_owned()), description: description.into() }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Auth(AuthError::KeysUnavailable) | ApiError::DpopToken(AuthError::KeysUnavailable) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Auth(AuthError::InvalidRequest(_)) | ApiError::DpopToken(AuthError::InvalidRequest(_)) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Auth(_) | ApiError::DpopToken(_) | ApiError::DpopProof(_) | ApiError::DpopRequired => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::InsufficientScope(_) => StatusCode::FORBIDDEN,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::NotFound | ApiError::NoSuch(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine-readable code of the body (RFC 6750 codes where they apply).
    fn code(&self) -> &'static str {
        match self {
            ApiError::Auth(AuthError::MissingToken | AuthError::OtherScheme)
            | ApiError::DpopToken(AuthError::MissingToken | AuthError::OtherScheme)
            | ApiError::DpopRequired => "unauthorized",
            ApiError::Auth(AuthError::InvalidRequest(_)) | ApiError::DpopToken(AuthError::InvalidRequest(_)) => {
                "invalid_request"
            }
            ApiError::Auth(AuthError::InvalidToken(_)) | ApiError::DpopToken(AuthError::InvalidToken(_)) => {
                "invalid_token"
            }
            ApiError::Auth(AuthError::KeysUnavailable) | ApiError::DpopToken(AuthError::KeysUnavailable) => {
                "temporarily_unavailable"
            }
            ApiError::DpopProof(defect) => defect.error_code(),
            ApiError::InsufficientScope(_) => "insufficient_scope",
            ApiError::BadRequest(_) | ApiError::Invalid { .. } => "invalid_request",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::NotFound | ApiError::NoSuch(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::Store(_) => "service_unavailable",
            ApiError::Internal => "internal_error",
        }
    }

    fn description(&self) -> Cow<'static, str> {
        match self {
            ApiError::Auth(AuthError::InvalidToken(rejection) | AuthError::InvalidRequest(rejection))
            | ApiError::DpopToken(AuthError::InvalidToken(rejection) | AuthError::InvalidRequest(rejection)) => {
                Cow::Borrowed(rejection.description())
            }
            ApiError::DpopProof(defect) => Cow::Borrowed(defect.description()),
            ApiError::DpopRequired => Cow::Borrowed(DPOP_REQUIRED),
            ApiError::Store(_) => Cow::Borrowed("the database is unavailable; try again later"),
            ApiError::BadRequest(reason) | ApiError::NoSuch(reason) | ApiError::Conflict(reason) => {
                Cow::Borrowed(reason)
            }
            ApiError::Invalid { description, .. } => Cow::Owned(description.clone()),
            ApiError::Auth(_)
            | ApiError::DpopToken(_)
            | ApiError::NotFound
            | ApiError::MethodNotAllowed
            | ApiError::PayloadTooLarge
            | ApiError::UnsupportedMediaType
            | ApiError::Internal => Cow::Owned(self.to_string()),
            ApiError::InsufficientScope(_) => Cow::Owned(self.to_string()),
        }
    }

    /// The `WWW-Authenticate` challenge, for the errors that have one.
    fn challenge(&self) -> Option<HeaderValue> {
        match self {
            ApiError::Auth(AuthError::MissingToken | AuthError::OtherScheme) => {
                Some(HeaderValue::from_static(BEARER_CHALLENGE))
            }
            ApiError::Auth(AuthError::InvalidToken(rejection)) => HeaderValue::try_from(format!(
                r#"{BEARER_CHALLENGE}, error="invalid_token", error_description="{}""#,
                rejection.description()
            ))
            .ok(),
            ApiError::Auth(AuthError::InvalidRequest(rejection)) => HeaderValue::try_from(format!(
                r#"{BEARER_CHALLENGE}, error="invalid_request", error_description="{}""#,
                rejection.description()
            ))
            .ok(),
            ApiError::InsufficientScope(permission) => {
                let scope = permission.as_str();
                // RFC 6750 §3's scope-token excludes spaces, quotes and
                // backslashes; a name outside it is left out rather than
                // allowed to break the header's syntax.
                let valid_scope =
                    !scope.is_empty() && scope.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
                let value = if valid_scope {
                    format!(r#"{BEARER_CHALLENGE}, error="insufficient_scope", scope="{scope}""#)
                } else {
                    format!(r#"{BEARER_CHALLENGE}, error="insufficient_scope""#)
                };
                HeaderValue::try_from(value).ok()
            }
            ApiError::DpopRequired => HeaderValue::try_from(DPOP_CHALLENGE.as_str()).ok(),
            ApiError::DpopToken(AuthError::InvalidToken(rejection) | AuthError::InvalidRequest(rejection)) => {
                dpop_challenge(self.code(), rejection.description())
            }
            ApiError::DpopProof(defect) => dpop_challenge(defect.error_code(), defect.description()),
            _ => None,
        }
    }
}

/// A `DPoP` challenge with an error code and its description (fixed
/// strings, without quotes, so the header is always well-formed).
fn dpop_challenge(code: &str, description: &str) -> Option<HeaderValue> {
    let challenge = DPOP_CHALLENGE.as_str();
    HeaderValue::try_from(format!(r#"{challenge}, error="{code}", error_description="{description}""#)).ok()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Store(error) => tracing::error!("database request failed: {error}"),
            ApiError::Auth(AuthError::InvalidToken(rejection))
            | ApiError::DpopToken(AuthError::InvalidToken(rejection)) => {
                tracing::debug!("token refused: {}", rejection.description())
            }
            ApiError::DpopProof(defect) => tracing::debug!("DPoP proof refused: {}", defect.description()),
            _ => {}
        }
        let field = match &self {
            ApiError::Invalid { field, .. } => field.clone(),
            _ => None,
        };
        let body =
            ErrorBody { error: self.code().to_owned(), error_description: self.description().into_owned(), field };
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(challenge) = self.challenge() {
            response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
        }
        // Without credentials, the client may also use DPoP (RFC 9449 §7.2):
        // a second challenge, after the bearer one.
        if matches!(self, ApiError::Auth(AuthError::MissingToken | AuthError::OtherScheme))
            && let Ok(challenge) = HeaderValue::try_from(DPOP_CHALLENGE.as_str())
        {
            response.headers_mut().append(WWW_AUTHENTICATE, challenge);
        }
        if matches!(self, ApiError::Auth(AuthError::KeysUnavailable) | ApiError::DpopToken(AuthError::KeysUnavailable))
        {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static(KEYS_RETRY_AFTER_SECONDS));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Rejection;

    #[test]
    fn every_rejection_makes_a_well_formed_challenge() {
        // `Rejection::ALL` is generated with the enum, so it holds every variant.
        for &rejection in Rejection::ALL {
            let description = rejection.description();
            assert!(!description.contains(['"', '\\']), "{description}");
            let error = ApiError::Auth(AuthError::InvalidToken(rejection));
            let challenge = error.challenge().expect("a valid header value");
            assert!(challenge.to_str().unwrap().contains(r#"error="invalid_token""#));
        }
    }

    #[test]
    fn every_proof_defect_makes_a_well_formed_dpop_challenge() {
        for &defect in ProofError::ALL {
            let challenge = ApiError::DpopProof(defect).challenge().expect("a valid header value");
            let challenge = challenge.to_str().unwrap();
            assert!(challenge.starts_with(r#"DPoP realm="api", algs="ES256 "#), "{challenge}");
            assert!(challenge.contains(&format!(r#"error="{}""#, defect.error_code())), "{challenge}");
        }
        for &rejection in Rejection::ALL {
            let challenge = ApiError::DpopToken(AuthError::InvalidToken(rejection)).challenge().unwrap();
            assert!(challenge.to_str().unwrap().contains(r#"error="invalid_token""#));
        }
    }

    #[test]
    fn odd_permission_names_do_not_break_the_challenge() {
        let error = ApiError::InsufficientScope(Permission::Other("a\"b".into()));
        assert_eq!(error.challenge().unwrap(), r#"Bearer realm="api", error="insufficient_scope""#);
        let error = ApiError::InsufficientScope(Permission::ReadUserList);
        assert_eq!(
            error.challenge().unwrap(),
            r#"Bearer realm="api", error="insufficient_scope", scope="read:user-list""#
        );
    }
}
