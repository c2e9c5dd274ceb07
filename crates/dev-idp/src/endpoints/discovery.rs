//! The discovery document (OpenID Connect Discovery 1.0 §4): where the
//! other endpoints are and what this provider supports.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use permissions::names::{PERMISSIONS_CLAIM, ROLES_CLAIM};
use serde_json::json;

use std::time::Duration;

use super::{AUTHORIZE_PATH, END_SESSION_PATH, JWKS_PATH, REVOCATION_PATH, TOKEN_PATH, cached_for};
use crate::scopes::SUPPORTED_SCOPES;
use crate::state::AppState;

/// How long the document may be reused: it changes only with the
/// provider's configuration (an hour, as Auth0 and Keycloak say).
pub(crate) const MAX_AGE: Duration = Duration::from_secs(3600);

/// `GET /.well-known/openid-configuration`.
pub(crate) async fn get(State(state): State<AppState>) -> Response {
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
        // RFC 9449 §5.1: the token endpoint takes DPoP proofs signed with these.
        "dpop_signing_alg_values_supported": dpop::SIGNING_ALGS,
    });
    cached_for(Json(document).into_response(), MAX_AGE)
}
