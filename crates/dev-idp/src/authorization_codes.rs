//! Authorization codes: in memory, single use, short-lived.
//!
//! A code is spent on its first presentation, whatever happens next, so a
//! code that failed once (wrong verifier, say) can never be tried again
//! (RFC 6749 §4.1.2: "The client MUST NOT use the authorization code more
//! than once"). Codes do not survive a restart, which only costs a sign-in
//! that was in flight during it.
//!
//! A spent code is remembered for a while ([`USED_CODE_MEMORY_SECS`] past
//! its expiry), with the refresh token its exchange issued, so that a
//! second presentation is recognised as reuse: §4.1.2 says the server
//! "SHOULD revoke (when possible) all tokens previously issued based on
//! that authorization code", since one of the two presenters was not the
//! client. The token endpoint then revokes that token's family. (The ID and
//! access tokens of the first exchange are signed JWTs nobody can recall;
//! they expire.) An exchange still in flight when the reuse arrives learns
//! of it when it records its refresh token ([`CodeStore::record_refresh_token`]),
//! so the race cannot leave a family alive.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::random;

/// How many codes, live or remembered as spent, the provider keeps at most;
/// past that, spent ones are forgotten first, and then issuing fails rather
/// than letting a loop of requests grow memory without bound.
const MAX_PENDING_CODES: usize = 10_000;
/// How long past its expiry a spent code is remembered. The client
/// exchanges its code within seconds; this covers a slow one, and a code
/// presented even later is refused as unknown, without revoking anything.
pub(crate) const USED_CODE_MEMORY_SECS: i64 = 10 * 60;

/// Everything an authorization code stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CodeGrant {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) nonce: Option<String>,
    pub(crate) user_id: i64,
    /// The granted OIDC scopes, space-separated.
    pub(crate) scope: String,
    /// The audience the client asked for, if it named one.
    pub(crate) audience: Option<String>,
    pub(crate) auth_time: i64,
    pub(crate) expires_at: i64,
    /// The thumbprint of the DPoP key the authorization request named
    /// (`dpop_jkt`, RFC 9449 §10): only a proof by that key may exchange
    /// the code.
    pub(crate) dpop_jkt: Option<String>,
}

/// The store is full of live codes.
#[derive(Debug, thiserror::Error)]
#[error("too many authorization codes are pending")]
pub(crate) struct TooManyCodes;

/// A code's entry: waiting for its exchange, or spent.
#[derive(Debug)]
enum Entry {
    Pending(CodeGrant),
    Spent(Spent),
}

/// What is remembered of a spent code.
#[derive(Debug)]
struct Spent {
    forget_at: i64,
    /// Whether it was presented again after its first use.
    reused: bool,
    /// The refresh token its exchange issued (its hash), once recorded.
    refresh_token: Option<IssuedRefreshToken>,
}

/// A refresh token an exchange issued, by hash, and for which client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IssuedRefreshToken {
    pub(crate) token_hash: String,
    pub(crate) client_id: String,
}

/// What presenting a code found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// Its first presentation: the grant (expired or not; the caller
    /// judges), and the code is now spent.
    First(CodeGrant),
    /// The code was spent before. `issued` is the refresh token its first
    /// exchange issued, if it has recorded one by now.
    Reused { issued: Option<IssuedRefreshToken> },
    /// Never issued, or forgotten.
    Unknown,
}

/// The pending codes of this process.
#[derive(Debug, Default)]
pub(crate) struct CodeStore {
    codes: Mutex<HashMap<String, Entry>>,
}

impl CodeStore {
    /// Issues a fresh code for `grant`, sweeping expired ones first.
    pub(crate) fn issue(&self, grant: CodeGrant, now: i64) -> Result<String, TooManyCodes> {
        let code = random::token(32);
        // A panic while holding the lock cannot leave the map inconsistent
        // (every operation is a single insert, remove or update), so poison
        // is ignored.
        let mut codes = self.codes.lock().unwrap_or_else(PoisonError::into_inner);
        codes.retain(|_, entry| match entry {
            Entry::Pending(grant) => grant.expires_at > now,
            Entry::Spent(spent) => spent.forget_at > now,
        });
        if codes.len() >= MAX_PENDING_CODES {
            // Remembering spent codes must never stop people signing in.
            codes.retain(|_, entry| matches!(entry, Entry::Pending(_)));
        }
        if codes.len() >= MAX_PENDING_CODES {
            return Err(TooManyCodes);
        }
        codes.insert(code.clone(), Entry::Pending(grant));
        Ok(code)
    }

