//! The claims of the last ID token this tab verified, kept in this tab's
//! `sessionStorage` while that token is unexpired, so that a reload can
//! render the permission-aware UI at once, while the refresh that restores
//! the session is still in flight.
//!
//! What is kept: the claims (the token's payload, already verified), the
//! issuer and subject they were verified for, and the token's `exp`. Never
//! the token itself (its signature), never the access token: a remembered
//! claim set can show a screen, and nothing more — the API decides from the
//! access token, which the app gets only from the refresh.
//!
//! The claims are recalled only while the refresh token they go with is
//! still in `localStorage` for the same subject (another tab signing out
//! removes it; another user signing in replaces it), and before their
//! `exp`. The login module forgets them whenever a session ends or fails to
//! be restored, and replaces them whenever it verifies a new ID token.

use serde_json::Value;

use crate::browser::{self, StorageArea};
use crate::id_token::{self, IdToken};
use crate::json::{self, Fields};
use crate::refresh::StoredRefresh;
use crate::settings::ClientSettings;

/// The `sessionStorage` key of a client's remembered claims.
pub fn storage_key(client_id: &str) -> String {
    format!("oidc-login.claims.{client_id}")
}

/// What the tab keeps.
#[derive(Debug)]
struct Stored {
    issuer: String,
    subject: String,
    expires_at: i64,
    claims: Value,
}

impl Stored {
    /// The record as stored.
    fn to_json(&self) -> String {
        json::to_string(&json::object([
            ("issuer", Value::String(self.issuer.clone())),
            ("subject", Value::String(self.subject.clone())),
            ("expires_at", Value::from(self.expires_at)),
            ("claims", self.claims.clone()),
        ]))
    }

    /// A stored record, if `text` is one.
    fn parse(text: &str) -> Option<Stored> {
        let record = json::parse(text).ok()?;
        let fields = Fields::of(&record).ok()?;
        Some(Stored {
            issuer: fields.string("issuer").ok()?,
            subject: fields.string("subject").ok()?,
            expires_at: fields.i64("expires_at").ok()?,
            claims: fields.value("claims").ok()?.clone(),
        })
    }
}

/// The claims of the last ID token this tab verified, recalled after a
/// reload: enough to show who is signed in and what the UI may offer, not
/// a session (there is no access token).
#[derive(Debug, Clone, PartialEq)]
pub struct RememberedClaims {
    /// All claims, as verified.
    pub claims: Value,
    pub subject: String,
    /// The ID token's `exp`, in seconds since the Unix epoch.
    pub expires_at: i64,
}

impl RememberedClaims {
    /// The name to show for the user, as [`IdToken::display_name`] finds it.
    pub fn display_name(&self) -> &str {
        id_token::display_name(&self.claims, &self.subject)
    }
}

/// Keeps the claims of `token`, which this tab has just verified.
pub(crate) fn remember(settings: &ClientSettings, token: &IdToken) {
    let stored = Stored {
        issuer: settings.issuer.clone(),
        subject: token.subject.clone(),
        expires_at: token.expires_at,
        claims: token.claims.clone(),
    };
    let key = storage_key(&settings.client_id);
    // A tab whose storage is full or disabled simply waits for the refresh.
    if browser::storage_set(StorageArea::Session, &key, &stored.to_json()).is_err() {
        browser::storage_remove(StorageArea::Session, &key);
    }
}

/// Forgets this tab's remembered claims.
pub(crate) fn forget(settings: &ClientSettings) {
    browser::storage_remove(StorageArea::Session, &storage_key(&settings.client_id));
}

