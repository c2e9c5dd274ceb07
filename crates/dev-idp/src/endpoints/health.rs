//! The health check, which `cargo xtask dev` and the test harnesses poll
//! until the provider answers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// `GET /healthz`: 200 once the store answers (the key is loaded before the
/// server starts, so a served request implies it).
pub(crate) async fn get(State(state): State<AppState>) -> Response {
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
