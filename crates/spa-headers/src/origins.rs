//! The origins besides its own that the SPA fetches from, read from its `/config.json`: the issuer's (discovery,
//! and at most providers the token endpoint and JWKS too) and an absolute `api_base`'s. The keys mean what
//! docs/e2e-contract.md says; the SPA itself is stricter about them (https, loopback rules) and refuses what it
//! cannot use, so this reads only as much as the policy needs and refuses what has no origin.

use crate::Error;
use serde_json::Value;
use url::Url;

/// The origins `config_json` names besides the SPA's own.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ConfigOrigins {
    /// The issuer's: discovery, at most providers the token endpoint and JWKS too, and sign-out's form.
    pub(crate) issuer: String,
    /// An absolute `api_base`'s (a path like `/api/v1` stays on the SPA's origin and adds none).
    pub(crate) api: Option<String>,
}

impl ConfigOrigins {
    /// The origins the SPA fetches from: the issuer's, then the API's.
    pub(crate) fn fetched(self) -> Vec<String> {
        std::iter::once(self.issuer).chain(self.api).collect()
    }
}

/// The origins `config_json` names besides the SPA's own.
pub(crate) fn from_config(config_json: &str) -> Result<ConfigOrigins, Error> {
    let config: Value = serde_json::from_str(config_json).map_err(|err| Error::ConfigNotJson(err.to_string()))?;
    let config = config.as_object().ok_or(Error::ConfigNotObject)?;
    let issuer = match config.get("issuer") {
        Some(Value::String(issuer)) if !issuer.trim().is_empty() => issuer,
        Some(Value::String(_)) | Some(Value::Null) | None => {
            return Err(Error::ConfigKey("issuer", "is missing".into()));
        }
        Some(other) => return Err(Error::ConfigKey("issuer", format!("must be a URL string, not {other}"))),
    };
    let issuer = url_origin(issuer).map_err(|reason| Error::ConfigKey("issuer", reason))?;
    let api = match config.get("api_base") {
        // Absent or null: the default, `/api/v1`, on the SPA's own origin.
        None | Some(Value::Null) => None,
        Some(Value::String(api_base)) => {
            api_base_origin(api_base).map_err(|reason| Error::ConfigKey("api_base", reason))?
        }
        Some(other) => return Err(Error::ConfigKey("api_base", format!("must be a path or URL string, not {other}"))),
    };
    Ok(ConfigOrigins { issuer, api })
}

/// An origin given by hand (`https://login.example.com`), as it goes into `connect-src`.
pub(crate) fn from_argument(text: &str) -> Result<String, Error> {
    let not_origin = |reason: String| Error::NotAnOrigin { given: text.to_owned(), reason };
    let origin = url_origin(text).map_err(not_origin)?;
    // Only an origin: a path would narrow the source to that path, which is not what the option promises.
    let url = Url::parse(text.trim()).map_err(|err| not_origin(err.to_string()))?;
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(not_origin(format!("give the origin alone, `{origin}`, without a path, query or fragment")));
    }
    Ok(origin)
}

/// The origin of an `api_base` that names another origin; `None` for a path that stays on the SPA's.
fn api_base_origin(api_base: &str) -> Result<Option<String>, String> {
    if api_base.starts_with('/') {
        // Resolved as the browser resolves it: `//host` and `/\host` leave the origin, which the SPA refuses.
        let spa = Url::parse("https://spa.invalid/").map_err(|err| err.to_string())?;
        return match spa.join(api_base) {
            Ok(resolved) if resolved.origin() == spa.origin() => Ok(None),
            _ => Err(format!("`{api_base}` is not a path on the SPA's origin (`//host` names another host)")),
        };
    }
    url_origin(api_base).map(Some)
}

