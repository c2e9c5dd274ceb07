//! Raw claims to a validated set of permissions.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use crate::{ClaimPath, Permission};

/// At most this many permissions are read from one claim; the rest are
/// dropped with a warning, so a hostile token cannot make the UI or the API
/// do unbounded work.
pub const MAX_PERMISSIONS: usize = 256;
/// Longer permission names are dropped with a warning.
pub const MAX_PERMISSION_LEN: usize = 128;

/// The set of permissions a user holds. Built only from validated input;
/// checks are plain set look-ups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    permissions: BTreeSet<Permission>,
}

/// Something unexpected in the claim. Parsing went on (denying what it could
/// not read); the warning says what was ignored, for logs and the inspector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimWarning {
    /// The claim is absent from the token.
    Missing { path: String },
    /// The claim has a shape that holds no permissions (a number, say).
    UnexpectedShape { path: String, found: &'static str },
    /// Some entries of the list are not strings (or are empty); they were skipped.
    NonStringEntries { path: String, skipped: usize },
    /// Names over [`MAX_PERMISSION_LEN`] bytes were skipped.
    TooLong { path: String, skipped: usize },
    /// Entries past [`MAX_PERMISSIONS`] were skipped.
    TooMany { path: String, skipped: usize },
    /// The same permission appeared more than once (an Action that ran twice).
    Duplicates { path: String, removed: usize },
}

impl fmt::Display for ClaimWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimWarning::Missing { path } => write!(f, "claim `{path}` is missing: no permissions"),
            ClaimWarning::UnexpectedShape { path, found } => {
                write!(f, "claim `{path}` is {found}, not a list of permissions: no permissions")
            }
            ClaimWarning::NonStringEntries { path, skipped } => {
                write!(f, "claim `{path}`: skipped {skipped} entries that are not non-empty strings")
            }
            ClaimWarning::TooLong { path, skipped } => {
                write!(f, "claim `{path}`: skipped {skipped} names longer than {MAX_PERMISSION_LEN} bytes")
            }
            ClaimWarning::TooMany { path, skipped } => {
                write!(f, "claim `{path}`: skipped {skipped} entries past the first {MAX_PERMISSIONS}")
            }
            ClaimWarning::Duplicates { path, removed } => {
                write!(f, "claim `{path}`: removed {removed} duplicate entries")
            }
        }
    }
}

/// The outcome of reading a claim: the permissions, and what was ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedCapabilities {
    pub capabilities: Capabilities,
    pub warnings: Vec<ClaimWarning>,
}

impl Capabilities {
    /// No permissions at all.
    pub fn none() -> Capabilities {
        Capabilities::default()
    }

    /// Reads the permissions at `path` in a claims object.
    ///
    /// Accepted shapes: an array of strings; a space-separated string (the
    /// OAuth `scope` style); an object holding a `permissions` array (a shape
    /// some Auth0 Actions produce). Anything else yields no permissions and a
    /// warning. Never panics, whatever `claims` holds.
    pub fn from_claims(claims: &Value, path: &ClaimPath) -> ParsedCapabilities {
        let (names, warnings) = read_string_set(claims, path);
        ParsedCapabilities { capabilities: names.iter().map(|n| Permission::parse(n)).collect(), warnings }
    }

    /// Whether the user holds `permission`.
    pub fn has(&self, permission: &Permission) -> bool {
        self.permissions.contains(permission)
    }

    /// Whether the user holds at least one of `permissions` (false for none).
    pub fn has_any<'p>(&self, permissions: impl IntoIterator<Item = &'p Permission>) -> bool {
        permissions.into_iter().any(|p| self.has(p))
    }

    /// Whether the user holds every one of `permissions` (true for none).
    pub fn has_all<'p>(&self, permissions: impl IntoIterator<Item = &'p Permission>) -> bool {
        permissions.into_iter().all(|p| self.has(p))
    }

    /// The permissions, in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = &Permission> {
        self.permissions.iter()
    }

    /// How many permissions the user holds.
    pub fn len(&self) -> usize {
        self.permissions.len()
    }

    /// Whether the user holds no permission at all.
    pub fn is_empty(&self) -> bool {
        self.permissions.is_empty()
    }
}

