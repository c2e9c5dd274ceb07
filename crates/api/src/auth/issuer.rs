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

/// The path segments OpenID Connect Discovery 1.0 §4 appends to the issuer.
const DISCOVERY_PATH: [&str; 2] = [".well-known", "openid-configuration"];

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
        // The identifier is compared with `iss` and the discovery document's
        // `issuer` as a string, but fetched as the parsed URL: a spelling the
        // parser rewrites (surrounding spaces, an upper-case scheme or host,
        // a default port, `..` segments) would fetch one issuer and then
        // match no token of it. Only the slash an empty path gains is let be.
        let canonical = url.as_str();
        if value != canonical && canonical.strip_suffix('/').is_none_or(|bare| url.path() != "/" || bare != value) {
            return Err(invalid(
                "write it in canonical form: lower-case scheme and host, no default port, no `.` or `..` segments, no spaces",
            ));
        }
        // OpenID Connect Discovery 1.0 §4: the well-known path goes after the
        // issuer's own path, whose one trailing empty segment is dropped, so
        // Auth0's `https://t.auth0.com/` does not become `...com//.well-known`.
        let mut discovery_url = url.clone();
        discovery_url
            .path_segments_mut()
            .map_err(|()| invalid("the issuer cannot have a path appended"))?
            .pop_if_empty()
            .extend(DISCOVERY_PATH);
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
            ("https://kc.example/realms/x/", "https://kc.example/realms/x/.well-known/openid-configuration"),
            ("https://idp.example:8443/a%20b", "https://idp.example:8443/a%20b/.well-known/openid-configuration"),
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
            // Spellings the URL parser would rewrite: fetched from one
            // issuer, compared as another.
            " https://x.example",
            "https://x.example ",
            "HTTPS://x.example",
            "https://X.example",
            "https://x.example:443",
            "http://x.example:80/",
            "https://x.example/a/../b",
            "https://x.example/a b",
        ] {
            assert!(Issuer::parse(bad).is_err(), "{bad}");
        }
    }
}
