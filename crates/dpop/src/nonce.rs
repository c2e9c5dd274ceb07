//! Server nonces (RFC 9449 §8 at the token endpoint, §9 at resource
//! servers), without server-side state.
//!
//! A nonce lets the server decide how fresh a proof is by its own clock
//! rather than the client's `iat`, and makes proofs made in advance
//! useless. Rather than remember the nonces it handed out, the server
//! derives them: a nonce is `base64url(counter || HMAC-SHA256(secret,
//! counter)[..16])`, where `counter` is the current time window's number (8
//! bytes, big-endian). It is valid in its own window and the next one, so a
//! nonce handed out just before a window ends still works for one full
//! window. Several replicas (or the API and a restart of itself) that share
//! the secret accept each other's nonces, and checking one costs one HMAC.
//!
//! The MAC is cut to 128 bits: forging a nonce means guessing it, one
//! request per guess, within its window.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Bytes of the truncated MAC.
const MAC_BYTES: usize = 16;
/// Bytes of a whole nonce before encoding: the counter and the MAC.
const NONCE_BYTES: usize = 8 + MAC_BYTES;

/// Issues and checks server nonces. Cheap to share (`&self` everywhere).
#[derive(Clone)]
pub struct Nonces {
    mac: Hmac<Sha256>,
    window_secs: u64,
}

impl std::fmt::Debug for Nonces {
    /// Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nonces").field("window_secs", &self.window_secs).finish_non_exhaustive()
    }
}

impl Nonces {
    /// Nonces under `secret`, each issued for windows of `window` (at least
    /// one second; a nonce lives between one and two windows).
    pub fn new(secret: [u8; 32], window: Duration) -> Nonces {
        // HMAC pads a key shorter than the hash's block to the block with
        // zeros (RFC 2104 §2), so this is HMAC keyed with `secret`, built
        // without the fallible slice constructor.
        let mut block = hmac::digest::Key::<Hmac<Sha256>>::default();
        block[..secret.len()].copy_from_slice(&secret);
        let mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new(&block);
        Nonces { mac, window_secs: window.as_secs().max(1) }
    }

    /// Nonces under a secret from the operating system's random source: for
    /// one process, whose nonces no other process needs to accept. A restart
    /// invalidates the nonces handed out, which costs each client one
    /// `use_dpop_nonce` round trip.
    pub fn random(window: Duration) -> Nonces {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        Nonces::new(secret, window)
    }

    /// The nonce to hand out at `now` (Unix seconds). It is the same for
    /// every request of one window, so clients can keep the last one they
    /// were sent.
    pub fn current(&self, now: u64) -> String {
        let counter = now / self.window_secs;
        let mut nonce = [0u8; NONCE_BYTES];
        nonce[..8].copy_from_slice(&counter.to_be_bytes());
        nonce[8..].copy_from_slice(&self.tag(counter)[..MAC_BYTES]);
        URL_SAFE_NO_PAD.encode(nonce)
    }

    /// Whether `nonce` was issued by these nonces (the same secret) in the
    /// window of `now` or the one before. The MAC is compared in constant time.
    pub fn is_valid(&self, nonce: &str, now: u64) -> bool {
        let mut bytes = [0u8; NONCE_BYTES];
        match URL_SAFE_NO_PAD.decode_slice(nonce, &mut bytes) {
            Ok(NONCE_BYTES) => {}
            _ => return false,
        }
        let mut counter_bytes = [0u8; 8];
        counter_bytes.copy_from_slice(&bytes[..8]);
        let counter = u64::from_be_bytes(counter_bytes);
        let current = now / self.window_secs;
        if counter != current && Some(counter) != current.checked_sub(1) {
            return false;
        }
        let mut mac = self.mac.clone();
        mac.update(&counter.to_be_bytes());
        mac.verify_truncated_left(&bytes[8..]).is_ok()
    }

    fn tag(&self, counter: u64) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(&counter.to_be_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(60);

    #[test]
    fn a_nonce_is_valid_for_its_window_and_the_next() {
        let nonces = Nonces::new([7; 32], WINDOW);
        let t = 1_700_000_000 / 60 * 60;
        let nonce = nonces.current(t);
        assert_eq!(nonce.len(), 32);
        assert_eq!(nonces.current(t + 59), nonce, "one nonce per window");
        assert_ne!(nonces.current(t + 60), nonce, "a new one the next window");
        assert!(nonces.is_valid(&nonce, t));
        assert!(nonces.is_valid(&nonce, t + 119));
        assert!(!nonces.is_valid(&nonce, t + 120), "stale two windows later");
        assert!(!nonces.is_valid(&nonce, t - 1), "not before its window");
    }

    #[test]
    fn nonces_are_tied_to_the_secret() {
        let ours = Nonces::new([7; 32], WINDOW);
        let shared = Nonces::new([7; 32], WINDOW);
        let theirs = Nonces::new([8; 32], WINDOW);
        let nonce = ours.current(1000);
        assert!(shared.is_valid(&nonce, 1000), "replicas with the secret agree");
        assert!(!theirs.is_valid(&nonce, 1000));
        assert!(!Nonces::random(WINDOW).is_valid(&nonce, 1000));
    }

    #[test]
    fn forged_and_garbled_nonces_are_refused() {
        let nonces = Nonces::new([7; 32], WINDOW);
        let nonce = nonces.current(1000);
        let mut bytes = URL_SAFE_NO_PAD.decode(&nonce).unwrap();
        // Another window's counter under the old MAC.
        bytes[7] ^= 1;
        assert!(!nonces.is_valid(&URL_SAFE_NO_PAD.encode(&bytes), 1000));
        bytes[7] ^= 1;
        bytes[NONCE_BYTES - 1] ^= 1;
        assert!(!nonces.is_valid(&URL_SAFE_NO_PAD.encode(&bytes), 1000));
        for garbage in ["", "x", "é", &nonce[..31], &format!("{nonce}A"), &format!("{nonce}=="), &"A".repeat(1000)] {
            assert!(!nonces.is_valid(garbage, 1000), "{garbage}");
        }
    }

    #[test]
    fn the_debug_output_hides_the_secret() {
        let text = format!("{:?}", Nonces::new([7; 32], WINDOW));
        assert!(text.contains("window_secs"));
        assert!(!text.contains("mac"));
    }
}
