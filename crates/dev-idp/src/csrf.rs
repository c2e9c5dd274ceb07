//! CSRF protection of the provider's forms: the sign-in form, and the
//! sign-out confirmation (see `endpoints::end_session`).
//!
//! A form carries a token that is an HMAC, under a per-process key, of
//! which [`Form`] it is, the request it was rendered for, an expiry, and the
//! value of a random `dev_idp_csrf` cookie. A POST is accepted only if the
//! token matches the form, the submitted request fields and the browser's
//! cookie. A page on another site cannot read our cookie nor forge the
//! HMAC, so it cannot make a victim's browser sign in (login CSRF) or sign
//! out (logout CSRF); a tampered hidden field invalidates the token, and a
//! token of one form is worthless in the other.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::random;

/// Which form a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// The sign-in page's form (`POST /authorize`).
    SignIn,
    /// The sign-out confirmation (`POST` at the end-session endpoint).
    SignOut,
}

impl Form {
    fn label(self) -> &'static str {
        match self {
            Form::SignIn => "sign-in",
            Form::SignOut => "sign-out",
        }
    }
}

/// How long a rendered form stays usable.
pub(crate) const FORM_TTL_SECS: i64 = 15 * 60;

/// The key of the form tokens, as an HMAC ready to be cloned per token.
pub(crate) struct CsrfKey(Hmac<Sha256>);

impl CsrfKey {
    /// A fresh random key, as long as SHA-256's block, so the HMAC takes it
    /// as it is (RFC 2104 §3).
    pub(crate) fn random() -> CsrfKey {
        let bytes: [u8; 64] = random::secret();
        CsrfKey(<Hmac<Sha256> as KeyInit>::new(&bytes.into()))
    }
}

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(..)")
    }
}

/// Why a form token was refused; the message is shown to the person.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum CsrfError {
    #[error("the form has no CSRF token")]
    Missing,
    #[error("the browser did not send the form's cookie; cookies must be enabled for this provider")]
    NoCookie,
    #[error("the form is malformed or was altered")]
    Malformed,
    #[error("the form has expired")]
    Expired,
    #[error("the form was not issued to this browser for this request")]
    Mismatch,
}

/// A new value for the binding cookie.
pub(crate) fn new_binding() -> String {
    random::token(32)
}

/// Whether a cookie value looks like one [`new_binding`] made.
pub(crate) fn is_valid_binding(value: &str) -> bool {
    value.len() == 43 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn mac(key: &CsrfKey, form: Form, expires_at: i64, binding: &str, fields: &[Option<&str>]) -> Hmac<Sha256> {
    let mut mac = key.0.clone();
    // JSON keeps the encoding unambiguous: no field can spill into the next.
    let fields = serde_json::to_string(fields).unwrap_or_default();
    let form = form.label();
    mac.update(format!("dev-idp {form} form v1\n{expires_at}\n{binding}\n{fields}").as_bytes());
    mac
}

/// The token for `form` showing `fields`, bound to the cookie `binding`.
pub(crate) fn issue(key: &CsrfKey, form: Form, binding: &str, fields: &[Option<&str>], now: i64) -> String {
    let expires_at = now + FORM_TTL_SECS;
    let tag = mac(key, form, expires_at, binding, fields).finalize().into_bytes();
    format!("{expires_at}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// Checks a submitted token against the submitted fields and the cookie.
pub(crate) fn verify(
    key: &CsrfKey,
    form: Form,
    token: Option<&str>,
    binding: Option<&str>,
    fields: &[Option<&str>],
    now: i64,
) -> Result<(), CsrfError> {
    let token = token.ok_or(CsrfError::Missing)?;
    let binding = binding.filter(|b| is_valid_binding(b)).ok_or(CsrfError::NoCookie)?;
    let (expires_at, tag) = token.split_once('.').ok_or(CsrfError::Malformed)?;
    let expires_at: i64 = expires_at.parse().map_err(|_| CsrfError::Malformed)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| CsrfError::Malformed)?;
    // Constant-time comparison, courtesy of the hmac crate.
    mac(key, form, expires_at, binding, fields).verify_slice(&tag).map_err(|_| CsrfError::Mismatch)?;
    if expires_at <= now {
        return Err(CsrfError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use permissions::names::CLIENT_ID;

    use super::*;

    #[test]
    fn tokens_bind_request_cookie_and_time() {
        let key = CsrfKey::random();
        let cookie = new_binding();
        let fields = [Some(CLIENT_ID), None, Some("state")];
        let token = issue(&key, Form::SignIn, &cookie, &fields, 1000);
        assert_eq!(verify(&key, Form::SignIn, Some(&token), Some(&cookie), &fields, 1001), Ok(()));
        assert_eq!(verify(&key, Form::SignIn, None, Some(&cookie), &fields, 1001), Err(CsrfError::Missing));
        assert_eq!(verify(&key, Form::SignIn, Some(&token), None, &fields, 1001), Err(CsrfError::NoCookie));
        assert_eq!(
            verify(&key, Form::SignIn, Some(&token), Some(&new_binding()), &fields, 1001),
            Err(CsrfError::Mismatch)
        );
        let other = [Some(CLIENT_ID), Some("x"), Some("state")];
        assert_eq!(verify(&key, Form::SignIn, Some(&token), Some(&cookie), &other, 1001), Err(CsrfError::Mismatch));
        let later = 1000 + FORM_TTL_SECS;
        assert_eq!(verify(&key, Form::SignIn, Some(&token), Some(&cookie), &fields, later), Err(CsrfError::Expired));
        assert_eq!(
            verify(&key, Form::SignIn, Some("nonsense"), Some(&cookie), &fields, 1001),
            Err(CsrfError::Malformed)
        );
        assert_eq!(
            verify(&CsrfKey::random(), Form::SignIn, Some(&token), Some(&cookie), &fields, 1001),
            Err(CsrfError::Mismatch)
        );
        // A sign-in token does not confirm a sign-out.
        assert_eq!(verify(&key, Form::SignOut, Some(&token), Some(&cookie), &fields, 1001), Err(CsrfError::Mismatch));
    }
}
