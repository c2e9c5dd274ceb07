//! The OAuth scopes this provider grants, and how a request's `scope` is
//! reduced to them.
//!
//! The OIDC scopes come first, in a canonical order; the user's permissions
//! are appended to the token response's `scope` by [`crate::claims`], as
//! Auth0 spells them.

/// The OIDC scopes this provider grants; anything else requested is ignored
/// (RFC 6749 §3.3 lets the provider grant less than asked). `offline_access`
/// (OpenID Connect Core §11) earns a refresh token. It is granted without a
/// consent screen, as Auth0 grants it to first-party applications.
pub(crate) const SUPPORTED_SCOPES: [&str; 4] = [OPENID, PROFILE, EMAIL, OFFLINE_ACCESS];

/// The scope every request must include: every response carries an ID token.
pub(crate) const OPENID: &str = "openid";
/// The scope that puts the user's name in the ID token.
pub(crate) const PROFILE: &str = "profile";
/// The scope that puts the user's address in the ID token.
pub(crate) const EMAIL: &str = "email";
/// The scope that earns a refresh token.
pub(crate) const OFFLINE_ACCESS: &str = "offline_access";

/// The scopes of a space-separated `scope` value, blanks dropped.
pub(crate) fn split(scope: &str) -> impl Iterator<Item = &str> {
    scope.split(' ').filter(|s| !s.is_empty())
}

/// The granted subset of a requested `scope`, in a canonical order.
pub(crate) fn granted_scopes(requested: &str) -> Vec<&'static str> {
    let requested: Vec<&str> = split(requested).collect();
    SUPPORTED_SCOPES.into_iter().filter(|scope| requested.contains(scope)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_supported_scopes_are_granted_in_canonical_order() {
        assert_eq!(
            granted_scopes("email openid offline_access read:project-list"),
            ["openid", "email", "offline_access"]
        );
        assert_eq!(granted_scopes("email openid read:project-list"), ["openid", "email"]);
        assert_eq!(granted_scopes("openid profile email"), ["openid", "profile", "email"]);
        assert_eq!(granted_scopes("profile  openid"), ["openid", "profile"]);
    }
}
