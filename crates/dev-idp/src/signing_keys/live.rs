//! The live view of the signing keys: what the handlers sign and publish with.
//!
//! A provider started on a data directory notices a `dev-idp rotate-key`
//! run by another process without a restart: whenever the keys are asked
//! for (every token issued, every JWKS served, every logout hint checked),
//! it takes a [`fingerprint`] of the key directory (one `readdir` and one
//! `stat` per key file, some microseconds) and, if it changed since the last
//! look, loads the key set again and swaps it in. Looking on every request
//! rather than once in a while makes the rule simple and testable: once
//! `rotate-key` has exited, the next request the provider serves signs with
//! the new key and publishes it.
//!
//! Looks are serialised by a mutex, so a request never signs with keys
//! older than the directory it found. A reload that fails (a malformed file
//! put there by hand) keeps the current keys, and is logged once per change
//! of the directory rather than on every request.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use super::KeyError;
use super::KeySet;
use super::key_dir::{Fingerprint, fingerprint};

/// The provider's keys: fixed, or following a data directory.
#[derive(Debug)]
pub(crate) struct LiveKeys {
    current: RwLock<Arc<KeySet>>,
    watch: Option<Watch>,
}

#[derive(Debug)]
struct Watch {
    data_dir: PathBuf,
    /// The directory as last seen; `None` after a failed look.
    seen: Mutex<Option<Fingerprint>>,
}

impl LiveKeys {
    /// Keys that never change (tests inject a pre-generated key this way).
    pub(crate) fn fixed(keys: KeySet) -> LiveKeys {
        LiveKeys { current: RwLock::new(Arc::new(keys)), watch: None }
    }

    /// The keys under `data_dir`, generating the first one if there is none,
    /// followed for rotations from then on. This reads and parses files (and
    /// may generate a key): call it off the async workers.
    pub(crate) fn open(data_dir: PathBuf) -> Result<LiveKeys, KeyError> {
        // Make sure there is a key, then take the fingerprint *before*
        // loading: a rotation in between is then seen at the first look.
        KeySet::load_or_generate(&data_dir)?;
        let seen = fingerprint(&data_dir)?;
        let keys = KeySet::load(&data_dir)?;
        let watch = Watch { data_dir, seen: Mutex::new(Some(seen)) };
        Ok(LiveKeys { current: RwLock::new(Arc::new(keys)), watch: Some(watch) })
    }

    /// The current keys, reloaded first if the key directory changed.
    pub(crate) fn current(&self) -> Arc<KeySet> {
        if let Some(watch) = &self.watch {
            self.look(watch);
        }
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn look(&self, watch: &Watch) {
        // The guarded value is replaced whole, so a panic elsewhere cannot
        // have left it half-updated: poison is ignored.
        let mut seen = watch.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let now_seen = match fingerprint(&watch.data_dir) {
            Ok(now_seen) => now_seen,
            Err(error) => {
                if seen.take().is_some() {
                    tracing::warn!(%error, "cannot look for rotated signing keys; keeping the current ones");
                }
                return;
            }
        };
        if seen.as_ref() == Some(&now_seen) {
            return;
        }
        // Remembered even if loading fails, so a bad file is reported once.
        *seen = Some(now_seen);
        match KeySet::load(&watch.data_dir) {
            Ok(keys) => {
                tracing::info!(kid = keys.active().kid(), keys = keys.len(), "reloaded the signing keys");
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
            }
            Err(error) => tracing::error!(%error, "cannot reload the signing keys; keeping the current ones"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::signing_keys::{generate_key, rotate_to};

    #[test]
    fn a_rotation_is_seen_at_the_next_look_and_a_bad_file_keeps_the_keys() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (generate_key().unwrap(), generate_key().unwrap());
        rotate_to(dir.path(), &first, 100).unwrap();
        let ring = LiveKeys::open(dir.path().to_owned()).unwrap();
        let before = ring.current();
        assert!(Arc::ptr_eq(&before, &ring.current()), "nothing changed, nothing reloaded");

        let rotated = rotate_to(dir.path(), &second, 200).unwrap();
        let after = ring.current();
        assert_eq!(after.active().kid(), rotated.kid);
        assert_eq!(after.len(), 2);
        assert_eq!(before.len(), 1, "a snapshot taken before stays as it was");

        // A file that is no key: the ring keeps what it has.
        fs::write(dir.path().join("keys/0003-300.pem"), "garbage").unwrap();
        assert_eq!(ring.current().active().kid(), rotated.kid);
        fs::remove_file(dir.path().join("keys/0003-300.pem")).unwrap();
        assert_eq!(ring.current().active().kid(), rotated.kid);
    }
}
