//! The SPA's routes, as the router, the login module and the provider's
//! client registration spell them (see `docs/e2e-contract.md`).

/// Home: who you are and what you may open.
pub const HOME: &str = "/";
/// The login redirect target; never guarded. The redirect URI to register
/// is `{origin}` followed by this path.
pub const CALLBACK: &str = "/callback";
/// The Project List (`read:project-list`).
pub const PROJECTS: &str = "/projects";
/// The User List (`read:user-list`).
pub const USERS: &str = "/users";
/// Where the SPA reads its runtime configuration, on its own origin.
pub const CONFIG: &str = "/config.json";
/// Where a provider sends the browser after sign-out, relative to the origin.
pub const POST_LOGOUT: &str = HOME;
/// The query parameter both lists take for their 1-based page number.
pub const PAGE_PARAM: &str = "page";

/// The redirect URI for an SPA served at `origin` (`http://127.0.0.1:8080`).
pub fn redirect_uri(origin: &str) -> String {
    format!("{}{CALLBACK}", origin.trim_end_matches('/'))
}

/// The post-logout redirect URI for an SPA served at `origin`.
pub fn post_logout_uri(origin: &str) -> String {
    format!("{}{POST_LOGOUT}", origin.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_join_without_doubling_slashes() {
        assert_eq!(redirect_uri("http://127.0.0.1:8080"), "http://127.0.0.1:8080/callback");
        assert_eq!(redirect_uri("http://127.0.0.1:8080/"), "http://127.0.0.1:8080/callback");
        assert_eq!(post_logout_uri("http://localhost:8080"), "http://localhost:8080/");
    }
}
