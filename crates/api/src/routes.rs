//! The request handlers: the two permission-guarded lists, the writes
//! (create and delete a project, replace a user's roles), the caller's own
//! capabilities, the health check, and the JSON answers for unknown paths
//! and methods.
//!
//! Each guarded handler authenticates first (`401`), then checks the
//! permission (`403`), and only then reads the query, the path or the body
//! (`400`, `404`, `415`, `422`), so a caller without access learns nothing
//! about what the route would accept, or which ids exist.

use std::sync::{Arc, LazyLock};

use axum::Json;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use contract::api;
use contract::wire::{MeCapabilities, RoleCatalog, RolesManagedBy};
use permissions::Permission;
use serde_json::json;
use store::{RoleUpdateError, Store};

use crate::auth::{Authenticated, Verifier};
use crate::error::ApiError;
use crate::input::{self, JsonBody, PathId};
use crate::pagination::Pagination;

/// A path of [`contract::api`] where the server mounts it: below
/// [`api::DEFAULT_BASE`] (`/projects` is served at `/api/v1/projects`).
pub fn mounted(path: &str) -> String {
    format!("{}{path}", api::DEFAULT_BASE)
}

/// The lists' mounted paths, which their `Link` headers name: built once,
/// not on every request.
static PROJECTS_PATH: LazyLock<String> = LazyLock::new(|| mounted(api::PROJECTS));
static USERS_PATH: LazyLock<String> = LazyLock::new(|| mounted(api::USERS));

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
    Ok(pagination.respond(&PROJECTS_PATH, page))
}

/// `GET /api/v1/users`: needs `read:user-list`.
pub async fn list_users(auth: Authenticated, uri: Uri, State(store): State<Store>) -> Result<Response, ApiError> {
    auth.require(&Permission::ReadUserList)?;
    let pagination = Pagination::from_query(uri.query())?;
    let page = store.list_users(pagination.request()).await?;
    Ok(pagination.respond(&USERS_PATH, page))
}

/// `POST /api/v1/projects`: needs `create:project`. Creates the project
/// from `{"name", "description", "status"?}` (see [`input::new_project`]),
/// owned by the caller when the token's `sub` names a user of the store
/// (see [`store::store_user_id`]); answers `201` with the project as the
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
    let location = HeaderValue::try_from(mounted(&api::project(created.id))).map_err(|_| ApiError::Internal)?;
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
            let known: Vec<String> = store.all_roles().await?.into_iter().map(|role| role.name).collect();
            Err(ApiError::invalid(
                "roles",
                format!("there is no role named `{role}`; the roles are {}", known.join(", ")),
            ))
        }
        Err(RoleUpdateError::LastAdmin) => Err(ApiError::Conflict(LAST_ADMIN)),
        Err(RoleUpdateError::Store(error)) => Err(error.into()),
    }
}

/// `GET /api/v1/roles`: needs `read:user-list` (whoever sees the User List
/// may see what roles exist). Lists the roles and says whether they can be
/// edited here, so the UI can render role controls enabled or disabled with
/// the reason.
pub async fn list_roles(
    auth: Authenticated,
    State(store): State<Store>,
    State(roles_managed_by): State<RolesManagedBy>,
) -> Result<Json<RoleCatalog>, ApiError> {
    auth.require(&Permission::ReadUserList)?;
    let roles = store.all_roles().await?;
    let external = roles_managed_by == RolesManagedBy::Provider;
    Ok(Json(RoleCatalog {
        editable: !external,
        managed_by: roles_managed_by,
        reason: external.then(|| ROLES_EXTERNAL.to_owned()),
        roles,
    }))
}

/// `GET /api/v1/me/capabilities`: any valid token. The permissions the API
/// derives from the caller's token, with the same parser and claim as every
/// permission check, and the parser's warnings: what the API will allow is
/// exactly what this lists.
pub async fn capabilities(auth: Authenticated, State(verifier): State<Arc<Verifier>>) -> Json<MeCapabilities> {
    let mut permissions: Vec<String> = auth.capabilities().iter().map(|p| p.as_str().to_owned()).collect();
    permissions.sort();
    Json(MeCapabilities {
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

/// Any path that is not a route: a JSON `404`.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// A route's path with a method it does not serve: a JSON `405`.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
