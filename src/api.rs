//! The API client: typed requests to `api_base` with the user's bearer token.
//!
//! The access token is attached here and nowhere else, and only to requests
//! for `api_base`. Every response is validated into typed values; a
//! malformed body is an [`ApiError`], never a panic.

use std::fmt;

use oidc_login::browser::{self, HttpRequest};
use permissions::{Capabilities, ClaimPath, ParsedCapabilities};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::auth::Auth;
use crate::config::AppConfig;

/// A project, as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub status: String,
    pub owner: Option<String>,
    pub created_at: String,
}

/// A user with roles, as the API lists them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<String>,
}

/// One page of a list, and the size of the whole list (`X-Total-Count`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// Why an API request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No session: the request was not sent.
    NotSignedIn,
    /// 401: the token was refused.
    Unauthorized(String),
    /// 403: the API refused the action.
    Forbidden(String),
    /// Another HTTP error.
    Status(u16, String),
    /// The request did not reach the API.
    Network(String),
    /// The API answered something this client cannot read.
    Malformed(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::NotSignedIn => f.write_str("You are not signed in."),
            ApiError::Unauthorized(why) => write!(f, "The API did not accept your session: {why}"),
            ApiError::Forbidden(why) => write!(f, "The API refused: {why}"),
            ApiError::Status(status, why) => write!(f, "The API answered HTTP {status}: {why}"),
            ApiError::Network(why) => write!(f, "Could not reach the API: {why}"),
            ApiError::Malformed(why) => write!(f, "The API's answer could not be read: {why}"),
        }
    }
}

/// The most items a page may ask for (the API's own limit).
pub const MAX_PER_PAGE: u32 = 100;

/// `GET {api_base}{path}?page=&per_page=`: one page of a list.
pub async fn get_page<T: DeserializeOwned>(
    auth: Auth,
    config: &AppConfig,
    path: &str,
    page: u32,
    per_page: u32,
) -> Result<ListPage<T>, ApiError> {
    let url = format!("{}{path}?page={page}&per_page={}", config.api_base, per_page.min(MAX_PER_PAGE));
    let response = send(auth, "GET", &url, None).await?;
    let items: Vec<T> = serde_json::from_str(&response.body).map_err(|e| ApiError::Malformed(e.to_string()))?;
    let total = response.header("X-Total-Count").and_then(|t| t.trim().parse().ok()).unwrap_or(items.len() as u64);
    Ok(ListPage { items, total })
}

/// `GET {api_base}/me/capabilities`: the permissions the API derives from
/// the access token, read with the shared parser, and the raw body.
pub async fn get_capabilities(auth: Auth, config: &AppConfig) -> Result<(ParsedCapabilities, String), ApiError> {
    let url = format!("{}/me/capabilities", config.api_base);
    let response = send(auth, "GET", &url, None).await?;
    let body: serde_json::Value =
        serde_json::from_str(&response.body).map_err(|e| ApiError::Malformed(e.to_string()))?;
    let parsed = Capabilities::from_claims(&body, &ClaimPath::Claim("permissions".into()));
    Ok((parsed, serde_json::to_string_pretty(&body).unwrap_or_default()))
}

/// Sends a request with the bearer token and returns a 2xx response. A 401
/// gets one refresh and one retry (the token may have expired in flight);
/// a second 401 leaves the session to the refresh logic's verdict.
async fn send(auth: Auth, method: &str, url: &str, json: Option<&str>) -> Result<browser::HttpResponse, ApiError> {
    let mut refreshed = false;
    loop {
        let token = auth.access_token().ok_or(ApiError::NotSignedIn)?;
        let authorization = format!("Bearer {token}");
        let mut headers = vec![("Authorization", authorization.as_str()), ("Accept", "application/json")];
        if json.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        let response = browser::fetch(HttpRequest { method, url, headers, body: json, no_cache: true })
            .await
            .map_err(ApiError::Network)?;
        let description = || error_description(&response.body);
        match response.status {
            200..=299 => return Ok(response),
            401 if !refreshed && auth.refresh().await => refreshed = true,
            401 => return Err(ApiError::Unauthorized(description())),
            403 => return Err(ApiError::Forbidden(description())),
            status => return Err(ApiError::Status(status, description())),
        }
    }
}

/// The roles that exist, and whether they can be edited through the API.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RoleCatalog {
    pub editable: bool,
    #[serde(default)]
    pub reason: Option<String>,
    pub roles: Vec<RoleInfo>,
}

/// One role.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RoleInfo {
    pub name: String,
    pub description: String,
}

/// `GET {api_base}/roles` (the API checks `read:user-list`).
pub async fn get_roles(auth: Auth, config: &AppConfig) -> Result<RoleCatalog, ApiError> {
    let response = send(auth, "GET", &format!("{}/roles", config.api_base), None).await?;
    serde_json::from_str(&response.body).map_err(|e| ApiError::Malformed(e.to_string()))
}

/// A project to create.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewProject {
    pub name: String,
    pub description: String,
}

/// `POST {api_base}/projects` (the API checks `create:project`).
pub async fn create_project(auth: Auth, config: &AppConfig, project: &NewProject) -> Result<Project, ApiError> {
    let body = serde_json::to_string(project).map_err(|e| ApiError::Malformed(e.to_string()))?;
    let response = send(auth, "POST", &format!("{}/projects", config.api_base), Some(&body)).await?;
    serde_json::from_str(&response.body).map_err(|e| ApiError::Malformed(e.to_string()))
}

/// `DELETE {api_base}/projects/{id}` (the API checks `delete:project`).
pub async fn delete_project(auth: Auth, config: &AppConfig, id: i64) -> Result<(), ApiError> {
    send(auth, "DELETE", &format!("{}/projects/{id}", config.api_base), None).await.map(|_| ())
}

/// `PUT {api_base}/users/{id}/roles` (the API checks `update:user-roles`).
pub async fn set_user_roles(auth: Auth, config: &AppConfig, id: i64, roles: &[String]) -> Result<User, ApiError> {
    let body = serde_json::json!({ "roles": roles }).to_string();
    let response = send(auth, "PUT", &format!("{}/users/{id}/roles", config.api_base), Some(&body)).await?;
    serde_json::from_str(&response.body).map_err(|e| ApiError::Malformed(e.to_string()))
}

/// The `error_description` (or `error`) of a JSON error body.
fn error_description(body: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    ["error_description", "error"]
        .iter()
        .find_map(|k| value.get(k).and_then(|v| v.as_str()))
        .unwrap_or("no details")
        .to_owned()
}
