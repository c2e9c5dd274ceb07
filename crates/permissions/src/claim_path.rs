//! Where in a token's claims the permissions live.

use std::fmt;

use serde_json::Value;

/// The location of a claim: a top-level claim name, or, when the configured
/// string starts with `/`, a JSON Pointer (RFC 6901) into the claims object,
/// for nested shapes such as Keycloak's `/realm_access/roles`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimPath {
    /// A top-level claim, named verbatim (`https://ns.example/permissions`).
    Claim(String),
    /// A JSON Pointer, validated on construction.
    Pointer(String),
}

/// Why a configured claim path was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimPathError {
    /// The string was empty.
    Empty,
    /// A `~` in a JSON Pointer was not followed by `0` or `1`.
    BadEscape(String),
}

impl fmt::Display for ClaimPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimPathError::Empty => f.write_str("the claim name is empty"),
            ClaimPathError::BadEscape(p) => {
                write!(f, "`{p}` is not a valid JSON Pointer: `~` must be followed by `0` or `1`")
            }
        }
    }
}

impl std::error::Error for ClaimPathError {}

impl ClaimPath {
    /// Reads a configured claim path.
    pub fn parse(raw: &str) -> Result<ClaimPath, ClaimPathError> {
        if raw.is_empty() {
            return Err(ClaimPathError::Empty);
        }
        if !raw.starts_with('/') {
            return Ok(ClaimPath::Claim(raw.to_owned()));
        }
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                return Err(ClaimPathError::BadEscape(raw.to_owned()));
            }
        }
        Ok(ClaimPath::Pointer(raw.to_owned()))
    }

    /// Looks the claim up in a claims object. `None` when it is absent.
    pub fn lookup<'v>(&self, claims: &'v Value) -> Option<&'v Value> {
        match self {
            ClaimPath::Claim(name) => claims.as_object()?.get(name),
            // serde_json implements RFC 6901 (including `~1` and `~0`).
            ClaimPath::Pointer(pointer) => claims.pointer(pointer),
        }
    }

    /// The path as configured.
    pub fn as_str(&self) -> &str {
        match self {
            ClaimPath::Claim(s) | ClaimPath::Pointer(s) => s,
        }
    }
}

impl fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ClaimPath {
    type Err = ClaimPathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ClaimPath::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_names_are_top_level_claims_even_with_slashes_inside() {
        let path = ClaimPath::parse("https://permission-spa.example/permissions").unwrap();
        let claims = json!({"https://permission-spa.example/permissions": ["a"]});
        assert_eq!(path.lookup(&claims), Some(&json!(["a"])));
    }

    #[test]
    fn pointers_reach_nested_claims() {
        let path = ClaimPath::parse("/realm_access/roles").unwrap();
        let claims = json!({"realm_access": {"roles": ["x"]}});
        assert_eq!(path.lookup(&claims), Some(&json!(["x"])));
    }

    #[test]
    fn pointer_escapes_follow_rfc_6901() {
        let path = ClaimPath::parse("/https:~1~1ns.example~1perms/a~0b").unwrap();
        let claims = json!({"https://ns.example/perms": {"a~b": 1}});
        assert_eq!(path.lookup(&claims), Some(&json!(1)));
    }

    #[test]
    fn malformed_paths_are_refused() {
        assert_eq!(ClaimPath::parse(""), Err(ClaimPathError::Empty));
        assert!(matches!(ClaimPath::parse("/a~2"), Err(ClaimPathError::BadEscape(_))));
        assert!(matches!(ClaimPath::parse("/a~"), Err(ClaimPathError::BadEscape(_))));
    }

    #[test]
    fn lookups_on_non_objects_find_nothing() {
        let path = ClaimPath::parse("permissions").unwrap();
        assert_eq!(path.lookup(&json!([1, 2])), None);
        assert_eq!(path.lookup(&json!(null)), None);
    }
}
