//! The request side of authentication: the bearer token from the
//! `Authorization` header (RFC 6750 §2.1), and the [`Authenticated`]
//! extractor handlers take to get a validated principal.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use permissions::{Capabilities, ClaimWarning, Permission};

use super::rejection::Rejection;
use super::validate::{AuthError, Principal, Verifier};
use crate::error::ApiError;

/// A request whose bearer token passed validation. Taking it as a handler
/// argument is what makes a route require authentication.
#[derive(Debug, Clone)]
pub struct Authenticated {
    principal: Arc<Principal>,
}

impl Authenticated {
    /// The token's `sub`, when it has one.
    pub fn subject(&self) -> Option<&str> {
        self.principal.subject.as_deref()
    }

    /// The permissions the token grants.
    pub fn capabilities(&self) -> &Capabilities {
        &self.principal.capabilities
    }

    /// What the permissions-claim parser ignored in the token.
    pub fn warnings(&self) -> &[ClaimWarning] {
        &self.principal.warnings
    }

    /// The store's user this token speaks for, if any (see [`super::subject`]).
    pub fn store_user_id(&self) -> Option<i64> {
        self.subject().and_then(store::store_user_id)
    }

    /// Fails with `403 insufficient_scope` unless the token grants `permission`.
    pub fn require(&self, permission: &Permission) -> Result<(), ApiError> {
        if self.principal.capabilities.has(permission) {
            Ok(())
        } else {
            Err(ApiError::InsufficientScope(permission.clone()))
        }
    }
}

impl<S> FromRequestParts<S> for Authenticated
where
    S: Send + Sync,
    Arc<Verifier>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)?;
        let verifier = Arc::<Verifier>::from_ref(state);
        let principal = verifier.verify(token).await?;
        Ok(Authenticated { principal })
    }
}

/// The token of `Authorization: Bearer <token>`. The scheme name is
/// case-insensitive (RFC 7235 §2.1); the token must be a `b64token`
/// (RFC 6750 §2.1), which every JWT is.
///
/// The answers follow RFC 6750 §3.1: a request that is malformed as such
/// (two `Authorization` headers, one that is not text) is an
/// `invalid_request`; another scheme is no bearer credentials at all, so
/// the bare challenge; a `Bearer` header whose token is missing or not a
/// `b64token` is an `invalid_token`.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthError::MissingToken)?;
    if values.next().is_some() {
        return Err(AuthError::InvalidRequest(Rejection::SeveralAuthorizationHeaders));
    }
    let value = value.to_str().map_err(|_| AuthError::InvalidRequest(Rejection::UnreadableAuthorizationHeader))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::OtherScheme);
    }
    let token = token.trim_start_matches(' ');
    let body = token.trim_end_matches('=');
    let is_b64token_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
    if body.is_empty() || !body.bytes().all(is_b64token_char) {
        return Err(Rejection::EmptyToken.into());
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
        }
        map
    }

    #[test]
    fn bearer_tokens_are_read() {
        assert_eq!(bearer_token(&headers(&[b"Bearer a.b.c"])), Ok("a.b.c"));
        assert_eq!(bearer_token(&headers(&[b"bearer   a.b.c"])), Ok("a.b.c"));
        assert_eq!(bearer_token(&headers(&[b"BEARER a-b_c~+/=="])), Ok("a-b_c~+/=="));
    }

    #[test]
    fn anything_else_is_refused_with_the_right_reason() {
        let invalid = |r| Err(AuthError::InvalidToken(r));
        let malformed = |r| Err(AuthError::InvalidRequest(r));
        assert_eq!(bearer_token(&HeaderMap::new()), Err(AuthError::MissingToken));
        assert_eq!(
            bearer_token(&headers(&[b"Bearer a", b"Bearer b"])),
            malformed(Rejection::SeveralAuthorizationHeaders)
        );
        assert_eq!(
            bearer_token(&headers(&[b"Bearer a", b"Basic b"])),
            malformed(Rejection::SeveralAuthorizationHeaders)
        );
        assert_eq!(bearer_token(&headers(&[b"Bearer \xff\xfe"])), malformed(Rejection::UnreadableAuthorizationHeader));
        for other in [&b"Basic dXNlcjpwYXNz"[..], b"DPoP a.b.c", b"Bearertoken", b"", b"Negotiate"] {
            assert_eq!(bearer_token(&headers(&[other])), Err(AuthError::OtherScheme), "{other:?}");
        }
        assert_eq!(bearer_token(&headers(&[b"Bearer"])), invalid(Rejection::EmptyToken));
        assert_eq!(bearer_token(&headers(&[b"Bearer "])), invalid(Rejection::EmptyToken));
        assert_eq!(bearer_token(&headers(&[b"Bearer a b"])), invalid(Rejection::EmptyToken));
        assert_eq!(bearer_token(&headers(&[b"Bearer a\"b"])), invalid(Rejection::EmptyToken));
        assert_eq!(bearer_token(&headers(&[b"Bearer ==="])), invalid(Rejection::EmptyToken));
    }
}
