//! The public metadata: the discovery document (OpenID Connect Discovery
//! 1.0 §4), the JWKS, and the health check.

use axum::Json;
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use permissions::names::{PERMISSIONS_CLAIM, ROLES_CLAIM};
use serde_json::json;

use crate::state::AppState;
use crate::tokens::SUPPORTED_SCOPES;
use crate::{AUTHORIZE_PATH, END_SESSION_PATH, JWKS_PATH, REVOCATION_PATH, TOKEN_PATH};

/// `GET /.well-known/openid-configuration`.
pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    let issuer = state.issuer();
    let document = json!({
        "issuer": issuer.as_str(),
        "authorization_endpoint": issuer.endpoint(AUTHORIZE_PATH),
        "token_endpoint": issuer.endpoint(TOKEN_PATH),
        "jwks_uri": issuer.endpoint(JWKS_PATH),
        "end_session_endpoint": issuer.endpoint(END_SESSION_PATH),
        "revocation_endpoint": issuer.endpoint(REVOCATION_PATH),
        "revocation_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
        "scopes_supported": SUPPORTED_SCOPES,
        "claims_supported": [
            "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce",
            "name", "preferred_username", "email", "email_verified",
            PERMISSIONS_CLAIM, ROLES_CLAIM,
        ],
        "token_endpoint_auth_methods_supported": ["none"],
        "prompt_values_supported": ["none", "login", "select_account", "consent"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    cached(Json(document).into_response())
}

/// `GET /.well-known/jwks.json`: the active key, and the retired keys
/// whose tokens may not have expired yet (see [`crate::keys`]).
pub async fn jwks(State(state): State<AppState>) -> Response {
    let retention = i64::try_from(state.settings().key_retention().as_secs()).unwrap_or(i64::MAX);
    cached(Json(state.keys().published_jwks(state.now(), retention)).into_response())
}

/// A short cache lifetime: long enough to spare a page load, short enough
/// that a restarted provider with a new key is noticed quickly. (A rotated
/// key is published at once; the retired one stays published long enough
/// for any cache to have caught up.)
fn cached(mut response: Response) -> Response {
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    response
}

/// `GET /healthz`: 200 once the store answers (the key is loaded before the
/// server starts, so a served request implies it).
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store().ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ok", "kid": state.keys().active().kid() }))).into_response(),
        Err(error) => {
            tracing::error!(%error, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "error": "the database does not answer" })),
            )
                .into_response()
        }
    }
}
