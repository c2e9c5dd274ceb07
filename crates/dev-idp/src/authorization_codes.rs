//! Authorization codes: in memory, single use, short-lived.
//!
//! A code is removed on its first presentation, whatever happens next, so a
//! code that failed once (wrong verifier, say) can never be tried again
//! (RFC 6749 §4.1.2: "The client MUST NOT use the authorization code more
//! than once"). Codes do not survive a restart, which only costs a sign-in
//! that was in flight during it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::random;

/// How many live codes the provider keeps at most; past that, issuing fails
/// rather than letting a loop of requests grow memory without bound.
const MAX_PENDING_CODES: usize = 10_000;

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
}

/// The store is full of live codes.
#[derive(Debug, thiserror::Error)]
#[error("too many authorization codes are pending")]
pub(crate) struct TooManyCodes;

/// The pending codes of this process.
#[derive(Debug, Default)]
pub(crate) struct CodeStore {
    codes: Mutex<HashMap<String, CodeGrant>>,
}

impl CodeStore {
    /// Issues a fresh code for `grant`, sweeping expired ones first.
    pub(crate) fn issue(&self, grant: CodeGrant, now: i64) -> Result<String, TooManyCodes> {
        let code = random::token(32);
        // A panic while holding the lock cannot leave the map inconsistent
        // (every operation is a single insert or remove), so poison is ignored.
        let mut codes = self.codes.lock().unwrap_or_else(PoisonError::into_inner);
        codes.retain(|_, grant| grant.expires_at > now);
        if codes.len() >= MAX_PENDING_CODES {
            return Err(TooManyCodes);
        }
        codes.insert(code.clone(), grant);
        Ok(code)
    }

    /// Removes and returns the grant of `code`, expired or not: the caller
    /// decides what an expired grant means, and either way it is gone.
    pub(crate) fn take(&self, code: &str) -> Option<CodeGrant> {
        self.codes.lock().unwrap_or_else(PoisonError::into_inner).remove(code)
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
        }
    }

    #[test]
    fn codes_are_single_use_and_expired_ones_are_swept() {
        let store = CodeStore::default();
        let old = store.issue(grant(10), 0).unwrap();
        let code = store.issue(grant(100), 50).unwrap();
        assert_eq!(code.len(), 43);
        assert!(store.take(&old).is_none(), "swept when the second code was issued");
        assert_eq!(store.take(&code), Some(grant(100)));
        assert_eq!(store.take(&code), None);
    }
}
