//! The configured token issuer and where its discovery document lives.
//!
//! The issuer identifier is kept exactly as configured, because tokens' `iss`
//! and the discovery document's `issuer` are compared with it as plain
//! strings: Auth0's `https://tenant.auth0.com/` keeps its trailing slash,
//! Keycloak's `https://host/realms/x` and the development provider's
//! `http://127.0.0.1:8081` have none.

use std::fmt;
use std::str::FromStr;

use url::Url;

/// The path OpenID Connect Discovery 1.0 §4 appends to the issuer.
const DISCOVERY_SUFFIX: &str = "/.well-known/openid-configuration";

/// Why a configured issuer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid issuer {value:?}: {reason}")]
pub struct IssuerError {
    value: String,
    reason: &'static str,
}

/// A validated issuer identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    id: String,
    discovery_url: Url,
}

impl Issuer {
    /// Validates an issuer identifier: an absolute `http` or `https` URL with
    /// a host and neither credentials, query nor fragment.
    pub fn parse(value: &str) -> Result<Issuer, IssuerError> {
        let invalid = |reason| IssuerError { value: value.to_owned(), reason };
        let url = Url::parse(value).map_err(|_| invalid("not an absolute URL such as http://127.0.0.1:8081"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("a host is required"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("an issuer has no user name or password"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("an issuer has no query or fragment"));
        }
        // One trailing slash is dropped before appending the well-known path,
        // so Auth0's `https://t.auth0.com/` does not become `...com//.well-known`.
        let base = value.strip_suffix('/').unwrap_or(value);
        let discovery_url = Url::parse(&format!("{base}{DISCOVERY_SUFFIX}"))
            .map_err(|_| invalid("the discovery URL derived from it is not a valid URL"))?;
        Ok(Issuer { id: value.to_owned(), discovery_url })
    }

    /// The identifier, exactly as configured.
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// `{issuer}/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> &Url {
        &self.discovery_url
    }

    /// Whether the issuer is reached over TLS; its `jwks_uri` must then be too.
    pub fn is_https(&self) -> bool {
        self.discovery_url.scheme() == "https"
    }
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

impl FromStr for Issuer {
    type Err = IssuerError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Issuer::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_urls_of_the_usual_providers() {
        let cases = [
            ("http://127.0.0.1:8081", "http://127.0.0.1:8081/.well-known/openid-configuration"),
            ("https://tenant.auth0.com/", "https://tenant.auth0.com/.well-known/openid-configuration"),
            ("https://kc.example/realms/x", "https://kc.example/realms/x/.well-known/openid-configuration"),
        ];
        for (issuer, discovery) in cases {
            let parsed = Issuer::parse(issuer).unwrap();
            assert_eq!(parsed.as_str(), issuer, "kept verbatim");
            assert_eq!(parsed.discovery_url().as_str(), discovery);
        }
    }

    #[test]
    fn unusable_issuers_are_refused() {
        for bad in [
            "",
            "127.0.0.1:8081",
            "ftp://x.example",
            "https://u:p@x.example",
            "https://x.example/?a=1",
            "https://x.example/#f",
            "file:///etc",
        ] {
            assert!(Issuer::parse(bad).is_err(), "{bad}");
        }
    }
}
