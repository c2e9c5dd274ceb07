//! One JWK (RFC 7517) read into a [`VerificationKey`]: which members are
//! looked at, which keys are refused (encryption and HMAC keys, unsupported
//! curves, weak RSA moduli), and which algorithms a key fits.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// The signature algorithms tokens may use. Never `none`, and never an HMAC
/// algorithm: the API holds no shared secret, and accepting HS* is what makes
/// "sign with the public key as the HMAC secret" forgeries possible.
pub const ALLOWED_ALGORITHMS: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// RSA moduli outside this range (in bits) are refused: smaller ones are
/// forgeable, larger ones the verifier would refuse on every token anyway.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;

/// What kind of public key a JWK holds, which decides the algorithms it fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    P256,
    P384,
}

impl KeyKind {
    fn fits(self, alg: Algorithm) -> bool {
        use Algorithm::*;
        matches!(
            (self, alg),
            (KeyKind::Rsa, RS256 | RS384 | RS512 | PS256 | PS384 | PS512)
                | (KeyKind::P256, ES256)
                | (KeyKind::P384, ES384)
        )
    }
}

/// One public key, ready to verify signatures.
pub struct VerificationKey {
    kid: Option<String>,
    kind: KeyKind,
    /// The JWK's own `alg`, when it pins one.
    alg: Option<Algorithm>,
    key: DecodingKey,
}

impl VerificationKey {
    /// Whether a token signed with `alg` may be checked with this key: the
    /// key type must match the algorithm family (and curve), and a key that
    /// names its algorithm is used with that one only.
    pub fn fits(&self, alg: Algorithm) -> bool {
        self.kind.fits(alg) && self.alg.is_none_or(|pinned| pinned == alg)
    }

    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.key
    }
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("kind", &self.kind)
            .field("alg", &self.alg)
            .finish()
    }
}

/// A JWK as published; only the members this verifier looks at.
#[derive(Deserialize)]
pub(super) struct RawJwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    key_ops: Option<Vec<String>>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

/// Decodes a base64url JWK member, tolerating the padding some providers add.
fn b64(value: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(value.trim_end_matches('=')).ok()
}

/// Reads one published key, or says why it cannot be used.
pub(super) fn parse_key(raw: RawJwk) -> Result<VerificationKey, &'static str> {
    if raw.usage.as_deref().is_some_and(|u| u != "sig") {
        return Err("its `use` is not `sig`");
    }
    if raw.key_ops.as_ref().is_some_and(|ops| !ops.iter().any(|op| op == "verify")) {
        return Err("its `key_ops` do not include `verify`");
    }
    // A key pinned to an algorithm outside the allow-list (an encryption key
    // such as RSA-OAEP, or an HMAC key) is never used for tokens.
    let alg = match raw.alg.as_deref() {
        None => None,
        Some(name) => match ALLOWED_ALGORITHMS.iter().find(|a| alg_name(**a) == name) {
            Some(alg) => Some(*alg),
            None => return Err("its `alg` is not an accepted signature algorithm"),
        },
    };
    let (kind, key) = match raw.kty.as_str() {
        "RSA" => {
            let (Some(n), Some(e)) = (raw.n.as_deref().and_then(b64), raw.e.as_deref().and_then(b64)) else {
                return Err("its `n` or `e` is missing or not base64url");
            };
            // Counted in bits, not bytes: a 2041-bit modulus also fills 256
            // bytes, and is not a 2048-bit key.
            if !RSA_BITS.contains(&bit_length(&n)) {
                return Err("its RSA modulus is not between 2048 and 4096 bits");
            }
            // An RSA public exponent is odd and at least 3 (RFC 8017 §3.1);
            // `e = 1` makes every "signature" its own message, so anyone can
            // sign. More than 64 bits is no exponent any library makes.
            let e_odd = e.last().is_some_and(|last| last & 1 == 1);
            if !(2..=64).contains(&bit_length(&e)) || !e_odd {
                return Err("its RSA exponent is not an odd number from 3 to 2^64");
            }
            (KeyKind::Rsa, DecodingKey::from_rsa_raw_components(&n, &e))
        }
        "EC" => {
            let (kind, size) = match raw.crv.as_deref() {
                Some("P-256") => (KeyKind::P256, 32),
                Some("P-384") => (KeyKind::P384, 48),
                _ => return Err("its curve is not P-256 or P-384"),
            };
            let (Some(x), Some(y)) = (raw.x.as_deref(), raw.y.as_deref()) else {
                return Err("its `x` or `y` is missing");
            };
            let (x, y) = (x.trim_end_matches('='), y.trim_end_matches('='));
            if b64(x).is_none_or(|v| v.len() != size) || b64(y).is_none_or(|v| v.len() != size) {
                return Err("its `x` or `y` is not a base64url coordinate of the curve's size");
            }
            let key = DecodingKey::from_ec_components(x, y).map_err(|_| "its coordinates cannot be decoded")?;
            (kind, key)
        }
        _ => return Err("its `kty` is neither RSA nor EC"),
    };
    if alg.is_some_and(|alg| !kind.fits(alg)) {
        return Err("its `alg` does not fit its key type");
    }
    Ok(VerificationKey { kid: raw.kid, kind, alg, key })
}

/// The number of bits of a big-endian unsigned integer, without its
/// leading zeros (0 for zero or no bytes).
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.iter().position(|&b| b != 0) {
        Some(first) => (bytes.len() - first) * 8 - bytes[first].leading_zeros() as usize,
        None => 0,
    }
}

/// The JOSE name of an algorithm (`RS256`).
pub(crate) fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn rsa(n: &[u8], e: &[u8]) -> Result<VerificationKey, &'static str> {
        let jwk = serde_json::json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode(n), "e": URL_SAFE_NO_PAD.encode(e)});
        parse_key(serde_json::from_value(jwk).unwrap())
    }

    /// A modulus of exactly `bits` bits (top bit set, odd), in as many bytes as it needs.
    fn modulus(bits: usize) -> Vec<u8> {
        let mut n = vec![0xFFu8; bits.div_ceil(8)];
        n[0] >>= (8 - bits % 8) % 8;
        n
    }

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0, 0x80]), 8);
        assert_eq!(bit_length(&[0x01, 0x00, 0x01]), 17);
        assert_eq!(bit_length(&modulus(2041)), 2041);
    }

    #[test]
    fn rsa_moduli_are_counted_in_bits() {
        const F4: &[u8] = &[1, 0, 1];
        for bits in [2048, 3072, 4096] {
            assert!(rsa(&modulus(bits), F4).is_ok(), "{bits}");
        }
        // Leading zero bytes do not count.
        assert!(rsa(&[&[0u8, 0][..], &modulus(2048)].concat(), F4).is_ok());
        // 256 bytes, but fewer than 2048 bits; and just too large.
        for bits in [2041, 2047, 1024, 4097] {
            assert_eq!(
                rsa(&modulus(bits), F4).unwrap_err(),
                "its RSA modulus is not between 2048 and 4096 bits",
                "{bits}"
            );
        }
    }

    #[test]
    fn rsa_exponents_are_odd_and_at_least_3() {
        let n = modulus(2048);
        for e in [&[3u8][..], &[1, 0, 1], &[0, 1, 0, 1], &[0xFF; 8]] {
            assert!(rsa(&n, e).is_ok(), "{e:?}");
        }
        for e in [&[][..], &[0], &[1], &[0, 0, 1], &[2], &[1, 0, 0], &[1; 9]] {
            assert_eq!(rsa(&n, e).unwrap_err(), "its RSA exponent is not an odd number from 3 to 2^64", "{e:?}");
        }
    }
}
