//! The revocation endpoint (RFC 7009): `POST /oauth/revoke`.
//!
//! The SPA calls it at sign-out with its refresh token (`token`, optional
//! `token_type_hint`, `client_id`). Revoking a refresh token revokes its
//! whole family (RFC 7009 §2.1 allows it, and it is what sign-out means),
//! so no token rotated from that sign-in works any more.
//!
//! The answer is `200` with an empty body, also for a token the provider
//! does not know (RFC 7009 §2.2): an access or ID token (JWTs are not
//! revocable here; they expire), a token revoked before, or garbage. The
//! hint is therefore only checked for repetition and otherwise ignored, as
//! §2.1 lets the server search every token type anyway. Errors are the
//! token endpoint's (RFC 7009 §2.2.1): `invalid_request` for a malformed
//! request, `invalid_client` for another client or a secret, and
//! `invalid_grant` for a refresh token issued to another client, which only
//! that client may revoke.
//!
//! The end-session endpoint does not revoke anything: refresh tokens are
//! independent of the provider's cookie, so signing out of the provider
//! (RP-initiated logout) and revoking the SPA's tokens are two calls, and
//! the SPA makes both.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::client_request::{public_client, strict_form_params};
use crate::error::{TokenError, no_store};
use crate::refresh_tokens;
use crate::state::AppState;

/// The parameters a revocation request must not repeat.
const CHECKED_PARAMS: [&str; 3] = ["token", "token_type_hint", "client_id"];

/// `POST /oauth/revoke`.
pub(crate) async fn post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match revoke(&state, &headers, &body).await {
        Ok(()) => {
            let mut response = StatusCode::OK.into_response();
            no_store(&mut response);
            response
        }
        Err(error) => error.into_response(),
    }
}

async fn revoke(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<(), TokenError> {
    let params = strict_form_params(headers, body, &CHECKED_PARAMS)?;
    let client_id = public_client(state, headers, &params)?;
    let token = params.get("token").ok_or_else(|| TokenError::InvalidRequest("token is missing".into()))?;
    refresh_tokens::revoke(state, token, client_id).await
}
