//! The request handlers: the two permission-guarded lists, the writes
//! (create and delete a project, replace a user's roles), the caller's own
//! capabilities, the health check, and the JSON answers for unknown paths
//! and methods.
//!
//! Each guarded handler authenticates first (`401`), then checks the
//! permission (`403`), and only then reads the query, the path or the body
//! (`400`, `404`, `415`, `422`), so a caller without access learns nothing
//! about what the route would accept, or which ids exist.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use permissions::Permission;
use serde::Serialize;
use serde_json::json;
use store::{RoleUpdateError, Store};

use crate::RolesManagedBy;
use crate::auth::{Authenticated, Verifier};
use crate::error::ApiError;
use crate::input::{self, JsonBody, PathId};
use crate::pagination::Pagination;

pub const PROJECTS_PATH: &str = "/api/v1/projects";
/// One project; `{id}` is its numeric id.
pub const PROJECT_PATH: &str = "/api/v1/projects/{id}";
pub const USERS_PATH: &str = "/api/v1/users";
/// A user's roles; `{id}` is the user's numeric id.
pub const USER_ROLES_PATH: &str = "/api/v1/users/{id}/roles";
pub const CAPABILITIES_PATH: &str = "/api/v1/me/capabilities";
pub const ROLES_PATH: &str = "/api/v1/roles";
pub const HEALTH_PATH: &str = "/healthz";

const NO_SUCH_PROJECT: &str = "no project has this id";
const NO_SUCH_USER: &str = "no user has this id";
const ROLES_EXTERNAL: &str = "roles are managed by the identity provider; change them there (see the README: wiring role controls to the provider)";
const LAST_ADMIN: &str =
    "this user is the last one with the `admin` role; grant it to someone else before removing it here";

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

/// `POST /api/v1/projects`: needs `create:project`. Creates the project
/// from `{"name", "description", "status"?}` (see [`input::new_project`]),
/// owned by the caller when the token's `sub` names a user of the store
/// (see [`crate::auth::subject`]); answers `201` with the project as the
/// list shows it, and its `Location`.
pub async fn create_project(
    auth: Authenticated,
    State(store): State<Store>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    auth.require(&Permission::CreateProject)?;
    let project = input::new_project(body)?;
    let created = store.create_project(project, auth.store_user_id()).await?;
    // Digits only: always a valid header value.
    let location = HeaderValue::try_from(format!("{PROJECTS_PATH}/{}", created.id)).map_err(|_| ApiError::Internal)?;
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(created)).into_response())
}

/// `DELETE /api/v1/projects/{id}`: needs `delete:project`. `204`, or `404`
/// when no project has this id.
pub async fn delete_project(
    auth: Authenticated,
    State(store): State<Store>,
    id: PathId,
) -> Result<StatusCode, ApiError> {
    auth.require(&Permission::DeleteProject)?;
    let id = input::path_id(id, NO_SUCH_PROJECT)?;
    if store.delete_project(id).await? { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::NoSuch(NO_SUCH_PROJECT)) }
}

/// `PUT /api/v1/users/{id}/roles`: needs `update:user-roles`. Replaces the
/// user's roles with `{"roles": [...]}` (every role must exist), in one
/// transaction, and answers `200` with the user as the User List shows them.
/// `404` for an unknown user; `409` when it would leave no one with the
/// `admin` role (no one could grant roles any more).
pub async fn set_user_roles(
    auth: Authenticated,
    State(store): State<Store>,
    State(roles_managed_by): State<RolesManagedBy>,
    id: PathId,
    body: JsonBody,
) -> Result<Response, ApiError> {
    auth.require(&Permission::UpdateUserRoles)?;
    if roles_managed_by == RolesManagedBy::Provider {
        return Err(ApiError::Conflict(ROLES_EXTERNAL));
    }
    let id = input::path_id(id, NO_SUCH_USER)?;
    let roles = input::role_names(body)?;
    match store.set_user_roles(id, &roles).await {
        Ok(Some(user)) => Ok(Json(user).into_response()),
        Ok(None) => Err(ApiError::NoSuch(NO_SUCH_USER)),
        Err(RoleUpdateError::UnknownRole(role)) => {
            let known: Vec<String> = store.all_roles().await?.into_iter().map(|(name, _)| name).collect();
            Err(ApiError::invalid(
                "roles",
                format!("there is no role named `{role}`; the roles are {}", known.join(", ")),
            ))
        }
        Err(RoleUpdateError::LastAdmin) => Err(ApiError::Conflict(LAST_ADMIN)),
        Err(RoleUpdateError::Store(error)) => Err(error.into()),
    }
}

/// What `GET /api/v1/roles` answers.
#[derive(Debug, Serialize)]
pub struct RolesBody {
    /// Whether `PUT /users/{id}/roles` edits roles here.
    pub editable: bool,
    /// `api` or `provider`: who owns the roles.
    pub managed_by: &'static str,
    /// Why they cannot be edited here, when they cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// Every role, by name.
    pub roles: Vec<RoleItem>,
}

/// One role.
#[derive(Debug, Serialize)]
pub struct RoleItem {
    pub name: String,
    pub description: String,
}

/// `GET /api/v1/roles`: needs `read:user-list` (whoever sees the User List
/// may see what roles exist). Lists the roles and says whether they can be
/// edited here, so the UI can render role controls enabled or disabled with
/// the reason.
pub async fn list_roles(
    auth: Authenticated,
    State(store): State<Store>,
    State(roles_managed_by): State<RolesManagedBy>,
) -> Result<Json<RolesBody>, ApiError> {
    auth.require(&Permission::ReadUserList)?;
    let roles =
        store.all_roles().await?.into_iter().map(|(name, description)| RoleItem { name, description }).collect();
    let external = roles_managed_by == RolesManagedBy::Provider;
    Ok(Json(RolesBody {
        editable: !external,
        managed_by: if external { "provider" } else { "api" },
        reason: external.then_some(ROLES_EXTERNAL),
        roles,
    }))
}

/// What `GET /api/v1/me/capabilities` answers.
#[derive(Debug, Serialize)]
pub struct CapabilitiesBody {
    /// The token's `sub`.
    pub subject: Option<String>,
    /// Every permission the token grants, as the API reads it, sorted by name.
    pub permissions: Vec<String>,
    /// The claim the permissions are read from (`--permissions-claim`).
    pub source: String,
    /// What the claim parser ignored or found missing.
    pub warnings: Vec<String>,
}

/// `GET /api/v1/me/capabilities`: any valid token. The permissions the API
/// derives from the caller's token, with the same parser and claim as every
/// permission check, and the parser's warnings: what the API will allow is
/// exactly what this lists.
pub async fn capabilities(auth: Authenticated, State(verifier): State<Arc<Verifier>>) -> Json<CapabilitiesBody> {
    let mut permissions: Vec<String> = auth.capabilities().iter().map(|p| p.as_str().to_owned()).collect();
    permissions.sort();
    Json(CapabilitiesBody {
        subject: auth.subject().map(str::to_owned),
        permissions,
        source: verifier.config().claim_path.as_str().to_owned(),
        warnings: auth.warnings().iter().map(ToString::to_string).collect(),
    })
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