/// The claims this tab remembers for `settings`' provider and client, if
/// they may be shown `now`: for the configured issuer, not expired, for
/// the subject of the refresh token this browser still holds (`stored`:
/// the refresh token's record, read by the caller). Anything else is
/// forgotten.
pub(crate) fn recall(settings: &ClientSettings, stored: Option<&StoredRefresh>, now: i64) -> Option<RememberedClaims> {
    let key = storage_key(&settings.client_id);
    let text = browser::storage_get(StorageArea::Session, &key)?;
    let usable = Stored::parse(&text).filter(|kept| {
        kept.issuer == settings.issuer
            && now < kept.expires_at
            && stored.is_some_and(|stored| stored.subject == kept.subject)
            && kept.claims.get("sub").and_then(Value::as_str) == Some(kept.subject.as_str())
    });
    match usable {
        Some(kept) => {
            Some(RememberedClaims { claims: kept.claims, subject: kept.subject, expires_at: kept.expires_at })
        }
        None => {
            browser::storage_remove(StorageArea::Session, &key);
            None
        }
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    //! In Chromium: what a tab remembers, when it may use it, and that the
    //! client forgets it whenever a session ends or cannot be restored.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;
    use crate::discovery::discovery_url;
    use crate::refresh;
    use crate::{LoginError, OidcClient, provider_cache};

    wasm_bindgen_test_configure!(run_in_browser);

    /// Settings for a client of its own (each test's storage keys apart), with an issuer nobody answers for.
    fn settings(client_id: &str) -> ClientSettings {
        ClientSettings::for_origin("http://127.0.0.1:8080", "http://127.0.0.1:9".to_owned(), client_id.to_owned())
    }

    fn token(subject: &str, expires_at: i64) -> IdToken {
        IdToken {
            raw: "header.payload.the-signature".into(),
            claims: json!({ "sub": subject, "name": "Jhon Smith", "https://ns/permissions": ["read:user-list"] }),
            subject: subject.into(),
            expires_at,
        }
    }

    /// Stores a refresh-token record for `subject`, as a sign-in does.
    fn store_refresh_token(settings: &ClientSettings, subject: &str) {
        let record = json!({ "refresh_token": "rt", "subject": subject }).to_string();
        browser::storage_set(StorageArea::Local, &refresh::storage_key(&settings.client_id), &record).unwrap();
    }

    fn kept(settings: &ClientSettings) -> Option<String> {
        browser::storage_get(StorageArea::Session, &storage_key(&settings.client_id))
    }

    #[wasm_bindgen_test]
    fn the_claims_are_recalled_until_the_token_expires() {
        let settings = settings("claims-expiry");
        store_refresh_token(&settings, "u1");
        let now = browser::now_seconds();
        remember(&settings, &token("u1", now + 60));
        let text = kept(&settings).unwrap();
        assert!(
            !text.contains("the-signature") && !text.contains("header.payload"),
            "the token itself is kept: {text}"
        );

        let recalled = OidcClient::remembered_claims(&settings).unwrap();
        assert_eq!(recalled.subject, "u1");
        assert_eq!(recalled.display_name(), "Jhon Smith");
        assert_eq!(recalled.claims["https://ns/permissions"], json!(["read:user-list"]));
        let stored = refresh::StoredRefresh { refresh_token: "rt".into(), subject: "u1".into() };
        assert!(recall(&settings, Some(&stored), now + 59).is_some());
        // At `exp` they are no longer shown, and forgotten.
        assert_eq!(recall(&settings, Some(&stored), now + 60), None);
        assert_eq!(kept(&settings), None);
    }

    #[wasm_bindgen_test]
    fn the_claims_go_with_the_refresh_token_of_the_same_user() {
        let settings = settings("claims-subject");
        let now = browser::now_seconds();
        // Signed out in another tab: the refresh token is gone.
        remember(&settings, &token("u1", now + 60));
        assert_eq!(OidcClient::remembered_claims(&settings), None);
        assert_eq!(kept(&settings), None, "claims without their refresh token were kept");
        // Someone else signed in in another tab.
        store_refresh_token(&settings, "u2");
        remember(&settings, &token("u1", now + 60));
        assert_eq!(OidcClient::remembered_claims(&settings), None);
        assert_eq!(kept(&settings), None);
    }

    #[wasm_bindgen_test]
    fn claims_for_another_issuer_or_damaged_are_forgotten() {
        let settings = settings("claims-damaged");
        store_refresh_token(&settings, "u1");
        let now = browser::now_seconds();
        let mut elsewhere = settings.clone();
        elsewhere.issuer = "http://127.0.0.1:9/another".into();
        remember(&elsewhere, &token("u1", now + 60));
        assert_eq!(OidcClient::remembered_claims(&settings), None);
        for damaged in [
            "not json".to_owned(),
            json!({ "issuer": settings.issuer, "subject": "u1", "expires_at": now + 60 }).to_string(),
            // The claims name another subject than the record.
            json!({ "issuer": settings.issuer, "subject": "u1", "expires_at": now + 60, "claims": { "sub": "u2" } })
                .to_string(),
        ] {
            browser::storage_set(StorageArea::Session, &storage_key(&settings.client_id), &damaged).unwrap();
            assert_eq!(OidcClient::remembered_claims(&settings), None, "{damaged}");
            assert_eq!(kept(&settings), None, "{damaged} was kept");
        }
    }

    /// A client of `settings`' provider, discovered from a remembered document (nobody answers there).
    async fn client(settings: &ClientSettings) -> OidcClient {
        let issuer = &settings.issuer;
        let document = json!({
            "issuer": issuer, "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"), "jwks_uri": format!("{issuer}/jwks"),
        });
        provider_cache::keep(&discovery_url(issuer), &document.to_string(), Some(60), browser::now_seconds());
        OidcClient::discover(settings.clone()).await.unwrap()
    }

    #[wasm_bindgen_test]
    async fn a_restore_that_fails_forgets_the_claims() {
        let settings = settings("claims-restore");
        let client = client(&settings).await;
        let now = browser::now_seconds();
        // No refresh token at all: nothing to restore.
        remember(&settings, &token("u1", now + 60));
        assert_eq!(client.restore().await, Ok(None));
        assert_eq!(kept(&settings), None);
        // The token endpoint cannot be reached.
        store_refresh_token(&settings, "u1");
        remember(&settings, &token("u1", now + 60));
        assert!(matches!(client.restore().await, Err(LoginError::Network(_))));
        assert_eq!(kept(&settings), None);
    }

    #[wasm_bindgen_test]
    async fn a_session_ending_here_or_elsewhere_forgets_the_claims() {
        let settings = settings("claims-forget");
        let client = client(&settings).await;
        store_refresh_token(&settings, "u1");
        remember(&settings, &token("u1", browser::now_seconds() + 60));
        assert!(OidcClient::remembered_claims(&settings).is_some());
        // Another tab signed out.
        client.forget_local_session();
        assert_eq!(kept(&settings), None);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod fuzz {
    //! Property tests of the stored record's parsing (`cargo xtask fuzz`, and a few cases in every
    //! `cargo test`), natively: whatever `sessionStorage` holds, reading it never panics, and what
    //! [`remember`] writes reads back as it was. Which records [`recall`] then shows needs the browser's
    //! storage, and is tested in Chromium above.

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::fuzz_harness::{arb, check};

    #[test]
    fn fuzz_claims_cache_records_parse_without_panics_and_round_trip() {
        let text = prop_oneof![
            any::<String>(),
            arb::json().prop_map(|v| v.to_string()),
            (arb::json(), arb::json(), arb::json(), arb::json()).prop_map(|(issuer, subject, expires_at, claims)| {
                json!({ "issuer": issuer, "subject": subject, "expires_at": expires_at, "claims": claims }).to_string()
            }),
        ];
        let record = (arb::text(), arb::text(), any::<i64>(), arb::json());
        check("oidc_login::claims_cache_record", (text, record), |(text, (issuer, subject, expires_at, claims))| {
            let _ = Stored::parse(&text);
            let written = Stored { issuer, subject, expires_at, claims }.to_json();
            let read = Stored::parse(&written).expect("a written record reads back");
            let fields: Value = serde_json::from_str(&written).unwrap();
            prop_assert_eq!(&json!(read.issuer), &fields["issuer"]);
            prop_assert_eq!(&json!(read.subject), &fields["subject"]);
            prop_assert_eq!(&json!(read.expires_at), &fields["expires_at"]);
            // Compared as the same parser reads the text: serde_json may round a float's last digit.
            prop_assert_eq!(&read.claims, &fields["claims"]);
            Ok(())
        });
    }
}
