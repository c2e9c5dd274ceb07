//! The one registered client: the SPA, a public client without a secret.

use permissions::names::CLIENT_ID;

use crate::config::SpaOrigin;

/// The SPA's registration, derived from its origins.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
}

impl Client {
    /// Registers `{origin}/callback` and `{origin}/` for every origin.
    pub(crate) fn for_origins(origins: &[SpaOrigin]) -> Client {
        Client {
            redirect_uris: origins.iter().map(SpaOrigin::redirect_uri).collect(),
            post_logout_redirect_uris: origins.iter().map(SpaOrigin::post_logout_redirect_uri).collect(),
        }
    }

    /// The client id (`permission-spa`).
    pub(crate) fn id(&self) -> &'static str {
        CLIENT_ID
    }

    /// Whether `uri` is a registered redirect URI. The comparison is exact
    /// string equality, as OAuth 2.0 Security BCP (RFC 9700 §4.1) demands.
    pub(crate) fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|registered| registered == uri)
    }

    /// Whether `uri` is a registered post-logout redirect URI (exact match).
    pub(crate) fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|registered| registered == uri)
    }

    pub(crate) fn redirect_uris(&self) -> &[String] {
        &self.redirect_uris
    }
}
