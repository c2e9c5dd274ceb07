//! The authorization response, as it arrives on `/callback`.

use crate::LoginError;
use crate::authorize::form_decode;
use crate::error::ProviderError;

/// What the provider sent back, read from the callback URL's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackParams {
    /// The `state` parameter, which must name one of this tab's attempts.
    pub state: Option<String>,
    /// The RFC 9207 `iss` parameter, when the provider sends it.
    pub iss: Option<String>,
    /// The code, or the provider's error.
    pub outcome: CallbackOutcome,
}

/// A code to exchange, or the provider's refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    Code(String),
    Error { error: ProviderError, description: Option<String> },
}

impl CallbackParams {
    /// Reads a callback query string (with or without the leading `?`).
    pub fn parse(query: &str) -> Result<CallbackParams, LoginError> {
        let mut state = None;
        let mut iss = None;
        let mut code = None;
        let mut error = None;
        let mut description = None;
        for (key, value) in form_decode(query) {
            let slot = match key.as_str() {
                "state" => &mut state,
                "iss" => &mut iss,
                "code" => &mut code,
                "error" => &mut error,
                "error_description" => &mut description,
                _ => continue,
            };
            // RFC 6749 §3.1: parameters must not be repeated.
            if slot.replace(value).is_some() {
                return Err(LoginError::MalformedCallback(format!("the parameter `{key}` appears twice")));
            }
        }
        let outcome = match (code, error) {
            (_, Some(error)) => CallbackOutcome::Error { error: ProviderError::parse(&error), description },
            (Some(code), None) if !code.is_empty() => CallbackOutcome::Code(code),
            _ => return Err(LoginError::MalformedCallback("it carries neither a code nor an error".into())),
        };
        Ok(CallbackParams { state, iss, outcome })
    }
}

/// RFC 9207 §2.4, the mix-up defence: an `iss` in the authorization
/// response must be our provider's issuer exactly, and when the provider
/// advertises that it always sends one (`required`, from discovery), a
/// response without it is refused too: it did not come from that provider
/// as it normally answers.
pub fn check_response_issuer(iss: Option<&str>, expected: &str, required: bool) -> Result<(), LoginError> {
    match iss {
        Some(iss) if iss == expected => Ok(()),
        Some(iss) => Err(LoginError::IssuerMismatch { expected: expected.to_owned(), found: iss.to_owned() }),
        None if required => Err(LoginError::MalformedCallback(
            "it carries no `iss`, which this provider always sends (RFC 9207)".into(),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_response_issuer_rule_of_rfc_9207() {
        let ours = "https://t.example/";
        assert_eq!(check_response_issuer(Some(ours), ours, true), Ok(()));
        assert_eq!(check_response_issuer(Some(ours), ours, false), Ok(()));
        assert_eq!(check_response_issuer(None, ours, false), Ok(()));
        assert!(
            matches!(check_response_issuer(None, ours, true), Err(LoginError::MalformedCallback(ref m)) if m.contains("RFC 9207"))
        );
        for other in ["https://evil.example/", "https://t.example", ""] {
            for required in [true, false] {
                assert!(
                    matches!(
                        check_response_issuer(Some(other), ours, required),
                        Err(LoginError::IssuerMismatch { .. })
                    ),
                    "{other:?}"
                );
            }
        }
    }

    #[test]
    fn a_code_response() {
        let p = CallbackParams::parse("?code=abc&state=s1&iss=https%3A%2F%2Ft.example%2F").unwrap();
        assert_eq!(p.outcome, CallbackOutcome::Code("abc".into()));
        assert_eq!(p.state.as_deref(), Some("s1"));
        assert_eq!(p.iss.as_deref(), Some("https://t.example/"));
    }

    #[test]
    fn an_error_response_wins_over_a_code() {
        let p = CallbackParams::parse("error=access_denied&error_description=User+cancelled&state=s").unwrap();
        assert_eq!(
            p.outcome,
            CallbackOutcome::Error { error: ProviderError::AccessDenied, description: Some("User cancelled".into()) }
        );
        let p = CallbackParams::parse("error=temporarily_unavailable&code=x").unwrap();
        assert!(
            matches!(p.outcome, CallbackOutcome::Error { error: ProviderError::Other(ref c), .. } if c == "temporarily_unavailable")
        );
    }

    #[test]
    fn malformed_callbacks_are_errors_not_panics() {
        for bad in ["", "?", "state=s", "code=&state=s", "code=a&code=b&state=s", "%%%"] {
            assert!(matches!(CallbackParams::parse(bad), Err(LoginError::MalformedCallback(_))), "{bad}");
        }
    }
}
