//! Permission names.

use std::fmt;

/// One permission, as the provider names it (`read:project-list`).
///
/// The permissions this application guards something with are variants; any
/// other string is kept as [`Permission::Other`] rather than dropped, since a
/// deployment may guard things this build does not know about. Parsing is
/// infallible: no string can make it fail.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// See the Project List.
    ReadProjectList,
    /// See the User List (administrators).
    ReadUserList,
    /// Create a project.
    CreateProject,
    /// Delete a project.
    DeleteProject,
    /// Grant or remove a user's roles.
    UpdateUserRoles,
    /// A permission this build does not know.
    Other(String),
}

impl Permission {
    /// Every permission this application knows, in display order.
    pub const KNOWN: [Permission; 5] = [
        Permission::ReadProjectList,
        Permission::ReadUserList,
        Permission::CreateProject,
        Permission::DeleteProject,
        Permission::UpdateUserRoles,
    ];

    /// Reads a permission name. Never fails; unknown names become `Other`.
    pub fn parse(name: &str) -> Permission {
        match name {
            "read:project-list" => Permission::ReadProjectList,
            "read:user-list" => Permission::ReadUserList,
            "create:project" => Permission::CreateProject,
            "delete:project" => Permission::DeleteProject,
            "update:user-roles" => Permission::UpdateUserRoles,
            other => Permission::Other(other.to_owned()),
        }
    }

    /// The name as the provider and the API spell it.
    pub fn as_str(&self) -> &str {
        match self {
            Permission::ReadProjectList => "read:project-list",
            Permission::ReadUserList => "read:user-list",
            Permission::CreateProject => "create:project",
            Permission::DeleteProject => "delete:project",
            Permission::UpdateUserRoles => "update:user-roles",
            Permission::Other(name) => name,
        }
    }

    /// What the permission lets its holder do, in a few words (the demo
    /// data's description of it); `None` for a permission this build does
    /// not know.
    pub fn description(&self) -> Option<&'static str> {
        match self {
            Permission::ReadProjectList => Some("See the Project List"),
            Permission::ReadUserList => Some("See the User List"),
            Permission::CreateProject => Some("Create projects"),
            Permission::DeleteProject => Some("Delete projects"),
            Permission::UpdateUserRoles => Some("Grant and remove roles"),
            Permission::Other(_) => None,
        }
    }

    /// Whether this build guards anything with this permission.
    pub fn is_known(&self) -> bool {
        !matches!(self, Permission::Other(_))
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Permission {
    fn from(name: &str) -> Self {
        Permission::parse(name)
    }
}

impl serde::Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_round_trip() {
        for permission in Permission::KNOWN {
            assert_eq!(Permission::parse(permission.as_str()), permission);
            assert!(permission.is_known());
            assert!(permission.description().is_some_and(|d| !d.is_empty()), "{permission}");
        }
    }

    #[test]
    fn unknown_names_are_kept_verbatim() {
        let p = Permission::parse("launch:rocket");
        assert_eq!(p, Permission::Other("launch:rocket".into()));
        assert_eq!(p.as_str(), "launch:rocket");
        assert!(!p.is_known());
        assert_eq!(p.description(), None);
    }

    #[test]
    fn names_are_case_sensitive() {
        assert!(!Permission::parse("READ:PROJECT-LIST").is_known());
    }
}