    /// Presents `code`: the first time, returns its grant and marks it
    /// spent; later, marks it reused and says what its first exchange issued.
    pub(crate) fn take(&self, code: &str, now: i64) -> Taken {
        let mut codes = self.codes.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = codes.get_mut(code) else {
            return Taken::Unknown;
        };
        match entry {
            Entry::Spent(spent) if spent.forget_at <= now => {
                codes.remove(code);
                Taken::Unknown
            }
            Entry::Spent(spent) => {
                spent.reused = true;
                Taken::Reused { issued: spent.refresh_token.clone() }
            }
            Entry::Pending(grant) => {
                let forget_at = grant.expires_at.saturating_add(USED_CODE_MEMORY_SECS);
                let spent = Entry::Spent(Spent { forget_at, reused: false, refresh_token: None });
                match std::mem::replace(entry, spent) {
                    Entry::Pending(grant) => Taken::First(grant),
                    Entry::Spent(_) => Taken::Unknown,
                }
            }
        }
    }

    /// Records the refresh token the exchange of `code` issued, so a later
    /// presentation of the code can revoke it. Returns whether the code was
    /// presented again in the meantime: the caller must then revoke the
    /// token itself, as the reuse found nothing to revoke.
    pub(crate) fn record_refresh_token(&self, code: &str, issued: IssuedRefreshToken) -> bool {
        let mut codes = self.codes.lock().unwrap_or_else(PoisonError::into_inner);
        match codes.get_mut(code) {
            Some(Entry::Spent(spent)) => {
                spent.refresh_token = Some(issued);
                spent.reused
            }
            // Forgotten (swept, as the map was full): nobody can reuse it now.
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(expires_at: i64) -> CodeGrant {
        CodeGrant {
            client_id: permissions::names::CLIENT_ID.into(),
            redirect_uri: contract::routes::redirect_uri("http://a"),
            code_challenge: "x".into(),
            nonce: None,
            user_id: 1,
            scope: "openid".into(),
            audience: None,
            auth_time: 0,
            expires_at,
            dpop_jkt: None,
        }
    }

    fn issued(hash: &str) -> IssuedRefreshToken {
        IssuedRefreshToken { token_hash: hash.into(), client_id: permissions::names::CLIENT_ID.into() }
    }

    #[test]
    fn codes_are_single_use_and_expired_ones_are_swept() {
        let store = CodeStore::default();
        let old = store.issue(grant(10), 0).unwrap();
        let code = store.issue(grant(100), 50).unwrap();
        assert_eq!(code.len(), 43);
        assert_eq!(store.take(&old, 50), Taken::Unknown, "swept when the second code was issued");
        assert_eq!(store.take(&code, 60), Taken::First(grant(100)));
        assert_eq!(store.take(&code, 61), Taken::Reused { issued: None });
        assert_eq!(store.take("never issued", 61), Taken::Unknown);
    }

    #[test]
    fn a_reused_code_names_the_refresh_token_its_exchange_recorded() {
        let store = CodeStore::default();
        let code = store.issue(grant(100), 50).unwrap();
        assert!(matches!(store.take(&code, 60), Taken::First(_)));
        assert!(!store.record_refresh_token(&code, issued("h1")), "not reused yet");
        assert_eq!(store.take(&code, 70), Taken::Reused { issued: Some(issued("h1")) });
        // Remembered until USED_CODE_MEMORY_SECS past the code's expiry.
        let last = 100 + USED_CODE_MEMORY_SECS - 1;
        assert_eq!(store.take(&code, last), Taken::Reused { issued: Some(issued("h1")) });
        assert_eq!(store.take(&code, last + 1), Taken::Unknown);
    }

    #[test]
    fn a_reuse_during_the_exchange_is_reported_when_the_exchange_records_its_token() {
        let store = CodeStore::default();
        let code = store.issue(grant(100), 50).unwrap();
        assert!(matches!(store.take(&code, 60), Taken::First(_)));
        // The second presentation comes before the first has its token.
        assert_eq!(store.take(&code, 60), Taken::Reused { issued: None });
        assert!(store.record_refresh_token(&code, issued("h1")), "the first exchange must revoke its own token");
    }

    #[test]
    fn spent_codes_never_stop_a_sign_in() {
        let store = CodeStore::default();
        let mut spent = Vec::new();
        for _ in 0..MAX_PENDING_CODES {
            let code = store.issue(grant(100), 50).unwrap();
            assert!(matches!(store.take(&code, 50), Taken::First(_)));
            spent.push(code);
        }
        let fresh = store.issue(grant(100), 50).expect("spent codes are forgotten first");
        assert!(matches!(store.take(&fresh, 51), Taken::First(_)));
        assert_eq!(store.take(&spent[0], 51), Taken::Unknown);
    }
}
