//! For providers that emit only roles: a role → permissions map, configured
//! by the operator, turns the roles claim into permissions.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{Capabilities, ClaimPath, ClaimWarning, ParsedCapabilities, Permission, read_string_set};

/// Role name → the permissions it grants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleMap {
    roles: BTreeMap<String, Vec<Permission>>,
}

impl RoleMap {
    /// Reads the configured map (`{"admin": ["read:user-list", ...], ...}`).
    pub fn from_json(value: &Value) -> Result<RoleMap, String> {
        let Value::Object(entries) = value else {
            return Err("`role_permissions` must be an object mapping role names to lists of permissions".into());
        };
        let mut roles = BTreeMap::new();
        for (role, permissions) in entries {
            let Value::Array(items) = permissions else {
                return Err(format!("`role_permissions.{role}` must be a list of permission names"));
            };
            let mut list = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str() {
                    Some(name) if !name.is_empty() => list.push(Permission::parse(name)),
                    _ => {
                        return Err(format!("`role_permissions.{role}` holds something that is not a permission name"));
                    }
                }
            }
            roles.insert(role.clone(), list);
        }
        Ok(RoleMap { roles })
    }

    /// The permissions the roles at `path` grant. Unknown roles grant nothing
    /// (they may matter to another app) and are not warnings.
    pub fn capabilities(&self, claims: &Value, path: &ClaimPath) -> ParsedCapabilities {
        let (roles, warnings) = read_string_set(claims, path);
        let capabilities: Capabilities =
            roles.iter().filter_map(|r| self.roles.get(r)).flat_map(|ps| ps.iter().cloned()).collect();
        ParsedCapabilities { capabilities, warnings }
    }
}

/// Merges two readings: the union of the permissions, and both sets of warnings.
pub fn merge(a: ParsedCapabilities, b: ParsedCapabilities) -> ParsedCapabilities {
    let capabilities = a.capabilities.iter().chain(b.capabilities.iter()).cloned().collect();
    let mut warnings: Vec<ClaimWarning> = a.warnings;
    warnings.extend(b.warnings);
    ParsedCapabilities { capabilities, warnings }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roles_expand_to_their_permissions() {
        let map = RoleMap::from_json(&json!({
            "admin": ["read:user-list", "read:project-list"],
            "project-manager": ["read:project-list", "create:project"]
        }))
        .unwrap();
        let claims = json!({"realm_access": {"roles": ["project-manager", "offline_access", "admin"]}});
        let parsed = map.capabilities(&claims, &ClaimPath::parse("/realm_access/roles").unwrap());
        let names: Vec<&str> = parsed.capabilities.iter().map(Permission::as_str).collect();
        assert_eq!(names, ["read:project-list", "read:user-list", "create:project"]);
        assert!(parsed.warnings.is_empty());
    }

    #[test]
    fn malformed_maps_are_refused() {
        for bad in [json!([]), json!({"admin": "read:user-list"}), json!({"admin": [1]}), json!({"admin": [""]})] {
            assert!(RoleMap::from_json(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn merge_unions_permissions_and_keeps_warnings() {
        let path = ClaimPath::parse("p").unwrap();
        let a = Capabilities::from_claims(&json!({"p": ["read:user-list"]}), &path);
        let b = Capabilities::from_claims(&json!({}), &path);
        let merged = merge(a, b);
        assert_eq!(merged.capabilities.len(), 1);
        assert_eq!(merged.warnings.len(), 1);
    }
}
