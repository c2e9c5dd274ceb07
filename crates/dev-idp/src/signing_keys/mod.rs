//! The signing keys and the JWKS that publishes them.
//!
//! Keys are RSA 2048 and live as PKCS#8 PEM files (mode 0600) in
//! `{data dir}/keys/`. The provider creates the first one, `0001.pem`, on its
//! first start and loads it afterwards, so a restart signs no one out.
//! `dev-idp rotate-key` ([`rotate`], in `key_dir`) adds the next one, named
//! `{sequence}-{activated at}.pem` (`0002-1767225600.pem`): the sequence
//! orders the keys, and the time, in seconds since the Unix epoch, is when
//! the key became the signer, which is the moment its predecessor was
//! retired. Writing the name and the key in one atomic step means no
//! metadata file can disagree with the keys.
//!
//! The key set signs with the newest key. The JWKS publishes it and every
//! key retired less than a retention period ago (the token lifetime plus a
//! margin, see [`KeySet::published_jwks`]), so a token signed just before a
//! rotation keeps verifying until it expires. Retired keys stay loaded for
//! [`KeySet::find`], which checks logout `id_token_hint`s (accepted even
//! when expired), until [`rotate`] deletes them a week after retirement. A running provider
//! follows the directory through `LiveKeys` (`live`).
//!
//! Each key's `kid` is its RFC 7638 JWK thumbprint, so it is stable and
//! derived from the key alone.

mod key_dir;
mod live;

use std::io;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rand::rngs::OsRng;
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use key_dir::{KEEP_RETIRED_KEY_FILES_SECS, Rotated, rotate, rotate_to};
pub(crate) use live::LiveKeys;

/// RSA modulus size of generated keys; RS256 wants at least 2048 bits.
pub const KEY_BITS: usize = 2048;

/// What can go wrong loading or creating keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot {action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: io::Error },
    #[error("{path} is not a PKCS#8 PEM RSA private key: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error("{path} holds a {bits}-bit RSA key; at least {KEY_BITS} bits are required")]
    TooSmall { path: PathBuf, bits: usize },
    #[error("cannot generate an RSA key: {0}")]
    Generate(String),
    #[error("cannot encode the RSA key: {0}")]
    Encode(String),
    #[error("{0} holds no signing key")]
    NoKeys(PathBuf),
    #[error("cannot find a free file name for a new key in {0}; is another rotation running?")]
    NoFreeName(PathBuf),
}

/// One public key as a JWK (RFC 7517), as the JWKS lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicJwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    pub kid: String,
    pub n: String,
    pub e: String,
}

/// The JWKS document (`/.well-known/jwks.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwks {
    pub keys: Vec<PublicJwk>,
}

/// One RSA signing key with everything derived from it.
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: PublicJwk,
    /// When a newer key replaced this one as the signer (seconds since the
    /// Unix epoch); `None` for the active key, or when that time is unknown.
    retired_at: Option<i64>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material, not even by accident in a log line.
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Wraps a private key, deriving its `kid`, JWK and jsonwebtoken keys.
    pub fn from_private_key(key: &RsaPrivateKey) -> Result<SigningKey, KeyError> {
        let n_bytes = key.n().to_bytes_be();
        let e_bytes = key.e().to_bytes_be();
        let n = URL_SAFE_NO_PAD.encode(&n_bytes);
        let e = URL_SAFE_NO_PAD.encode(&e_bytes);
        let kid = rsa_thumbprint(&n, &e);
        let der = key.to_pkcs1_der().map_err(|e| KeyError::Encode(e.to_string()))?;
        Ok(SigningKey {
            encoding: EncodingKey::from_rsa_der(der.as_bytes()),
            decoding: DecodingKey::from_rsa_raw_components(&n_bytes, &e_bytes),
            jwk: PublicJwk { kty: "RSA", use_: "sig", alg: "RS256", kid: kid.clone(), n, e },
            kid,
            retired_at: None,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    pub fn jwk(&self) -> &PublicJwk {
        &self.jwk
    }

    /// When this key stopped signing, if it has and that is known.
    pub fn retired_at(&self) -> Option<i64> {
        self.retired_at
    }
}

/// The RFC 7638 thumbprint of an RSA public key: base64url(SHA-256) of the
/// required members in lexicographic order, without whitespace.
fn rsa_thumbprint(n: &str, e: &str) -> String {
    // `n` and `e` are base64url, so they need no JSON escaping.
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The provider's keys: the newest (active) one signs; it and the keys
/// retired recently are published ([`KeySet::published_jwks`]).
#[derive(Debug)]
pub struct KeySet {
    keys: Vec<SigningKey>,
    active: usize,
}

impl KeySet {
    /// A set of exactly one key (tests inject a pre-generated key this way).
    pub fn single(key: &RsaPrivateKey) -> Result<KeySet, KeyError> {
        Ok(KeySet { keys: vec![SigningKey::from_private_key(key)?], active: 0 })
    }

    /// The key that signs new tokens.
    pub fn active(&self) -> &SigningKey {
        &self.keys[self.active]
    }

    /// The key with this `kid`, for verifying tokens we issued.
    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|key| key.kid == kid)
    }

    /// Every key loaded, active first, as a JWKS.
    pub fn jwks(&self) -> Jwks {
        Jwks { keys: self.active_first().map(|key| key.jwk.clone()).collect() }
    }

    /// The JWKS to publish at `now`: the active key, and every key retired
    /// less than `retention_secs` ago or at an unknown time. The active key
    /// is always there, whatever the clocks say.
    pub fn published_jwks(&self, now: i64, retention_secs: i64) -> Jwks {
        let keys = self
            .active_first()
            .enumerate()
            .filter(|(index, key)| {
                *index == 0 || key.retired_at.is_none_or(|retired| now < retired.saturating_add(retention_secs))
            })
            .map(|(_, key)| key.jwk.clone())
            .collect();
        Jwks { keys }
    }

    /// The keys, the active one first and the others newest first.
    fn active_first(&self) -> impl Iterator<Item = &SigningKey> {
        let others = self.keys.iter().enumerate().rev().filter(|(i, _)| *i != self.active).map(|(_, key)| key);
        std::iter::once(self.active()).chain(others)
    }

    /// How many keys are loaded.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: a key set has an active key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
impl KeySet {
    /// A set whose one key publishes and verifies as `key` but cannot sign:
    /// its encoding key is an HMAC secret, which RS256 refuses. Tests use it
    /// to make signing fail at a chosen moment.
    pub(crate) fn unable_to_sign(key: &RsaPrivateKey) -> Result<KeySet, KeyError> {
        let mut signing = SigningKey::from_private_key(key)?;
        signing.encoding = EncodingKey::from_secret(b"not an RSA key");
        Ok(KeySet { keys: vec![signing], active: 0 })
    }
}

/// Generates a fresh RSA key from the operating system's random source.
pub fn generate_key() -> Result<RsaPrivateKey, KeyError> {
    RsaPrivateKey::new(&mut OsRng, KEY_BITS).map_err(|e| KeyError::Generate(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        // The example key of RFC 7638 §3.1 and its published thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(rsa_thumbprint(n, "AQAB"), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }
}
