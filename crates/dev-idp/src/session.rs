//! Cookies: reading them from requests and writing `Set-Cookie` headers,
//! and finding the provider session a request carries.

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use store::{IdpSession, User};

use crate::state::AppState;

/// The provider-session (SSO) cookie.
pub const SESSION_COOKIE: &str = "dev_idp_session";
/// The cookie that binds a sign-in form to the browser it was shown in.
pub const CSRF_COOKIE: &str = "dev_idp_csrf";

/// The value of cookie `name`, if the request carries it. If a browser sends
/// the name twice (cookies of different paths), the first one — the most
/// specific path — wins, as browsers order them that way.
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
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
pub fn set(name: &str, value: &str, path: &str, max_age_secs: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!("{name}={value}; Path={path}; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}");
    // Names, paths and values are our own base64url tokens: always valid.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// A `Set-Cookie` value that deletes cookie `name`.
pub fn clear(name: &str, path: &str, secure: bool) -> HeaderValue {
    set(name, "", path, 0, secure)
}

/// A live provider session and its user.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: IdpSession,
    pub user: User,
}

/// The provider session of this request, if it carries a live one whose
/// user still exists.
pub async fn current(state: &AppState, headers: &HeaderMap) -> Result<Option<SignedIn>, store::StoreError> {
    let Some(id) = read(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(session) = state.store().idp_session(id, state.now()).await? else {
        return Ok(None);
    };
    Ok(state.store().user_by_id(session.user_id).await?.map(|user| SignedIn { session, user }))
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