impl FromIterator<Permission> for Capabilities {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        Capabilities { permissions: iter.into_iter().collect() }
    }
}

/// Reads a set of names (permissions or roles) at `path`, in the shapes
/// [`Capabilities::from_claims`] accepts, bounded and de-duplicated, in the
/// order they first appear.
pub fn read_string_set(claims: &Value, path: &ClaimPath) -> (Vec<String>, Vec<ClaimWarning>) {
    let path_name = || path.as_str().to_owned();
    let mut warnings = Vec::new();
    let Some(value) = path.lookup(claims) else {
        warnings.push(ClaimWarning::Missing { path: path_name() });
        return (Vec::new(), warnings);
    };
    let entries: Vec<&str> = match value {
        Value::Array(items) => {
            let strings: Vec<&str> = items.iter().filter_map(Value::as_str).filter(|s| !s.is_empty()).collect();
            if strings.len() != items.len() {
                warnings
                    .push(ClaimWarning::NonStringEntries { path: path_name(), skipped: items.len() - strings.len() });
            }
            strings
        }
        Value::String(s) => s.split_ascii_whitespace().collect(),
        Value::Object(map) => match map.get("permissions") {
            Some(Value::Array(_)) => {
                // The object itself is the claims its `permissions` list is read from.
                let (names, mut inner_warnings) = read_string_set(value, &ClaimPath::Claim("permissions".into()));
                for w in &mut inner_warnings {
                    rename_path(w, path.as_str());
                }
                warnings.extend(inner_warnings);
                return (names, warnings);
            }
            _ => {
                warnings.push(ClaimWarning::UnexpectedShape {
                    path: path_name(),
                    found: "an object without a `permissions` list",
                });
                return (Vec::new(), warnings);
            }
        },
        other => {
            warnings.push(ClaimWarning::UnexpectedShape { path: path_name(), found: shape_name(other) });
            return (Vec::new(), warnings);
        }
    };

    let mut names: Vec<String> = Vec::new();
    let (mut too_long, mut duplicates, mut too_many) = (0, 0, 0);
    for entry in entries {
        if entry.len() > MAX_PERMISSION_LEN {
            too_long += 1;
        } else if names.iter().any(|n| n == entry) {
            duplicates += 1;
        } else if names.len() == MAX_PERMISSIONS {
            too_many += 1;
        } else {
            names.push(entry.to_owned());
        }
    }
    if too_long > 0 {
        warnings.push(ClaimWarning::TooLong { path: path_name(), skipped: too_long });
    }
    if too_many > 0 {
        warnings.push(ClaimWarning::TooMany { path: path_name(), skipped: too_many });
    }
    if duplicates > 0 {
        warnings.push(ClaimWarning::Duplicates { path: path_name(), removed: duplicates });
    }
    (names, warnings)
}

fn rename_path(warning: &mut ClaimWarning, new_path: &str) {
    let path = match warning {
        ClaimWarning::Missing { path }
        | ClaimWarning::UnexpectedShape { path, .. }
        | ClaimWarning::NonStringEntries { path, .. }
        | ClaimWarning::TooLong { path, .. }
        | ClaimWarning::TooMany { path, .. }
        | ClaimWarning::Duplicates { path, .. } => path,
    };
    *path = format!("{new_path}.permissions");
}

