//! [`ReplayCache`]: the proofs a server has already accepted, so that a
//! captured proof cannot be sent again (RFC 9449 §11.1).
//!
//! A proof is only acceptable within its `iat` window, so the cache need
//! only remember each one for that long ([`crate::Window::replay_ttl`]);
//! after that, the window refuses a replay by itself. Entries are keyed by
//! a 128-bit hash of the key's thumbprint and the `jti`: ids are only
//! unique per client, so two clients choosing the same `jti` must not
//! collide, and a fixed-size key bounds the memory per entry whatever the
//! input (about 60 bytes with the hash map's and the queue's share).
//!
//! # When full
//!
//! Expired entries go first. If the cache is still full, the *oldest*
//! entry is evicted rather than the new proof refused. Only proofs that
//! passed every other check reach the cache (at the API, that includes a
//! valid access token bound to the proof's key), so filling it takes a
//! legitimate client sending faster than `capacity / ttl`. Refusing when
//! full ("fail closed") would turn that one client into an outage for all
//! clients until entries expire; evicting the oldest only reopens replay
//! for the proofs nearest to leaving their window, and only to someone
//! who captured one of them. Size the capacity for the peak rate times the
//! TTL and eviction never happens; [`ReplayCache::evictions`] counts it
//! when it does, so it can be noticed.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::ProofError;

/// The hash of one (jkt, jti) pair.
type Key = [u8; 16];

struct Entries {
    /// Each remembered proof, with the last second it is remembered.
    expiries: HashMap<Key, u64>,
    /// The same entries in insertion order, which (with one TTL for all) is
    /// expiry order: the front is the first to go.
    order: VecDeque<(Key, u64)>,
}

/// The bounded, thread-safe memory of accepted proofs' (jkt, jti) pairs.
pub struct ReplayCache {
    entries: Mutex<Entries>,
    capacity: usize,
    ttl_secs: u64,
    evictions: AtomicU64,
}

impl std::fmt::Debug for ReplayCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayCache")
            .field("capacity", &self.capacity)
            .field("ttl_secs", &self.ttl_secs)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl ReplayCache {
    /// A cache of at most `capacity` proofs (at least one), each remembered
    /// for `ttl` (use [`crate::Window::replay_ttl`]). Memory grows with use,
    /// up to about 60 bytes per entry.
    pub fn new(capacity: usize, ttl: Duration) -> ReplayCache {
        ReplayCache {
            entries: Mutex::new(Entries { expiries: HashMap::new(), order: VecDeque::new() }),
            capacity: capacity.max(1),
            ttl_secs: ttl.as_secs().max(1),
            evictions: AtomicU64::new(0),
        }
    }

    /// Records the proof `jti` of the key `jkt` at `now` (Unix seconds), or
    /// fails with [`ProofError::Replayed`] if it is already recorded and
    /// not expired. Call it last, for proofs that passed every other check.
    pub fn check_and_insert(&self, jkt: &str, jti: &str, now: u64) -> Result<(), ProofError> {
        let key = key(jkt, jti);
        let expiry = now.saturating_add(self.ttl_secs);
        // A poisoned lock only means another thread panicked mid-update of
        // plain data; the entries are still usable.
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.expiries.get(&key).is_some_and(|&until| until >= now) {
            return Err(ProofError::Replayed);
        }
        entries.drop_expired(now);
        while entries.expiries.len() >= self.capacity {
            entries.drop_oldest();
            self.evictions.fetch_add(1, Ordering::Relaxed);
        }
        entries.expiries.insert(key, expiry);
        entries.order.push_back((key, expiry));
        Ok(())
    }

    /// How many proofs are remembered.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).expiries.len()
    }

    /// Whether no proof is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many unexpired entries were evicted to make room (see the module
    /// documentation): non-zero means the capacity is too small for the load.
    pub fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }
}

impl Entries {
    /// Drops the entries expired at `now`, from the front of the queue.
    fn drop_expired(&mut self, now: u64) {
        while self.order.front().is_some_and(|&(_, expiry)| expiry < now) {
            self.drop_oldest();
        }
    }

