//! The JWKS (RFC 7517): the public keys that verify this provider's tokens.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::cached_briefly;
use crate::state::AppState;

/// `GET /.well-known/jwks.json`: the active key, and the retired keys
/// whose tokens may not have expired yet (see [`crate::signing_keys`]).
pub(crate) async fn get(State(state): State<AppState>) -> Response {
    let retention = i64::try_from(state.settings().key_retention().as_secs()).unwrap_or(i64::MAX);
    cached_briefly(Json(state.keys().published_jwks(state.now(), retention)).into_response())
}
