//! A bounded cache of tokens that already passed validation.
//!
//! Checking an RSA signature costs tens of microseconds, far more than the
//! rest of a request, and a browser sends the same access token with every
//! call for the token's whole lifetime. Remembering "this exact token was
//! valid and means this principal" until the token's own expiry turns those
//! repeats into one hash look-up. It holds no session: nothing is created by
//! signing in and nothing survives the token's `exp`, so the API behaves
//! exactly as if every request were verified from scratch.
//!
//! Only tokens that passed every check are stored, so a client cannot fill
//! the cache without valid tokens. Entries are tied to the key-set generation
//! that verified them: when the issuer's keys change, they no longer count.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::Principal;

struct Entry {
    principal: Arc<Principal>,
    /// The last second (Unix time) at which the token is still accepted: `exp` plus the leeway.
    valid_until: u64,
    key_generation: u64,
}

/// Longer tokens are verified every time rather than kept, which bounds the
/// cache's memory at `capacity` times this.
const MAX_CACHED_TOKEN_BYTES: usize = 4096;

pub(crate) struct TokenCache {
    entries: RwLock<HashMap<Box<str>, Entry>>,
    capacity: usize,
    /// How many look-ups the cache answered, so tests can see it is consulted.
    #[cfg(test)]
    hits: std::sync::atomic::AtomicU64,
}

impl TokenCache {
    /// A cache of at most `capacity` tokens; `0` disables it.
    pub(crate) fn new(capacity: usize) -> TokenCache {
        TokenCache {
            entries: RwLock::new(HashMap::new()),
            capacity,
            #[cfg(test)]
            hits: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The principal of `token` if it was validated under the key set of
    /// `key_generation` and is still accepted at `now`.
    pub(crate) fn get(&self, token: &str, now: u64, key_generation: u64) -> Option<Arc<Principal>> {
        if self.capacity == 0 {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(token)?;
        let hit = (entry.valid_until >= now && entry.key_generation == key_generation).then(|| entry.principal.clone());
        #[cfg(test)]
        if hit.is_some() {
            self.hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        hit
    }

    /// How many look-ups the cache has answered.
    #[cfg(test)]
    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn insert(
        &self,
        token: &str,
        principal: Arc<Principal>,
        valid_until: u64,
        now: u64,
        key_generation: u64,
    ) {
        if self.capacity == 0 || token.len() > MAX_CACHED_TOKEN_BYTES {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity {
            entries.retain(|_, e| e.valid_until >= now && e.key_generation == key_generation);
            // Still full of live tokens: start over rather than track recency,
            // since a miss only costs one signature check.
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(token.into(), Entry { principal, valid_until, key_generation });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use permissions::Capabilities;

    fn principal() -> Arc<Principal> {
        Arc::new(Principal {
            subject: Some("u".into()),
            capabilities: Capabilities::none(),
            warnings: Vec::new(),
            jkt: None,
        })
    }

    #[test]
    fn entries_expire_and_follow_the_key_generation() {
        let cache = TokenCache::new(8);
        cache.insert("t", principal(), 100, 50, 1);
        assert!(cache.get("t", 100, 1).is_some());
        assert!(cache.get("t", 101, 1).is_none(), "past exp + leeway");
        assert!(cache.get("t", 50, 2).is_none(), "keys changed since");
        assert!(cache.get("other", 50, 1).is_none());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = TokenCache::new(4);
        for i in 0..100 {
            cache.insert(&format!("t{i}"), principal(), 1000, 0, 1);
        }
        assert!(cache.entries.read().unwrap().len() <= 4);
        assert!(cache.get("t99", 0, 1).is_some());
    }

    #[test]
    fn very_long_tokens_are_not_kept() {
        let cache = TokenCache::new(4);
        let long = "t".repeat(MAX_CACHED_TOKEN_BYTES + 1);
        cache.insert(&long, principal(), 100, 0, 1);
        assert!(cache.get(&long, 0, 1).is_none());
    }

    #[test]
    fn capacity_zero_disables_it() {
        let cache = TokenCache::new(0);
        cache.insert("t", principal(), 100, 0, 1);
        assert!(cache.get("t", 0, 1).is_none());
    }
}
