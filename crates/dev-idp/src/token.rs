//! The token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5): exchanges an
//! authorization code and its PKCE verifier for an ID token and an access
//! token.
//!
//! Every presentation of a code consumes it, before anything else about the
//! request is judged, so a code can never be tried twice.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use permissions::names::API_AUDIENCE;
use serde::Serialize;

use crate::error::{TokenError, no_store};
use crate::params::Params;
use crate::state::AppState;
use crate::tokens::{self, TokenContext};
use crate::{pkce, random};

/// The parameters a token request must not repeat.
const CHECKED_PARAMS: [&str; 5] = ["grant_type", "code", "redirect_uri", "client_id", "code_verifier"];

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub id_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
}

/// `POST /oauth/token`.
pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match exchange(&state, &headers, &body).await {
        Ok(tokens) => {
            let mut response = Json(tokens).into_response();
            no_store(&mut response);
            response
        }
        Err(error) => error.into_response(),
    }
}

async fn exchange(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<TokenResponse, TokenError> {
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    if !form {
        return Err(TokenError::InvalidRequest("the body must be application/x-www-form-urlencoded".into()));
    }
    let params = Params::parse(body);
    if let Some(name) = params.first_repeated(&CHECKED_PARAMS) {
        return Err(TokenError::InvalidRequest(format!("the parameter {name} was sent more than once")));
    }
    match params.get("grant_type") {
        None => return Err(TokenError::InvalidRequest("grant_type is missing".into())),
        Some("authorization_code") => {}
        Some(_) => {
            return Err(TokenError::UnsupportedGrantType("only the authorization_code grant is supported".into()));
        }
    }
    // The client is public (token_endpoint_auth_methods_supported: none);
    // a client presenting a secret is misconfigured, so say so.
    if params.get("client_secret").is_some() || headers.contains_key(AUTHORIZATION) {
        return Err(TokenError::InvalidClient("this client is public and must not authenticate with a secret".into()));
    }
    let client_id = params.get("client_id").ok_or_else(|| TokenError::InvalidRequest("client_id is missing".into()))?;
    if client_id != state.client().id() {
        return Err(TokenError::InvalidClient("unknown client_id".into()));
    }
    let code = params.get("code").ok_or_else(|| TokenError::InvalidRequest("code is missing".into()))?;
    let grant = state.codes().take(code);

    let redirect_uri =
        params.get("redirect_uri").ok_or_else(|| TokenError::InvalidRequest("redirect_uri is missing".into()))?;
    let verifier = params
        .get("code_verifier")
        .ok_or_else(|| TokenError::InvalidRequest("PKCE is required: code_verifier is missing".into()))?;
    if !pkce::is_valid_verifier(verifier) {
        return Err(TokenError::InvalidRequest(
            "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~".into(),
        ));
    }

    let grant = grant.ok_or_else(|| TokenError::InvalidGrant("the code is unknown, already used or expired".into()))?;
    let now = state.now();
    if grant.expires_at <= now {
        return Err(TokenError::InvalidGrant("the code has expired".into()));
    }
    if grant.client_id != client_id {
        return Err(TokenError::InvalidGrant("the code was issued to another client".into()));
    }
    if grant.redirect_uri != redirect_uri {
        return Err(TokenError::InvalidGrant("redirect_uri differs from the one in the authorization request".into()));
    }
    if !pkce::verifies(verifier, &grant.code_challenge) {
        return Err(TokenError::InvalidGrant("code_verifier does not match the code_challenge".into()));
    }

    let store = state.store();
    let user = store
        .user_by_id(grant.user_id)
        .await?
        .ok_or_else(|| TokenError::InvalidGrant("the user no longer exists".into()))?;
    // Read at exchange time, so role changes show up at the next sign-in.
    let roles = store.user_roles(user.id).await?;
    let permissions = store.user_permissions(user.id).await?;

    let scopes: Vec<&str> = grant.scope.split(' ').filter(|s| !s.is_empty()).collect();
    let ttl = state.settings().token_ttl.as_secs();
    let jti = random::token(16);
    let issuer = state.issuer().as_str();
    // Without an `audience` the access token is still issued for the one
    // API: Auth0 would hand out an opaque /userinfo token instead, which is
    // useless to this SPA, and a default audience is what Auth0 tenants
    // configure for that reason.
    let audience = grant.audience.as_deref().unwrap_or(API_AUDIENCE);
    let context = TokenContext {
        issuer,
        client_id,
        audience,
        user: &user,
        roles: &roles,
        permissions: &permissions,
        scopes: &scopes,
        nonce: grant.nonce.as_deref(),
        auth_time: grant.auth_time,
        now,
        ttl_secs: ttl as i64,
        jti: &jti,
    };
    let key = state.keys().active();
    let sign_error = |e: jsonwebtoken::errors::Error| TokenError::Internal(format!("signing failed: {e}"));
    let id_token = tokens::sign(key, "JWT", &context.id_token_claims()).map_err(sign_error)?;
    let access_token = tokens::sign(key, "at+jwt", &context.access_token_claims()).map_err(sign_error)?;
    tracing::info!(user = %user.username, "issued tokens");
    Ok(TokenResponse { access_token, id_token, token_type: "Bearer", expires_in: ttl, scope: context.scope_string() })
}