fn shape_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(claims: Value, path: &str) -> ParsedCapabilities {
        Capabilities::from_claims(&claims, &ClaimPath::parse(path).unwrap())
    }

    fn names(parsed: &ParsedCapabilities) -> Vec<&str> {
        parsed.capabilities.iter().map(Permission::as_str).collect()
    }

    #[test]
    fn accepted_shapes() {
        let cases = [
            (json!({"p": ["read:user-list", "create:project"]}), "p"),
            (json!({"scope": "openid create:project  read:user-list"}), "scope"),
            (json!({"p": {"permissions": ["read:user-list", "create:project"]}}), "p"),
            (json!({"a": {"b": ["read:user-list", "create:project"]}}), "/a/b"),
        ];
        for (claims, path) in cases {
            let parsed = parse(claims.clone(), path);
            let got = names(&parsed);
            assert!(got.contains(&"read:user-list") && got.contains(&"create:project"), "{claims}: {got:?}");
            assert!(parsed.warnings.is_empty(), "{claims}: {:?}", parsed.warnings);
        }
    }

    #[test]
    fn scope_strings_keep_oidc_scopes_as_unknown_permissions() {
        let parsed = parse(json!({"scope": "openid read:project-list"}), "scope");
        assert!(parsed.capabilities.has(&Permission::ReadProjectList));
        assert!(parsed.capabilities.has(&Permission::Other("openid".into())));
    }

    #[test]
    fn malformed_shapes_deny_everything_with_a_warning() {
        for bad in
            [json!(42), json!(true), json!(null), json!({"roles": ["x"]}), json!({"permissions": "read:user-list"})]
        {
            let parsed = parse(json!({ "p": bad }), "p");
            assert!(parsed.capabilities.is_empty(), "{bad}");
            assert!(
                matches!(parsed.warnings[..], [ClaimWarning::UnexpectedShape { .. }]),
                "{bad}: {:?}",
                parsed.warnings
            );
        }
    }

    #[test]
    fn a_missing_claim_is_no_permissions_and_says_so() {
        let parsed = parse(json!({}), "p");
        assert!(parsed.capabilities.is_empty());
        assert_eq!(parsed.warnings, vec![ClaimWarning::Missing { path: "p".into() }]);
        let parsed = parse(json!("not an object"), "/a/b");
        assert!(parsed.capabilities.is_empty());
    }

    #[test]
    fn non_string_entries_are_skipped_not_fatal() {
        let parsed = parse(json!({"p": ["read:user-list", 7, null, "", {"x": 1}]}), "p");
        assert_eq!(names(&parsed), vec!["read:user-list"]);
        assert_eq!(parsed.warnings, vec![ClaimWarning::NonStringEntries { path: "p".into(), skipped: 4 }]);
    }

    #[test]
    fn duplicates_are_removed_with_a_warning() {
        let parsed = parse(json!({"p": ["read:user-list", "read:user-list", "create:project", "read:user-list"]}), "p");
        assert_eq!(parsed.capabilities.len(), 2);
        assert_eq!(parsed.warnings, vec![ClaimWarning::Duplicates { path: "p".into(), removed: 2 }]);
    }

    #[test]
    fn nested_object_warnings_name_the_nested_path() {
        let parsed = parse(json!({"p": {"permissions": ["a", "a"]}}), "p");
        assert_eq!(parsed.warnings, vec![ClaimWarning::Duplicates { path: "p.permissions".into(), removed: 1 }]);
    }

    #[test]
    fn sizes_are_bounded() {
        let many: Vec<String> = (0..MAX_PERMISSIONS + 10).map(|i| format!("perm:{i}")).collect();
        let parsed = parse(json!({ "p": many }), "p");
        assert_eq!(parsed.capabilities.len(), MAX_PERMISSIONS);
        assert_eq!(parsed.warnings, vec![ClaimWarning::TooMany { path: "p".into(), skipped: 10 }]);

        let long = "x".repeat(MAX_PERMISSION_LEN + 1);
        let parsed = parse(json!({ "p": [long, "read:user-list"] }), "p");
        assert_eq!(names(&parsed), vec!["read:user-list"]);
        assert_eq!(parsed.warnings, vec![ClaimWarning::TooLong { path: "p".into(), skipped: 1 }]);
    }

    #[test]
    fn any_all_logic() {
        let caps: Capabilities = [Permission::ReadProjectList, Permission::CreateProject].into_iter().collect();
        assert!(caps.has_any(&[Permission::ReadUserList, Permission::CreateProject]));
        assert!(!caps.has_any(&[Permission::ReadUserList, Permission::DeleteProject]));
        assert!(!caps.has_any(&[]));
        assert!(caps.has_all(&[Permission::ReadProjectList, Permission::CreateProject]));
        assert!(!caps.has_all(&[Permission::ReadProjectList, Permission::ReadUserList]));
        assert!(caps.has_all(&[]));
    }
}
