//! What the application tells the login module about its client.

use contract::routes;

use crate::dpop::DpopMode;

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
    /// Audiences besides the client id that its ID tokens may name; none by
    /// default, as OIDC Core §3.1.3.7 wants every other one refused.
    pub trusted_audiences: Vec<String>,
    /// Whether tokens are sender-constrained with DPoP (RFC 9449).
    pub dpop: DpopMode,
}

/// The scope requested when the configuration names none.
pub const DEFAULT_SCOPE: &str = "openid profile email offline_access";
/// The clock leeway used when the configuration names none.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 60;

impl ClientSettings {
    /// Settings for an app served at `origin` (`https://app.example`), with
    /// the redirect URIs of the SPA's routes (`contract::routes`):
    /// `{origin}/callback` and `{origin}/`.
    pub fn for_origin(origin: &str, issuer: String, client_id: String) -> ClientSettings {
        ClientSettings {
            issuer,
            client_id,
            scope: DEFAULT_SCOPE.to_owned(),
            audience: None,
            redirect_uri: routes::redirect_uri(origin),
            post_logout_redirect_uri: routes::post_logout_uri(origin),
            leeway_seconds: DEFAULT_LEEWAY_SECONDS,
            trusted_audiences: Vec::new(),
            dpop: DpopMode::Auto,
        }
    }
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
}
