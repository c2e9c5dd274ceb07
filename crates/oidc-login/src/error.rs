//! Every way a login can fail, typed, so the UI can explain each one.

use std::fmt;

/// Why signing in failed. Each variant is shown to the user with a way to try
/// again; none of them leads to another automatic redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginError {
    /// The provider answered the authorization request with an error
    /// (`access_denied`, `login_required`, ...).
    Provider { error: ProviderError, description: Option<String> },
    /// The callback's `state` matches no sign-in attempt of this browser tab
    /// (a replayed or forged callback, or one that was already used).
    StateMismatch,
    /// The callback's `iss` (RFC 9207) is not our provider's issuer.
    IssuerMismatch { expected: String, found: String },
    /// The callback carried neither a code nor an error.
    MalformedCallback(String),
    /// Discovery failed or the provider's metadata is unusable.
    Discovery(String),
    /// The token endpoint refused the code or answered something unusable.
    TokenExchange(String),
    /// The ID token broke a validation rule.
    InvalidIdToken(String),
    /// A network request failed (the provider is down, CORS, offline).
    Network(String),
    /// The browser lacks something the login needs (WebCrypto outside a
    /// secure context, storage disabled).
    Browser(String),
    /// The session could not be renewed (the refresh token was refused,
    /// revoked or is missing); the user must sign in again.
    SessionExpired(String),
}

/// The OAuth 2.0 / OIDC error codes of an authorization response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderError {
    AccessDenied,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    /// Any other code, kept verbatim.
    Other(String),
}

impl ProviderError {
    /// Reads an `error` parameter.
    pub fn parse(code: &str) -> ProviderError {
        match code {
            "access_denied" => ProviderError::AccessDenied,
            "login_required" => ProviderError::LoginRequired,
            "consent_required" => ProviderError::ConsentRequired,
            "interaction_required" => ProviderError::InteractionRequired,
            other => ProviderError::Other(other.to_owned()),
        }
    }

    /// The code as the provider sent it.
    pub fn code(&self) -> &str {
        match self {
            ProviderError::AccessDenied => "access_denied",
            ProviderError::LoginRequired => "login_required",
            ProviderError::ConsentRequired => "consent_required",
            ProviderError::InteractionRequired => "interaction_required",
            ProviderError::Other(code) => code,
        }
    }
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoginError::Provider { error, description } => {
                let summary = match error {
                    ProviderError::AccessDenied => "Sign-in was cancelled or refused",
                    ProviderError::LoginRequired => "You need to sign in again",
                    ProviderError::ConsentRequired => "The provider needs your consent",
                    ProviderError::InteractionRequired => "The provider needs you to interact with it",
                    ProviderError::Other(_) => "The provider refused the sign-in",
                };
                write!(f, "{summary} ({})", error.code())?;
                if let Some(description) = description {
                    write!(f, ": {description}")?;
                }
                Ok(())
            }
            LoginError::StateMismatch => f.write_str(
                "This sign-in response does not belong to a sign-in started in this tab (it may have been used already)",
            ),
            LoginError::IssuerMismatch { expected, found } => {
                write!(f, "The response came from issuer `{found}`, not `{expected}`")
            }
            LoginError::MalformedCallback(why) => write!(f, "The sign-in response is malformed: {why}"),
            LoginError::Discovery(why) => write!(f, "The identity provider's configuration is unusable: {why}"),
            LoginError::TokenExchange(why) => write!(f, "The identity provider did not issue tokens: {why}"),
            LoginError::InvalidIdToken(why) => write!(f, "The identity provider's ID token is invalid: {why}"),
            LoginError::Network(why) => write!(f, "Could not reach the identity provider: {why}"),
            LoginError::Browser(why) => write!(f, "This browser cannot sign in here: {why}"),
            LoginError::SessionExpired(why) => write!(f, "Your session has expired; please sign in again ({why})"),
        }
    }
}

impl std::error::Error for LoginError {}