/// The ASCII serialisation of an absolute http(s) URL's origin (`https://host[:port]`, the default port left out),
/// or why it has none that a CSP source can name.
fn url_origin(text: &str) -> Result<String, String> {
    let url = Url::parse(text.trim()).map_err(|err| format!("`{text}` is not an absolute URL ({err})"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!("`{text}` is not an http(s) URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("`{text}` must not carry a user name or password"));
    }
    let origin = url.origin().ascii_serialization();
    // A CSP host is letters, digits, `-` and `.` (and here an IPv6 literal's brackets and colons): anything else
    // could not be written as a source, and must never reach the header's text (`;` would start a directive).
    let host = url.host_str().unwrap_or_default();
    if host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b)) {
        return Err(format!("`{text}` has a host a Content-Security-Policy cannot name"));
    }
    Ok(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(config: &str) -> Result<Vec<String>, Error> {
        from_config(config).map(ConfigOrigins::fetched)
    }

    #[test]
    fn the_issuer_and_an_absolute_api_base_give_their_origins() {
        let config = r#"{"issuer": "https://tenant.eu.auth0.com/", "api_base": "https://api.example.com:8443/v1/"}"#;
        assert_eq!(origins(config).unwrap(), ["https://tenant.eu.auth0.com", "https://api.example.com:8443"]);
        // The default port is left out, as the browser serialises the origin; a loopback provider keeps its port.
        let config = r#"{"issuer": "HTTPS://Login.Example.com:443/realms/x", "api_base": null}"#;
        assert_eq!(origins(config).unwrap(), ["https://login.example.com"]);
        let config = r#"{"issuer": "http://127.0.0.1:8081", "api_base": "http://[::1]:3000/api/v1"}"#;
        assert_eq!(origins(config).unwrap(), ["http://127.0.0.1:8081", "http://[::1]:3000"]);
    }

    #[test]
    fn a_same_origin_api_base_adds_nothing_and_one_that_leaves_is_refused() {
        for api_base in ["/api/v1", "/api/v1/", "/"] {
            let config = format!(r#"{{"issuer": "https://idp.example", "api_base": "{api_base}"}}"#);
            assert_eq!(origins(&config).unwrap(), ["https://idp.example"], "{api_base}");
        }
        for api_base in ["//evil.example/api", "/\\\\evil.example/api", "api/v1", "", "ftp://files.example"] {
            let config = format!(r#"{{"issuer": "https://idp.example", "api_base": "{api_base}"}}"#);
            assert!(
                matches!(origins(&config), Err(Error::ConfigKey("api_base", _))),
                "{api_base:?} gave {:?}",
                origins(&config)
            );
        }
    }

    #[test]
    fn a_malformed_configuration_says_what_is_wrong() {
        assert!(matches!(origins("issuer = not json"), Err(Error::ConfigNotJson(_))));
        assert!(matches!(origins("[]"), Err(Error::ConfigNotObject)));
        for config in [r#"{}"#, r#"{"issuer": " "}"#, r#"{"issuer": null}"#, r#"{"issuer": 7}"#] {
            assert!(matches!(origins(config), Err(Error::ConfigKey("issuer", _))), "{config}");
        }
        for issuer in ["idp.example", "javascript:alert(1)", "https://user:pw@idp.example", "https://a;b.example"] {
            let config = format!(r#"{{"issuer": "{issuer}"}}"#);
            assert!(matches!(origins(&config), Err(Error::ConfigKey("issuer", _))), "{issuer}");
        }
        assert!(matches!(
            origins(r#"{"issuer": "https://i.example", "api_base": 3}"#),
            Err(Error::ConfigKey("api_base", _))
        ));
    }

    #[test]
    fn a_given_origin_must_be_an_origin_alone() {
        assert_eq!(from_argument("https://keys.example.com").unwrap(), "https://keys.example.com");
        assert_eq!(from_argument("HTTPS://Keys.Example.com:443/").unwrap(), "https://keys.example.com");
        for text in
            ["https://keys.example.com/jwks", "https://keys.example.com?x", "keys.example.com", "wss://x.example"]
        {
            assert!(matches!(from_argument(text), Err(Error::NotAnOrigin { .. })), "{text}");
        }
    }
}
