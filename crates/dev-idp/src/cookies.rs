//! The provider's cookies: their names, reading them from a request, and
//! writing `Set-Cookie` values.
//!
//! Two cookies exist: the provider session (SSO, see
//! [`crate::provider_session`]) and the binding cookie of the CSRF tokens of
//! the sign-in form and the sign-out confirmation (see [`crate::csrf`]). Both are HttpOnly and SameSite=Lax, and
//! Secure when the provider is served over https.

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};

/// The provider-session (SSO) cookie.
pub(crate) const SESSION_COOKIE: &str = "dev_idp_session";
/// The cookie that binds a form (sign-in, sign-out) to the browser it was shown in.
pub(crate) const CSRF_COOKIE: &str = "dev_idp_csrf";
/// Both cookies are sent with every request to the provider.
const PATH: &str = "/";

/// The value of cookie `name`, if the request carries it. If a browser sends
/// the name twice (cookies of different paths), the first one — the most
/// specific path — wins, as browsers order them that way.
pub(crate) fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, and Secure on https.
pub(crate) fn set(name: &str, value: &str, max_age_secs: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!("{name}={value}; Path={PATH}; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}");
    // Names, paths and values are our own base64url tokens: always valid.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// A `Set-Cookie` value that deletes cookie `name`.
pub(crate) fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", 0, secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; dev_idp_session=abc"));
        headers.append(COOKIE, HeaderValue::from_static("dev_idp_session=later"));
        assert_eq!(read(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(read(&headers, "a"), Some("1"));
        assert_eq!(read(&headers, "missing"), None);
    }
}
