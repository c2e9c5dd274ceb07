//! The rules a refreshed ID token must follow (OIDC Core §12.2), and the
//! refresh token kept between page loads.
//!
//! Where the refresh token lives, and why: in `localStorage`, under one key
//! per client, read and rewritten only while holding the Web Lock named by
//! [`lock_name`]. Every tab of the app thus shares one refresh-token family:
//! a tab that rotates the token writes the new one before releasing the lock,
//! so the next tab to refresh reads it and never replays a rotated token
//! (which the provider would treat as theft and answer by revoking the
//! family). The access and ID tokens stay in memory, per tab.

use serde_json::Value;

use crate::LoginError;
use crate::id_token::IdToken;
use crate::json::{self, Fields};

/// What is kept between page loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRefresh {
    pub refresh_token: String,
    /// The `sub` it was issued for: a token for someone else is never used.
    pub subject: String,
}

impl StoredRefresh {
    /// The record as stored (`{"refresh_token": …, "subject": …}`).
    pub fn to_json(&self) -> String {
        json::to_string(&json::object([
            ("refresh_token", Value::String(self.refresh_token.clone())),
            ("subject", Value::String(self.subject.clone())),
        ]))
    }

    /// A stored record, if `text` is one.
    pub fn parse(text: &str) -> Option<StoredRefresh> {
        let record = json::parse(text).ok()?;
        let fields = Fields::of(&record).ok()?;
        Some(StoredRefresh {
            refresh_token: fields.string("refresh_token").ok()?,
            subject: fields.string("subject").ok()?,
        })
    }
}

/// The storage key of a client's refresh token.
pub fn storage_key(client_id: &str) -> String {
    format!("oidc-login.refresh.{client_id}")
}

/// The Web Lock that serialises refreshes of a client across tabs.
pub fn lock_name(client_id: &str) -> String {
    format!("oidc-login.refresh-lock.{client_id}")
}

/// OIDC Core §12.2: a refreshed ID token must name the same issuer, subject
/// and audience as the original, the same `azp` when present, and the
/// original `auth_time`; a nonce, when present, must be the original one;
/// and its `iat` is the time it was issued, so never before the original's
/// (an older token replayed as the answer to a refresh is refused).
pub fn check_refreshed(previous: &IdToken, refreshed: &IdToken) -> Result<(), LoginError> {
    let same = |claim: &str| previous.claims.get(claim) == refreshed.claims.get(claim);
    let invalid = |why: &str| Err(LoginError::InvalidIdToken(format!("the refreshed ID token {why}")));
    if !same("iss") {
        return invalid("names another issuer");
    }
    if previous.subject != refreshed.subject {
        return invalid("is for another user (`sub` changed)");
    }
    if !same_audience(previous.claims.get("aud"), refreshed.claims.get("aud")) {
        return invalid("has another audience");
    }
    if refreshed.claims.get("azp").is_some() && !same("azp") {
        return invalid("has another `azp`");
    }
    if previous.claims.get("auth_time").is_some() && refreshed.claims.get("auth_time").is_some() && !same("auth_time") {
        return invalid("changed `auth_time`");
    }
    if refreshed.claims.get("nonce").is_some() && !same("nonce") {
        return invalid("carries another nonce");
    }
    // Both were validated, so both have a numeric `iat`.
    let issued_at = |token: &IdToken| token.claims.get("iat").and_then(Value::as_f64);
    match (issued_at(previous), issued_at(refreshed)) {
        (Some(before), Some(now)) if now >= before => {}
        (Some(_), Some(_)) => return invalid("was issued before the one it replaces (`iat`)"),
        _ => return invalid("has no numeric `iat`"),
    }
    Ok(())
}

/// `aud` compared as a set: `"a"` and `["a"]` are the same audience.
fn same_audience(a: Option<&Value>, b: Option<&Value>) -> bool {
    fn set(v: Option<&Value>) -> Vec<&str> {
        let mut items: Vec<&str> = match v {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        items.sort_unstable();
        items.dedup();
        items
    }
    let (a, b) = (set(a), set(b));
    !a.is_empty() && a == b
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(claims: Value) -> IdToken {
        let subject = claims["sub"].as_str().unwrap_or_default().to_owned();
        IdToken { raw: String::new(), claims, subject, expires_at: 0 }
    }

    fn original() -> IdToken {
        token(json!({"iss": "https://i/", "sub": "u1", "aud": "spa", "auth_time": 100, "nonce": "n", "iat": 1000}))
    }

    #[test]
    fn a_faithful_refresh_passes() {
        let refreshed = token(json!({"iss": "https://i/", "sub": "u1", "aud": ["spa"], "auth_time": 100, "iat": 1600}));
        assert_eq!(check_refreshed(&original(), &refreshed), Ok(()));
        // Issued in the same second as the original: still not older.
        let same_second = token(json!({"iss": "https://i/", "sub": "u1", "aud": "spa", "iat": 1000}));
        assert_eq!(check_refreshed(&original(), &same_second), Ok(()));
    }

    #[test]
    fn each_rule_of_section_12_2() {
        let cases = [
            (json!({"iss": "https://j/", "sub": "u1", "aud": "spa"}), "issuer"),
            (json!({"iss": "https://i/", "sub": "u2", "aud": "spa"}), "another user"),
            (json!({"iss": "https://i/", "sub": "u1", "aud": "other"}), "audience"),
            (json!({"iss": "https://i/", "sub": "u1", "aud": "spa", "azp": "other"}), "azp"),
            (json!({"iss": "https://i/", "sub": "u1", "aud": "spa", "auth_time": 200}), "auth_time"),
            (json!({"iss": "https://i/", "sub": "u1", "aud": "spa", "nonce": "m"}), "nonce"),
            (json!({"iss": "https://i/", "sub": "u1", "aud": "spa", "iat": 999}), "issued before"),
            (json!({"iss": "https://i/", "sub": "u1", "aud": "spa"}), "`iat`"),
        ];
        for (claims, needle) in cases {
            match check_refreshed(&original(), &token(claims.clone())) {
                Err(LoginError::InvalidIdToken(why)) => assert!(why.contains(needle), "{claims}: {why}"),
                other => panic!("{claims}: {other:?}"),
            }
        }
    }

    #[test]
    fn stored_refresh_round_trips() {
        let stored = StoredRefresh { refresh_token: "rt".into(), subject: "u1".into() };
        assert_eq!(StoredRefresh::parse(&stored.to_json()), Some(stored));
        assert_eq!(
            StoredRefresh::parse(r#"{"refresh_token":"rt","subject":"u1","extra":1}"#).map(|s| s.subject),
            Some("u1".into())
        );
        for bad in ["", "[]", r#"{"refresh_token":"rt"}"#, r#"{"refresh_token":1,"subject":"u1"}"#] {
            assert_eq!(StoredRefresh::parse(bad), None, "{bad}");
        }
        assert_eq!(storage_key("spa"), "oidc-login.refresh.spa");
    }
}
