//! OpenID Connect Discovery: where the provider's metadata is, and what of it
//! we accept.

use crate::LoginError;
use crate::json::{self, Fields, JsonError};
use crate::urls::check_provider_url;

/// The discovery document's URL for `issuer`: the issuer plus
/// `/.well-known/openid-configuration`, without doubling a trailing slash
/// (Auth0's issuer is `https://tenant.auth0.com/`). A path in the issuer
/// (Keycloak's `/realms/x`) is kept.
pub fn discovery_url(issuer: &str) -> String {
    if issuer.ends_with('/') {
        format!("{issuer}.well-known/openid-configuration")
    } else {
        format!("{issuer}/.well-known/openid-configuration")
    }
}

/// The parts of the provider's metadata this module uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub end_session_endpoint: Option<String>,
    /// RFC 7009 token revocation, used at sign-out.
    pub revocation_endpoint: Option<String>,
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// RFC 9207 §3: the provider puts `iss` in every authorization
    /// response, so one without it is refused.
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 9449 §5.1: the algorithms of the DPoP proofs the provider takes;
    /// absent where it does not support DPoP.
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
}

impl ProviderMetadata {
    /// The fields this module reads, as the document types them (a field
    /// set to `null` counts as absent); other fields are ignored.
    fn read(json: &str) -> Result<ProviderMetadata, JsonError> {
        let document = json::parse(json)?;
        let fields = Fields::of(&document)?;
        Ok(ProviderMetadata {
            issuer: fields.string("issuer")?,
            authorization_endpoint: fields.string("authorization_endpoint")?,
            token_endpoint: fields.string("token_endpoint")?,
            jwks_uri: fields.string("jwks_uri")?,
            end_session_endpoint: fields.optional_string("end_session_endpoint")?,
            revocation_endpoint: fields.optional_string("revocation_endpoint")?,
            code_challenge_methods_supported: fields.optional_strings("code_challenge_methods_supported")?,
            authorization_response_iss_parameter_supported: fields
                .flag("authorization_response_iss_parameter_supported")?,
            dpop_signing_alg_values_supported: fields.optional_strings("dpop_signing_alg_values_supported")?,
        })
    }
}

impl ProviderMetadata {
    /// Reads a discovery document and checks it against the configured
    /// issuer: the `issuer` inside must equal it exactly (Discovery §4.3),
    /// every endpoint must be https (or http on loopback), and a provider that
    /// lists its PKCE methods must list S256.
    pub fn parse(json: &str, expected_issuer: &str) -> Result<ProviderMetadata, LoginError> {
        let metadata = ProviderMetadata::read(json)
            .map_err(|e| LoginError::Discovery(format!("the discovery document is not valid: {e}")))?;
        if metadata.issuer != expected_issuer {
            return Err(LoginError::Discovery(format!(
                "the discovery document names issuer `{}`, but the configured issuer is `{expected_issuer}`",
                metadata.issuer
            )));
        }
        let endpoints = [
            Some(&metadata.authorization_endpoint),
            Some(&metadata.token_endpoint),
            Some(&metadata.jwks_uri),
            metadata.end_session_endpoint.as_ref(),
            metadata.revocation_endpoint.as_ref(),
        ];
        for endpoint in endpoints.into_iter().flatten() {
            check_provider_url(endpoint).map_err(LoginError::Discovery)?;
        }
        if let Some(methods) = &metadata.code_challenge_methods_supported
            && !methods.iter().any(|m| m == "S256")
        {
            return Err(LoginError::Discovery("the provider does not support PKCE with S256".into()));
        }
        Ok(metadata)
    }
}

// `ProviderMetadata::parse` checks URLs with the browser's parser; its
// tests run in Chromium (`tests/urls.rs`).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_urls_never_double_the_slash() {
        assert_eq!(discovery_url("https://t.auth0.com/"), "https://t.auth0.com/.well-known/openid-configuration");
        assert_eq!(discovery_url("http://127.0.0.1:8081"), "http://127.0.0.1:8081/.well-known/openid-configuration");
        assert_eq!(
            discovery_url("https://kc.example/realms/demo"),
            "https://kc.example/realms/demo/.well-known/openid-configuration"
        );
    }
}
