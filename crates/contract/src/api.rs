//! The API's paths, headers and limits.
//!
//! Paths are relative to `api_base` (default [`DEFAULT_BASE`]); the server
//! mounts them there, the SPA joins them onto its configured base. The
//! limits are enforced by the API and respected by the SPA's forms, so a
//! form never offers what the API would refuse.

/// The API's base path on the SPA's origin, unless `/config.json` says otherwise.
pub const DEFAULT_BASE: &str = "/api/v1";

/// `GET` (list) and `POST` (create): projects.
pub const PROJECTS: &str = "/projects";
/// `DELETE`: one project, `{id}` in axum's path syntax.
pub const PROJECT: &str = "/projects/{id}";
/// `GET`: users with their roles.
pub const USERS: &str = "/users";
/// `PUT`: replace one user's roles.
pub const USER_ROLES: &str = "/users/{id}/roles";
/// `GET`: the role catalogue.
pub const ROLES: &str = "/roles";
/// `GET`: the caller's permissions as the API reads them.
pub const CAPABILITIES: &str = "/me/capabilities";
/// `GET`: readiness, at the server's root (not below the base).
pub const HEALTH: &str = "/healthz";

/// The path of one project below the base.
pub fn project(id: i64) -> String {
    format!("{PROJECTS}/{id}")
}

/// The path of one user's roles below the base.
pub fn user_roles(id: i64) -> String {
    format!("{USERS}/{id}/roles")
}

/// The response header that carries the size of the whole list.
pub const TOTAL_COUNT_HEADER: &str = "X-Total-Count";

/// Items per page when the request names none.
pub const DEFAULT_PER_PAGE: u32 = 20;
/// The most items one page may hold.
pub const MAX_PER_PAGE: u32 = 100;
/// A project name's length, in characters after trimming.
pub const PROJECT_NAME_MAX_CHARS: usize = 80;
/// A project description's length, in characters after trimming.
pub const PROJECT_DESCRIPTION_MAX_CHARS: usize = 500;
/// At most this many entries in a `roles` list.
pub const MAX_ROLES: usize = 32;
/// Role names are single words of at most this many characters.
pub const ROLE_NAME_MAX_CHARS: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_paths_match_their_templates() {
        assert_eq!(project(7), PROJECT.replace("{id}", "7"));
        assert_eq!(user_roles(7), USER_ROLES.replace("{id}", "7"));
    }
}
