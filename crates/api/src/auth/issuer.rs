//! The configured token issuer and where its discovery document lives.
//!
//! The issuer identifier is kept exactly as configured, because tokens' `iss`
//! and the discovery document's `issuer` are compared with it as plain
//! strings: Auth0's `https://tenant.auth0.com/` keeps its trailing slash,
//! Keycloak's `https://host/realms/x` and the development provider's
//! `http://127.0.0.1:8081` have none.
//!
//! Plain `http` is allowed for a loopback issuer only (127.0.0.0/8, `[::1]`,
//! `localhost`), as the SPA allows it: keys fetched over the network without
//! TLS could be anyone's, and whoever could swap them could mint any
//! permission. There is deliberately no switch for it: the SPA refuses the
//! same issuer, so a stack configured with one could not sign anyone in.

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
        if !is_acceptable_transport(&url) {
            return Err(invalid(
                "plain http is allowed only for a loopback issuer (127.0.0.1, [::1], localhost); use https",
            ));
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

/// Whether `url` names this machine: an IPv4 address in 127.0.0.0/8, the
/// IPv6 `::1`, or the name `localhost` (RFC 6761 §6.3), which the URL
/// parser has already lower-cased.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

/// Whether the issuer's documents may be fetched from `url`: over https,
/// or over http from a loopback address. Applied to the issuer, its
/// `jwks_uri`, and every redirect on the way to either.
pub(crate) fn is_acceptable_transport(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => is_loopback(url),
        _ => false,
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
            ("http://localhost:8081/x", "http://localhost:8081/x/.well-known/openid-configuration"),
            ("http://[::1]:8081", "http://[::1]:8081/.well-known/openid-configuration"),
            ("http://127.8.0.1", "http://127.8.0.1/.well-known/openid-configuration"),
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

    #[test]
    fn plain_http_only_for_loopback() {
        for bad in [
            "http://idp.example",
            "http://10.0.0.8:8081",
            "http://[::2]",
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example",
            "http://0.0.0.0:8081",
            "http://keycloak:8080/realms/x",
        ] {
            let error = Issuer::parse(bad).unwrap_err().to_string();
            assert!(error.contains("loopback"), "{bad}: {error}");
        }
        // The user-info trick that fools a string check names another host
        // to a URL parser, and is refused for its credentials anyway.
        assert!(Issuer::parse("http://127.0.0.1:1@evil.example").is_err());
        assert!(Issuer::parse("https://idp.example").is_ok());
    }

    #[test]
    fn acceptable_transports() {
        let ok = |url: &str| is_acceptable_transport(&Url::parse(url).unwrap());
        assert!(ok("https://idp.example/jwks"));
        assert!(ok("http://127.0.0.1:9/jwks"));
        assert!(ok("http://LOCALHOST:9/jwks"));
        assert!(!ok("http://idp.example/jwks"));
        assert!(!ok("ftp://127.0.0.1/jwks"));
        assert!(!ok("http://127.0.0.1:1@evil.example/"));
    }
}
