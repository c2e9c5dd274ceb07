//! What a guarded element needs: one permission, all of some, any of some,
//! or the negation of that — evaluated against [`Capabilities`].

use std::fmt;

use crate::{Capabilities, Permission};

/// A requirement on the user's permissions. Built from `<Can>`'s props
/// (`perm`, `all_of`, `any_of`, `not`) and evaluated in one place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirement {
    /// Every one of these is needed (`perm` joins this list).
    pub all_of: Vec<Permission>,
    /// At least one of these is needed, when non-empty.
    pub any_of: Vec<Permission>,
    /// The requirement holds when the rest does *not* (for "shown to those
    /// who lack X", such as a "request access" link).
    pub negate: bool,
}

impl Requirement {
    /// Needs exactly `permission`.
    pub fn one(permission: Permission) -> Requirement {
        Requirement { all_of: vec![permission], ..Requirement::default() }
    }

    /// Whether `capabilities` satisfy the requirement. An empty requirement
    /// holds (nothing is asked); its negation does not.
    pub fn is_met_by(&self, capabilities: &Capabilities) -> bool {
        let all = capabilities.has_all(&self.all_of);
        let any = self.any_of.is_empty() || capabilities.has_any(&self.any_of);
        (all && any) != self.negate
    }

    /// The permissions the user lacks for it (empty when met, or when negated).
    pub fn missing(&self, capabilities: &Capabilities) -> Vec<Permission> {
        if self.negate {
            return Vec::new();
        }
        let mut missing: Vec<Permission> = self.all_of.iter().filter(|p| !capabilities.has(p)).cloned().collect();
        if !self.any_of.is_empty() && !capabilities.has_any(&self.any_of) {
            missing.extend(self.any_of.iter().cloned());
        }
        missing
    }
}

impl fmt::Display for Requirement {
    /// A human sentence: "needs read:user-list and one of create:project, delete:project".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |ps: &[Permission]| ps.iter().map(Permission::as_str).collect::<Vec<_>>().join(", ");
        let mut parts = Vec::new();
        if !self.all_of.is_empty() {
            parts.push(list(&self.all_of));
        }
        if !self.any_of.is_empty() {
            parts.push(format!("one of {}", list(&self.any_of)));
        }
        let body = if parts.is_empty() { "nothing".to_owned() } else { parts.join(" and ") };
        if self.negate { write!(f, "must not hold {body}") } else { write!(f, "needs {body}") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;

    fn caps(ps: &[Permission]) -> Capabilities {
        ps.iter().cloned().collect()
    }

    #[test]
    fn truth_table() {
        let james = caps(&[ReadProjectList, CreateProject]);
        let cases: [(Requirement, bool); 9] = [
            (Requirement::one(ReadProjectList), true),
            (Requirement::one(ReadUserList), false),
            (Requirement { all_of: vec![ReadProjectList, CreateProject], ..Default::default() }, true),
            (Requirement { all_of: vec![ReadProjectList, DeleteProject], ..Default::default() }, false),
            (Requirement { any_of: vec![DeleteProject, CreateProject], ..Default::default() }, true),
            (Requirement { any_of: vec![DeleteProject, ReadUserList], ..Default::default() }, false),
            (Requirement { all_of: vec![ReadProjectList], any_of: vec![DeleteProject], negate: false }, false),
            (Requirement { all_of: vec![ReadUserList], negate: true, ..Default::default() }, true),
            (Requirement::default(), true),
        ];
        for (requirement, expected) in cases {
            assert_eq!(requirement.is_met_by(&james), expected, "{requirement}");
        }
        assert!(!Requirement { negate: true, ..Default::default() }.is_met_by(&james));
    }

    #[test]
    fn missing_and_display_explain_the_gap() {
        let james = caps(&[ReadProjectList, CreateProject]);
        let r = Requirement {
            all_of: vec![ReadProjectList, DeleteProject],
            any_of: vec![ReadUserList, UpdateUserRoles],
            negate: false,
        };
        assert_eq!(r.missing(&james), vec![DeleteProject, ReadUserList, UpdateUserRoles]);
        assert_eq!(
            r.to_string(),
            "needs read:project-list, delete:project and one of read:user-list, update:user-roles"
        );
        assert!(Requirement::one(CreateProject).missing(&james).is_empty());
    }
}
