//! The API's request and response bodies.
//!
//! One definition serves both ends: the API serialises these and the SPA
//! deserialises them, so a renamed field breaks the build rather than a
//! screen. Enumerations are typed here (a project's status, who manages
//! roles) and spelled on the wire as the API documents them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A project, as `GET /projects` lists it and `POST /projects` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub status: ProjectStatus,
    /// The owner's display name (`James Carter`), if the project has one.
    pub owner: Option<String>,
    /// When it was created, as the store records it (UTC, `YYYY-MM-DD`).
    pub created_at: String,
}

/// A project's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProjectStatus {
    #[default]
    Planned,
    Active,
    OnHold,
    Done,
}

impl ProjectStatus {
    /// Every status, in workflow order.
    pub const ALL: [ProjectStatus; 4] =
        [ProjectStatus::Planned, ProjectStatus::Active, ProjectStatus::OnHold, ProjectStatus::Done];

    /// The status spelled as the database and the API spell it, if it is one.
    pub fn parse(name: &str) -> Option<ProjectStatus> {
        ProjectStatus::ALL.into_iter().find(|status| status.as_str() == name)
    }

    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectStatus::Planned => "planned",
            ProjectStatus::Active => "active",
            ProjectStatus::OnHold => "on-hold",
            ProjectStatus::Done => "done",
        }
    }
}

impl fmt::Display for ProjectStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of `POST /projects`. `status` may be left out (`planned`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProject {
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub status: ProjectStatus,
}

/// A user with the names of their roles, as `GET /users` lists them and
/// `PUT /users/{id}/roles` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserWithRoles {
    pub id: i64,
    /// The sign-in name (`jhon`), stable across deployments of the demo data.
    pub username: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<String>,
}

/// The body of `PUT /users/{id}/roles`: the user's complete new set of roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetRoles {
    pub roles: Vec<String>,
}

/// Who owns the users' roles: the API's own database, or the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RolesManagedBy {
    /// Roles are edited through `PUT /users/{id}/roles`.
    #[default]
    Api,
    /// Roles are edited at the provider; the API refuses to change them.
    Provider,
}

impl RolesManagedBy {
    /// The wire and command-line spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RolesManagedBy::Api => "api",
            RolesManagedBy::Provider => "provider",
        }
    }
}

/// The body of `GET /roles`: every role, and whether they can be edited here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleCatalog {
    /// Whether `PUT /users/{id}/roles` edits roles here.
    pub editable: bool,
    /// Who owns the roles.
    pub managed_by: RolesManagedBy,
    /// Why they cannot be edited here, when they cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub roles: Vec<RoleInfo>,
}

/// One role of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleInfo {
    pub name: String,
    pub description: String,
}

/// The body of `GET /me/capabilities`: the caller's permissions as the API
/// reads them from the access token, with the same parser as every check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeCapabilities {
    /// The token's `sub`.
    pub subject: Option<String>,
    /// Every permission the token grants, sorted by name.
    pub permissions: Vec<String>,
    /// The claim the permissions are read from (`--permissions-claim`).
    pub source: String,
    /// What the claim parser ignored or found missing.
    pub warnings: Vec<String>,
}

/// Every error response's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A machine-readable code (`insufficient_scope`, `invalid_request`, ...).
    pub error: String,
    /// A sentence for people.
    pub error_description: String,
    /// On `422`: the request member at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_in_their_wire_spelling() {
        for status in ProjectStatus::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(serde_json::from_str::<ProjectStatus>(&json).unwrap(), status);
            assert_eq!(ProjectStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ProjectStatus::parse("on_hold"), None);
    }

    #[test]
    fn a_new_project_without_status_is_planned() {
        let project: NewProject = serde_json::from_str(r#"{"name":"a","description":"b"}"#).unwrap();
        assert_eq!(project.status, ProjectStatus::Planned);
    }

    #[test]
    fn the_role_catalogue_reads_what_the_api_writes() {
        let catalog = RoleCatalog {
            editable: false,
            managed_by: RolesManagedBy::Provider,
            reason: Some("change them at the provider".into()),
            roles: vec![RoleInfo { name: "admin".into(), description: "everything".into() }],
        };
        let json = serde_json::to_value(&catalog).unwrap();
        assert_eq!(json["managed_by"], "provider");
        assert_eq!(serde_json::from_value::<RoleCatalog>(json).unwrap(), catalog);
    }

    #[test]
    fn an_unknown_status_is_refused() {
        assert!(serde_json::from_str::<ProjectStatus>("\"cancelled\"").is_err());
    }
}
