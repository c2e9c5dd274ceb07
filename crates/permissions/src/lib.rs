//! The permission model shared by the SPA and the API.
//!
//! This crate owns three things, and nothing else in the workspace may
//! re-implement them:
//!
//! * the names of the permissions ([`Permission`]) and of the well-known
//!   identifiers of the demo deployment ([`names`]);
//! * where permissions live in a token ([`ClaimPath`]: a top-level claim or a
//!   JSON Pointer);
//! * how a raw claim value becomes a validated [`Capabilities`] set
//!   ([`Capabilities::from_claims`]).
//!
//! Raw JSON is validated once, here, into a typed value. Whatever shape a
//! provider sends, parsing never panics: an unexpected shape yields no
//! permissions plus a [`ClaimWarning`] (deny by default).

mod capabilities;
mod claim_path;
mod permission;
mod requirement;
mod roles;

pub use capabilities::{
    Capabilities, ClaimWarning, MAX_PERMISSION_LEN, MAX_PERMISSIONS, ParsedCapabilities, read_string_set,
};
pub use claim_path::{ClaimPath, ClaimPathError};
pub use permission::Permission;
pub use requirement::Requirement;
pub use roles::{RoleMap, merge};

/// Identifiers of the demo deployment: the development provider, the API
/// and the default `/config.json` all use these, and so do the tests.
pub mod names {
    /// The namespace, as a literal: `concat!` joins literals only, so the
    /// claims below are built from this macro rather than from
    /// [`CLAIM_NAMESPACE`] itself, and the namespace is spelled once.
    macro_rules! claim_namespace {
        () => {
            "https://permission-spa.example/"
        };
    }

    /// Namespace of the custom ID-token claims, as an Auth0 post-login
    /// Action would set them (a URL the deployment owns).
    pub const CLAIM_NAMESPACE: &str = claim_namespace!();
    /// The namespaced ID-token claim carrying the user's permissions.
    pub const PERMISSIONS_CLAIM: &str = concat!(claim_namespace!(), "permissions");
    /// The namespaced ID-token claim carrying the user's role names.
    pub const ROLES_CLAIM: &str = concat!(claim_namespace!(), "roles");
    /// The audience (resource indicator) of the API's access tokens.
    pub const API_AUDIENCE: &str = "https://api.permission-spa.example";
    /// The SPA's public OAuth client id (no secret).
    pub const CLIENT_ID: &str = "permission-spa";
    /// The prefix of the development provider's subject identifiers
    /// (`dev-idp|42` is the store's user 42); the API maps it back.
    pub const DEV_IDP_SUBJECT_PREFIX: &str = "dev-idp|";
    /// The access-token claim the API reads by default (Auth0 RBAC).
    pub const ACCESS_TOKEN_PERMISSIONS_CLAIM: &str = "permissions";
}

#[cfg(test)]
mod tests {
    use super::names::*;

    #[test]
    fn the_namespaced_claims_are_spelled_as_deployments_configure_them() {
        // `public/config.json` and the README's Auth0 Action spell these out.
        assert_eq!(PERMISSIONS_CLAIM, "https://permission-spa.example/permissions");
        assert_eq!(ROLES_CLAIM, "https://permission-spa.example/roles");
        assert!(PERMISSIONS_CLAIM.starts_with(CLAIM_NAMESPACE) && ROLES_CLAIM.starts_with(CLAIM_NAMESPACE));
    }
}
