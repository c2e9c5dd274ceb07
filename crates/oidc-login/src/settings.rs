//! What the application tells the login module about its client.

/// The client's settings, as the application's configuration gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    /// The issuer, compared exactly as given (Auth0's ends in `/`).
    pub issuer: String,
    /// The public client id (there is no secret in a browser).
    pub client_id: String,
    /// The scopes to request, space separated; must include `openid`.
    pub scope: String,
    /// Sent as the `audience` authorization parameter (Auth0) when set.
    pub audience: Option<String>,
    /// Where the provider sends the browser back: `{origin}/callback`.
    pub redirect_uri: String,
    /// Where the provider sends the browser after sign-out: `{origin}/`.
    pub post_logout_redirect_uri: String,
    /// Clock skew tolerated on token times, in seconds.
    pub leeway_seconds: u64,
}

/// The scope requested when the configuration names none.
pub const DEFAULT_SCOPE: &str = "openid profile email offline_access";
/// The clock leeway used when the configuration names none.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 60;

impl ClientSettings {
    /// Settings for an app served at `origin` (`https://app.example`), with
    /// the redirect URIs this module expects: `{origin}/callback` and `{origin}/`.
    pub fn for_origin(origin: &str, issuer: String, client_id: String) -> ClientSettings {
        let origin = origin.trim_end_matches('/');
        ClientSettings {
            issuer,
            client_id,
            scope: DEFAULT_SCOPE.to_owned(),
            audience: None,
            redirect_uri: format!("{origin}/callback"),
            post_logout_redirect_uri: format!("{origin}/"),
            leeway_seconds: DEFAULT_LEEWAY_SECONDS,
        }
    }
}

/// Whether `url` is acceptable as a provider URL: `https`, or `http` on a
/// loopback host (a development provider). Returns why not, otherwise.
pub fn check_provider_url(url: &str) -> Result<(), String> {
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else if let Some(rest) = url.strip_prefix("http://") {
        let host = host_of(rest);
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Err(format!("`{url}` must use https (plain http is allowed for loopback addresses only)"));
        }
        rest
    } else {
        return Err(format!("`{url}` is not an http(s) URL"));
    };
    let host = host_of(rest);
    if host.is_empty() || host.contains(['@', ' ', '\\']) {
        return Err(format!("`{url}` has no valid host"));
    }
    if url.contains(['#', '?']) {
        return Err(format!("`{url}` must not carry a query or fragment"));
    }
    Ok(())
}

/// The host of `authority[/path]`, without the port.
fn host_of(after_scheme: &str) -> &str {
    let authority = after_scheme.split('/').next().unwrap_or("");
    if authority.starts_with('[') {
        return authority.split_inclusive(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_the_origin() {
        let s = ClientSettings::for_origin("http://127.0.0.1:8080/", "https://i/".into(), "c".into());
        assert_eq!(s.redirect_uri, "http://127.0.0.1:8080/callback");
        assert_eq!(s.post_logout_redirect_uri, "http://127.0.0.1:8080/");
        assert_eq!(s.scope, DEFAULT_SCOPE);
    }

    #[test]
    fn provider_urls() {
        for ok in [
            "https://tenant.auth0.com/",
            "https://kc.example/realms/demo",
            "http://127.0.0.1:8081",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            assert_eq!(check_provider_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://idp.example",
            "ftp://x",
            "https://",
            "issuer",
            "https://a/?x=1",
            "https://a#b",
            "http://127.0.0.1.evil.example",
        ] {
            assert!(check_provider_url(bad).is_err(), "{bad}");
        }
    }
}
