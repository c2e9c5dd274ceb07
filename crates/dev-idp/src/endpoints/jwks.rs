//! The JWKS (RFC 7517): the public keys that verify this provider's tokens.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use std::time::Duration;

use super::cached_for;
use crate::state::{AppState, KEY_RETENTION_MARGIN};

/// How long the key set may be reused. A rotated key is published at once
/// (verifiers that meet its `kid` fetch the set again); a retired key stays
/// published for the token lifetime plus [`KEY_RETENTION_MARGIN`], the room
/// left for caches of the set, which this lifetime stays within.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(300);
const _: () = assert!(MAX_AGE.as_secs() <= KEY_RETENTION_MARGIN.as_secs());

/// `GET /.well-known/jwks.json`: the active key, and the retired keys
/// whose tokens may not have expired yet (see [`crate::signing_keys`]).
pub(crate) async fn get(State(state): State<AppState>) -> Response {
    let retention = i64::try_from(state.settings().key_retention().as_secs()).unwrap_or(i64::MAX);
    cached_for(Json(state.keys().published_jwks(state.now(), retention)).into_response(), MAX_AGE)
}
