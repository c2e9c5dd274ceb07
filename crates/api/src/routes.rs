//! The request handlers: the two permission-guarded lists, the health
//! check, and the JSON answers for unknown paths and methods.
//!
//! Each guarded handler authenticates first (`401`), then checks the
//! permission (`403`), and only then reads the query (`400`), so a caller
//! without access learns nothing about what the route would accept.

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use permissions::Permission;
use serde_json::json;
use store::Store;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::pagination::Pagination;

pub const PROJECTS_PATH: &str = "/api/v1/projects";
pub const USERS_PATH: &str = "/api/v1/users";
pub const HEALTH_PATH: &str = "/healthz";

/// `GET /api/v1/projects`: needs `read:project-list`.
pub async fn list_projects(auth: Authenticated, uri: Uri, State(store): State<Store>) -> Result<Response, ApiError> {
    auth.require(&Permission::ReadProjectList)?;
    let pagination = Pagination::from_query(uri.query())?;
    let page = store.list_projects(pagination.request()).await?;
    Ok(pagination.respond(PROJECTS_PATH, page))
}

/// `GET /api/v1/users`: needs `read:user-list`.
pub async fn list_users(auth: Authenticated, uri: Uri, State(store): State<Store>) -> Result<Response, ApiError> {
    auth.require(&Permission::ReadUserList)?;
    let pagination = Pagination::from_query(uri.query())?;
    let page = store.list_users(pagination.request()).await?;
    Ok(pagination.respond(USERS_PATH, page))
}

/// `GET /healthz`: `200 {"status":"ok"}` when the database answers. No
/// authentication, so load balancers and the e2e harness can poll it.
pub async fn healthz(State(store): State<Store>) -> Result<Response, ApiError> {
    store.ping().await?;
    Ok(Json(json!({"status": "ok"})).into_response())
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
