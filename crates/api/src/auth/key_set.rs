//! A loaded set of verification keys, indexed by `kid`, and how a token's
//! `kid` and algorithm select the one key to check it with.

use std::collections::HashMap;
use std::sync::Arc;

use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde_json::Value;

use super::jwk::{RawJwk, VerificationKey, parse_key};

/// Keys past this many in one JWKS document are ignored.
const MAX_KEYS: usize = 64;
/// Why a JWKS document was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("the document is not a JSON object with a `keys` array")]
    NotAKeySet,
    #[error("the key set holds no usable signing key ({skipped} skipped)")]
    NoUsableKeys { skipped: usize },
}

/// Why no key was found for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMiss {
    /// No key has the token's `kid`.
    UnknownKid,
    /// The token has no `kid` and no key fits its algorithm.
    NoFittingKey,
    /// The token has no `kid` and several keys fit its algorithm.
    Ambiguous,
    /// A key has the token's `kid`, but its type or `alg` does not fit the
    /// token's algorithm (an algorithm-confusion attempt, or a misconfiguration).
    AlgorithmMismatch,
}

impl KeyMiss {
    /// Whether refetching the key set could help: only when a key may have
    /// been added since the set was loaded.
    pub fn warrants_refresh(self) -> bool {
        matches!(self, KeyMiss::UnknownKid | KeyMiss::NoFittingKey)
    }
}

/// A loaded set of verification keys.
#[derive(Debug, Default)]
pub struct KeySet {
    by_kid: HashMap<String, Vec<Arc<VerificationKey>>>,
    without_kid: Vec<Arc<VerificationKey>>,
    len: usize,
    /// Bumped by the [`super::KeyStore`] each time it installs a set.
    pub(super) generation: u64,
}

impl KeySet {
    /// Reads a JWKS document (RFC 7517 §5). Keys this verifier cannot use
    /// (encryption keys, HMAC keys, unsupported curves, weak RSA moduli) are
    /// skipped with a warning; a set without any usable key is an error.
    pub fn from_jwks(document: &Value) -> Result<KeySet, JwksError> {
        let keys = document.get("keys").and_then(Value::as_array).ok_or(JwksError::NotAKeySet)?;
        let mut set = KeySet::default();
        let mut skipped = 0;
        for (index, raw) in keys.iter().take(MAX_KEYS).enumerate() {
            let parsed = RawJwk::deserialize(raw).map_err(|_| "it is not a well-formed JWK").and_then(parse_key);
            match parsed {
                Ok(key) => set.insert(key),
                Err(reason) => {
                    skipped += 1;
                    let kid = raw.get("kid").and_then(Value::as_str).unwrap_or("");
                    tracing::warn!(index, kid, "ignoring a key of the issuer's JWKS: {reason}");
                }
            }
        }
        if set.len == 0 {
            return Err(JwksError::NoUsableKeys { skipped });
        }
        Ok(set)
    }

    fn insert(&mut self, key: VerificationKey) {
        let key = Arc::new(key);
        match key.kid() {
            Some(kid) => self.by_kid.entry(kid.to_owned()).or_default().push(key),
            None => self.without_kid.push(key),
        }
        self.len += 1;
    }

    /// How many usable keys the set holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds no key (nothing has been loaded yet).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The key to check a token signed with `alg` under `kid`. Without a
    /// `kid`, the one key that fits the algorithm is used, if there is
    /// exactly one.
    pub fn select(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<VerificationKey>, KeyMiss> {
        match kid {
            Some(kid) => {
                let candidates = self.by_kid.get(kid).ok_or(KeyMiss::UnknownKid)?;
                candidates.iter().find(|k| k.fits(alg)).cloned().ok_or(KeyMiss::AlgorithmMismatch)
            }
            None => {
                let mut fitting = self.by_kid.values().flatten().chain(&self.without_kid).filter(|k| k.fits(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => Ok(key.clone()),
                    (None, _) => Err(KeyMiss::NoFittingKey),
                    (Some(_), Some(_)) => Err(KeyMiss::Ambiguous),
                }
            }
        }
    }

    /// Which installed set this is; changes whenever the store swaps sets.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

#[cfg(test)]
pub(super) mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    use super::*;

    /// An RSA JWK with a syntactically valid 2048-bit modulus.
    pub(in crate::auth) fn rsa_jwk(kid: &str, alg: Option<&str>) -> Value {
        // A syntactically valid 2048-bit modulus: the top bit set, the rest arbitrary.
        let mut n = vec![0xC5u8; 256];
        n[255] = 0x01;
        let mut jwk = json!({"kty": "RSA", "kid": kid, "n": URL_SAFE_NO_PAD.encode(&n), "e": "AQAB"});
        if let Some(alg) = alg {
            jwk["alg"] = json!(alg);
        }
        jwk
    }

    #[test]
    fn unusable_keys_are_skipped_and_usable_ones_kept() {
        let doc = json!({"keys": [
            rsa_jwk("sig", Some("RS256")),
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "oaep", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "weak", "n": URL_SAFE_NO_PAD.encode([0xC5u8; 128]), "e": "AQAB"},
            {"kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA"},
            {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AA"},
            "not even an object",
            {"kid": 7},
        ]});
        let set = KeySet::from_jwks(&doc).unwrap();
        assert_eq!(set.len(), 1);
        assert!(set.select(Some("sig"), Algorithm::RS256).is_ok());
        assert_eq!(set.select(Some("hmac"), Algorithm::HS256).unwrap_err(), KeyMiss::UnknownKid);
    }

    #[test]
    fn a_key_pinned_to_an_algorithm_fits_only_that_one() {
        let set = KeySet::from_jwks(&json!({"keys": [rsa_jwk("k", Some("RS256"))]})).unwrap();
        assert!(set.select(Some("k"), Algorithm::RS256).is_ok());
        assert_eq!(set.select(Some("k"), Algorithm::PS256).unwrap_err(), KeyMiss::AlgorithmMismatch);
        assert_eq!(set.select(Some("k"), Algorithm::ES256).unwrap_err(), KeyMiss::AlgorithmMismatch);
        assert_eq!(set.select(Some("k"), Algorithm::HS256).unwrap_err(), KeyMiss::AlgorithmMismatch);
    }

    #[test]
    fn without_kid_exactly_one_fitting_key_is_used() {
        let one = KeySet::from_jwks(&json!({"keys": [rsa_jwk("a", None)]})).unwrap();
        assert!(one.select(None, Algorithm::RS256).is_ok());
        assert_eq!(one.select(None, Algorithm::ES256).unwrap_err(), KeyMiss::NoFittingKey);
        let two = KeySet::from_jwks(&json!({"keys": [rsa_jwk("a", None), rsa_jwk("b", None)]})).unwrap();
        assert_eq!(two.select(None, Algorithm::RS256).unwrap_err(), KeyMiss::Ambiguous);
    }

    #[test]
    fn documents_without_usable_keys_are_errors() {
        assert!(matches!(KeySet::from_jwks(&json!([1, 2])), Err(JwksError::NotAKeySet)));
        assert!(matches!(KeySet::from_jwks(&json!({"keys": {}})), Err(JwksError::NotAKeySet)));
        assert!(matches!(KeySet::from_jwks(&json!({"keys": []})), Err(JwksError::NoUsableKeys { skipped: 0 })));
    }
}