    /// Drops the front of the queue, and its map entry unless that was
    /// re-inserted since (with another expiry).
    fn drop_oldest(&mut self) {
        if let Some((key, expiry)) = self.order.pop_front()
            && self.expiries.get(&key) == Some(&expiry)
        {
            self.expiries.remove(&key);
        }
    }
}

/// The first 128 bits of SHA-256(len(jkt) || jkt || jti): the length prefix
/// keeps ("ab", "c") and ("a", "bc") apart.
fn key(jkt: &str, jti: &str) -> Key {
    let mut hash = Sha256::new();
    hash.update((jkt.len() as u64).to_be_bytes());
    hash.update(jkt.as_bytes());
    hash.update(jti.as_bytes());
    let digest = hash.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(71);

    #[test]
    fn a_proof_is_refused_the_second_time_until_it_expires() {
        let cache = ReplayCache::new(16, TTL);
        assert_eq!(cache.check_and_insert("k", "1", 1000), Ok(()));
        assert_eq!(cache.check_and_insert("k", "1", 1000), Err(ProofError::Replayed));
        assert_eq!(cache.check_and_insert("k", "1", 1071), Err(ProofError::Replayed));
        assert_eq!(cache.check_and_insert("k", "1", 1072), Ok(()), "past the TTL the window refuses it");
        assert_eq!(cache.check_and_insert("k", "1", 1100), Err(ProofError::Replayed), "re-inserted");
    }

    #[test]
    fn ids_are_per_key() {
        let cache = ReplayCache::new(16, TTL);
        assert_eq!(cache.check_and_insert("k1", "1", 1000), Ok(()));
        assert_eq!(cache.check_and_insert("k2", "1", 1000), Ok(()));
        assert_eq!(cache.check_and_insert("ab", "c", 1000), Ok(()));
        assert_eq!(cache.check_and_insert("a", "bc", 1000), Ok(()));
    }

    #[test]
    fn expired_entries_go_first_then_the_oldest() {
        let cache = ReplayCache::new(3, TTL);
        cache.check_and_insert("k", "old", 1000).unwrap();
        cache.check_and_insert("k", "a", 1060).unwrap();
        cache.check_and_insert("k", "b", 1060).unwrap();
        // "old" has expired by 1072: it makes room, nothing is evicted.
        cache.check_and_insert("k", "c", 1072).unwrap();
        assert_eq!(cache.evictions(), 0);
        assert_eq!(cache.len(), 3);
        // Full of live entries: the oldest live one ("a") goes.
        cache.check_and_insert("k", "d", 1073).unwrap();
        assert_eq!(cache.evictions(), 1);
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.check_and_insert("k", "b", 1073), Err(ProofError::Replayed));
        assert_eq!(cache.check_and_insert("k", "c", 1073), Err(ProofError::Replayed));
        assert_eq!(cache.check_and_insert("k", "d", 1073), Err(ProofError::Replayed));
    }

    #[test]
    fn it_stays_bounded_under_a_flood() {
        let cache = ReplayCache::new(100, TTL);
        for i in 0..10_000 {
            cache.check_and_insert("k", &i.to_string(), 1000).unwrap();
        }
        assert_eq!(cache.len(), 100);
        assert_eq!(cache.entries.lock().unwrap().order.len(), 100);
        assert_eq!(cache.check_and_insert("k", "9999", 1000), Err(ProofError::Replayed));
    }

    #[test]
    fn it_is_shared_between_threads() {
        let cache = std::sync::Arc::new(ReplayCache::new(10_000, TTL));
        let accepted: usize = (0..4)
            .map(|_| {
                let cache = cache.clone();
                std::thread::spawn(move || {
                    (0..1000).filter(|i| cache.check_and_insert("k", &i.to_string(), 1).is_ok()).count()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .sum();
        assert_eq!(accepted, 1000, "each id is accepted exactly once");
    }
}
