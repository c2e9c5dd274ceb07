//! What the token and revocation endpoints share: both take a form body
//! from the SPA's `fetch()`, and both identify the one public client by the
//! `client_id` it names.

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};

use crate::error::TokenError;
use crate::params::Params;
use crate::state::AppState;

/// The parameters of an `application/x-www-form-urlencoded` body; any other
/// body is an `invalid_request`.
fn form_params(headers: &HeaderMap, body: &[u8]) -> Result<Params, TokenError> {
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !form {
        return Err(TokenError::InvalidRequest("the body must be application/x-www-form-urlencoded".into()));
    }
    Ok(Params::parse(body))
}

/// The parameters of a form body, refusing any of `unrepeatable` that was
/// sent more than once (RFC 6749 §3.2).
pub(super) fn strict_form_params(
    headers: &HeaderMap,
    body: &[u8],
    unrepeatable: &[&str],
) -> Result<Params, TokenError> {
    let params = form_params(headers, body)?;
    if let Some(name) = params.first_repeated(unrepeatable.iter().copied()) {
        return Err(TokenError::InvalidRequest(format!("the parameter {name} was sent more than once")));
    }
    Ok(params)
}

/// Identifies the calling client: the one registered client is public
/// (`token_endpoint_auth_methods_supported: none`), so it names itself with
/// `client_id` and presents no secret.
pub(super) fn public_client<'a>(
    state: &AppState,
    headers: &HeaderMap,
    params: &'a Params,
) -> Result<&'a str, TokenError> {
    // A client presenting a secret is misconfigured, so say so.
    if params.get("client_secret").is_some() || headers.contains_key(AUTHORIZATION) {
        return Err(TokenError::InvalidClient("this client is public and must not authenticate with a secret".into()));
    }
    let client_id = params.get("client_id").ok_or_else(|| TokenError::InvalidRequest("client_id is missing".into()))?;
    if client_id != state.client().id() {
        return Err(TokenError::InvalidClient("unknown client_id".into()));
    }
    Ok(client_id)
}
