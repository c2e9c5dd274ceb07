//! The request side of authentication: the access token from the
//! `Authorization` header, with the `Bearer` scheme (RFC 6750 §2.1) or the
//! `DPoP` scheme (RFC 9449 §7.1), and the [`Authenticated`] extractor
//! handlers take to get a validated principal.
//!
//! Which scheme a token may use depends on the token, not on the client's
//! choice: a token bound to a DPoP key (`cnf.jkt`) is accepted only as
//! `DPoP`, with a valid proof by that key ([`super::dpop`]), since accepting
//! it as `Bearer` would let whoever copied it use it without the key; an
//! unbound token is accepted only as `Bearer`, and only while the API does
//! not require DPoP (`--require-dpop`).

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::get_current_timestamp;
use permissions::{Capabilities, ClaimWarning, Permission};

use super::dpop::DpopPolicy;
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
    Arc<DpopPolicy>: FromRef<S>,
{
    type Rejection = ApiError;

    /// The token first (from the verifier's cache when it was seen before),
    /// then, for the DPoP scheme, the proof, which is checked on every
    /// request: each request has its own.
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let dpop = Arc::<DpopPolicy>::from_ref(state);
        let credentials = match credentials(&parts.headers) {
            Ok(credentials) => credentials,
            Err(AuthError::MissingToken | AuthError::OtherScheme) if dpop.required() => {
                return Err(ApiError::DpopRequired);
            }
            Err(error) => return Err(error.into()),
        };
        let verifier = Arc::<Verifier>::from_ref(state);
        let principal = match credentials {
            Credentials::Bearer(token) => {
                if dpop.required() {
                    return Err(ApiError::DpopRequired);
                }
                let principal = verifier.verify(token).await?;
                if principal.jkt.is_some() {
                    return Err(AuthError::from(Rejection::DpopBound).into());
                }
                principal
            }
            Credentials::Dpop(token) => {
                let principal = verifier.verify(token).await.map_err(ApiError::DpopToken)?;
                let Some(jkt) = principal.jkt.as_deref() else {
                    return Err(ApiError::DpopToken(Rejection::NotDpopBound.into()));
                };
                dpop.check(parts, token, jkt, get_current_timestamp()).map_err(ApiError::DpopProof)?;
                principal
            }
        };
        Ok(Authenticated { principal })
    }
}

/// The access token of a request, with the scheme it came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// `Authorization: Bearer <token>` (RFC 6750).
    Bearer(&'a str),
    /// `Authorization: DPoP <token>` (RFC 9449 §7.1), which needs a proof.
    Dpop(&'a str),
}

/// The token of `Authorization: Bearer <token>`; any other scheme, `DPoP`
/// included, is [`AuthError::OtherScheme`] (see [`credentials`]).
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    match credentials(headers)? {
        Credentials::Bearer(token) => Ok(token),
        Credentials::Dpop(_) => Err(AuthError::OtherScheme),
    }
}

/// The token of `Authorization: Bearer <token>` or `Authorization: DPoP
/// <token>`. The scheme name is case-insensitive (RFC 7235 §2.1); the token
/// must be a `b64token` (RFC 6750 §2.1, RFC 9449 §7.1), which every JWT is.
///
/// The answers follow RFC 6750 §3.1: a request that is malformed as such
/// (two `Authorization` headers, one that is not text) is an
/// `invalid_request`; another scheme is no credentials at all, so the bare
/// challenge; a header whose token is missing or not a `b64token` is an
/// `invalid_token`.
pub fn credentials<'a>(headers: &'a HeaderMap) -> Result<Credentials<'a>, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthError::MissingToken)?;
    if values.next().is_some() {
        return Err(AuthError::InvalidRequest(Rejection::SeveralAuthorizationHeaders));
    }
    let value = value.to_str().map_err(|_| AuthError::InvalidRequest(Rejection::UnreadableAuthorizationHeader))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    let credentials: fn(&'a str) -> Credentials<'a> = if scheme.eq_ignore_ascii_case("bearer") {
        Credentials::Bearer
    } else if scheme.eq_ignore_ascii_case(dpop::SCHEME) {
        Credentials::Dpop
    } else {
        return Err(AuthError::OtherScheme);
    };
    let token = token.trim_start_matches(' ');
    let body = token.trim_end_matches('=');
    let is_b64token_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
    if body.is_empty() || !body.bytes().all(is_b64token_char) {
        return Err(Rejection::EmptyToken.into());
    }
    Ok(credentials(token))
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

    #[test]
    fn dpop_tokens_are_read_with_their_scheme() {
        assert_eq!(credentials(&headers(&[b"DPoP a.b.c"])), Ok(Credentials::Dpop("a.b.c")));
        assert_eq!(credentials(&headers(&[b"dpop  a.b.c"])), Ok(Credentials::Dpop("a.b.c")));
        assert_eq!(credentials(&headers(&[b"Bearer a.b.c"])), Ok(Credentials::Bearer("a.b.c")));
        assert_eq!(credentials(&headers(&[b"DPoP"])), Err(AuthError::InvalidToken(Rejection::EmptyToken)));
        assert_eq!(credentials(&headers(&[b"DPoPa.b.c"])), Err(AuthError::OtherScheme));
    }
}
