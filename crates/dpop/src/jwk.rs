//! The public key in a proof's header: what is accepted, how it becomes a
//! verification key, and its RFC 7638 thumbprint.
//!
//! The key is the client's own, so it proves nothing by itself; what it
//! must be is *public* (a proof carrying a private key shows the client
//! leaks it, RFC 9449 §4.3 point 7) and *fit for `alg`*, so that a header
//! cannot pair, say, `ES256` with a P-384 or an RSA key and leave the
//! signature check to interpret the mismatch. Its thumbprint is what the
//! provider writes into the token's `cnf.jkt` and what the resource server
//! compares.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::ProofError;

/// Members that only a private (or symmetric) key has (RFC 7518 §6.2.2,
/// §6.3.2 and §6.4; RFC 8037 §2 for OKP's `d`).
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The smallest RSA modulus taken, in bytes: 2048 bits (RFC 7518 §3.3).
const MIN_RSA_MODULUS_BYTES: usize = 256;
/// The largest: 4096 bits, which also bounds the cost of one verification.
const MAX_RSA_MODULUS_BYTES: usize = 512;

/// Refuses a `jwk` holding private key material.
pub(crate) fn ensure_public(jwk: &Map<String, Value>) -> Result<(), ProofError> {
    if PRIVATE_MEMBERS.iter().any(|member| jwk.contains_key(*member)) {
        return Err(ProofError::PrivateKey);
    }
    Ok(())
}

/// A proof's verification key.
pub(crate) enum VerifyingKey {
    /// A P-256 key for ES256, as its SEC1 uncompressed point (`0x04 || x ||
    /// y`). ES256 is what browsers sign with and so the proof every request
    /// carries: it is checked with ring, already linked for TLS, several
    /// times faster than the pure-Rust P-256 behind `jsonwebtoken` (the
    /// bench's `dpop` figures).
    P256(Vec<u8>),
    /// Any other accepted algorithm's key, checked by `jsonwebtoken`.
    Other(DecodingKey, Algorithm),
}

impl VerifyingKey {
    /// Whether `signature_b64` is this key's valid signature of `signed`
    /// (for ES256, raw `r || s`, RFC 7518 §3.4).
    pub(crate) fn verifies(&self, signed: &[u8], signature_b64: &str) -> bool {
        match self {
            VerifyingKey::P256(point) => URL_SAFE_NO_PAD.decode(signature_b64).is_ok_and(|signature| {
                ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(signed, &signature)
                    .is_ok()
            }),
            VerifyingKey::Other(key, alg) => {
                matches!(jsonwebtoken::crypto::verify(signature_b64, signed, key, *alg), Ok(true))
            }
        }
    }
}

/// The verification key for `alg` from a public `jwk`, or
/// [`ProofError::UnusableJwk`] when the key's type, curve or size does not
/// fit `alg` (or its own `alg` member names another algorithm).
pub(crate) fn verifying_key(jwk: &Map<String, Value>, alg: Algorithm) -> Result<VerifyingKey, ProofError> {
    if let Some(own) = jwk.get("alg")
        && own.as_str() != Some(alg_name(alg))
    {
        return Err(ProofError::UnusableJwk);
    }
    let text = |name: &str| jwk.get(name).and_then(Value::as_str).ok_or(ProofError::UnusableJwk);
    let bytes = |name: &str| URL_SAFE_NO_PAD.decode(text(name)?).map_err(|_| ProofError::UnusableJwk);
    let (kty, curve) = match alg {
        Algorithm::ES256 => ("EC", Some(("P-256", 32))),
        Algorithm::ES384 => ("EC", Some(("P-384", 48))),
        Algorithm::EdDSA => ("OKP", Some(("Ed25519", 32))),
        Algorithm::RS256 | Algorithm::PS256 => ("RSA", None),
        _ => return Err(ProofError::Alg),
    };
    if text("kty")? != kty {
        return Err(ProofError::UnusableJwk);
    }
    match (kty, curve) {
        ("EC", Some((crv, len))) => {
            let (x, y) = (bytes("x")?, bytes("y")?);
            if text("crv")? != crv || x.len() != len || y.len() != len {
                return Err(ProofError::UnusableJwk);
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            // Both verifiers parse the SEC1 point and check it is on the
            // curve (despite the name, the EC "DER" key is that point).
            Ok(match alg {
                Algorithm::ES256 => VerifyingKey::P256(point),
                _ => VerifyingKey::Other(DecodingKey::from_ec_der(&point), alg),
            })
        }
        ("OKP", Some((crv, len))) => {
            let x = bytes("x")?;
            if text("crv")? != crv || x.len() != len {
                return Err(ProofError::UnusableJwk);
            }
            Ok(VerifyingKey::Other(DecodingKey::from_ed_der(&x), alg))
        }
        _ => {
            let (n, e) = (bytes("n")?, bytes("e")?);
            let modulus = n.iter().position(|&b| b != 0).map_or(0, |start| n.len() - start);
            if !(MIN_RSA_MODULUS_BYTES..=MAX_RSA_MODULUS_BYTES).contains(&modulus) || e.is_empty() || e.len() > 8 {
                return Err(ProofError::UnusableJwk);
            }
            Ok(VerifyingKey::Other(DecodingKey::from_rsa_raw_components(&n, &e), alg))
        }
    }
}

/// The JOSE name of one of the accepted algorithms.
pub(crate) fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::EdDSA => "EdDSA",
        Algorithm::RS256 => "RS256",
        Algorithm::PS256 => "PS256",
        // Never reached for a proof: only the algorithms above are parsed.
        _ => "",
    }
}

/// The RFC 7638 JWK thumbprint of a public key: base64url (no padding) of
/// the SHA-256 of its required members (`crv`, `kty`, `x`, `y` for EC;
/// `e`, `kty`, `n` for RSA; `crv`, `kty`, `x` for OKP) serialised in that
/// (lexicographic) order without whitespace. Optional members (`kid`,
/// `alg`, `use`) do not count, so the same key always has the same
/// thumbprint, which is what makes it usable as `cnf.jkt`.
///
/// Member values are taken as they are, not re-encoded: RFC 7638 §3.3
/// leaves canonical base64url to the key's producer, and the proof's
/// signature already verified with exactly these values.
pub fn thumbprint(jwk: &Value) -> Result<String, ProofError> {
    let jwk = jwk.as_object().ok_or(ProofError::NoJwk)?;
    let members: &[&str] = match jwk.get("kty").and_then(Value::as_str) {
        Some("EC") => &["crv", "kty", "x", "y"],
        Some("RSA") => &["e", "kty", "n"],
        Some("OKP") => &["crv", "kty", "x"],
        _ => return Err(ProofError::UnusableJwk),
    };
    let mut canonical = String::with_capacity(160);
    canonical.push('{');
    for (index, member) in members.iter().enumerate() {
        let value = jwk.get(*member).and_then(Value::as_str).ok_or(ProofError::UnusableJwk)?;
        if index > 0 {
            canonical.push(',');
        }
        canonical.push('"');
        canonical.push_str(member);
        canonical.push_str("\":");
        // serde_json escapes exactly as RFC 7638 §3 asks (JSON string
        // syntax, no whitespace); for base64url values it copies them.
        canonical.push_str(&Value::from(value).to_string());
    }
    canonical.push('}');
    Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// RFC 7638 §3.1's example key and its thumbprint.
    #[test]
    fn the_rfc_7638_example() {
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(thumbprint(&jwk).unwrap(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn optional_members_and_member_order_do_not_change_it() {
        let a = json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "BBBB"});
        let b = json!({"y": "BBBB", "use": "sig", "x": "AAAA", "kid": "k", "crv": "P-256", "kty": "EC"});
        assert_eq!(thumbprint(&a).unwrap(), thumbprint(&b).unwrap());
        let c = json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "BBBC"});
        assert_ne!(thumbprint(&a).unwrap(), thumbprint(&c).unwrap());
    }

    #[test]
    fn incomplete_or_odd_keys_have_none() {
        assert_eq!(thumbprint(&json!("EC")), Err(ProofError::NoJwk));
        for jwk in [
            json!({}),
            json!({"kty": "oct", "k": "AAAA"}),
            json!({"kty": "EC", "crv": "P-256", "x": "AAAA"}),
            json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": 5}),
            json!({"kty": "RSA", "n": "AAAA"}),
            json!({"kty": ["EC"]}),
        ] {
            assert_eq!(thumbprint(&jwk), Err(ProofError::UnusableJwk), "{jwk}");
        }
    }

    #[test]
    fn private_members_are_refused() {
        for member in PRIVATE_MEMBERS {
            let mut jwk = json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "BBBB"});
            jwk[*member] = json!("AAAA");
            assert_eq!(ensure_public(jwk.as_object().unwrap()), Err(ProofError::PrivateKey), "{member}");
        }
    }

    #[test]
    fn keys_must_fit_the_algorithm() {
        let x = URL_SAFE_NO_PAD.encode([1u8; 32]);
        let ec = json!({"kty": "EC", "crv": "P-256", "x": x, "y": x});
        let ec = ec.as_object().unwrap();
        assert!(verifying_key(ec, Algorithm::ES256).is_ok());
        for alg in [Algorithm::ES384, Algorithm::RS256, Algorithm::PS256, Algorithm::EdDSA] {
            assert!(matches!(verifying_key(ec, alg), Err(ProofError::UnusableJwk)), "{alg:?}");
        }
        assert!(matches!(verifying_key(ec, Algorithm::HS256), Err(ProofError::Alg)));
        let mut named = ec.clone();
        named.insert("alg".into(), json!("ES384"));
        assert!(matches!(verifying_key(&named, Algorithm::ES256), Err(ProofError::UnusableJwk)));
        let short = json!({"kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode([1u8; 31]), "y": x});
        assert!(matches!(verifying_key(short.as_object().unwrap(), Algorithm::ES256), Err(ProofError::UnusableJwk)));
        let padded = json!({"kty": "EC", "crv": "P-256", "x": format!("{x}="), "y": x});
        assert!(matches!(verifying_key(padded.as_object().unwrap(), Algorithm::ES256), Err(ProofError::UnusableJwk)));
        let small_rsa = json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xffu8; 128]), "e": "AQAB"});
        assert!(matches!(
            verifying_key(small_rsa.as_object().unwrap(), Algorithm::RS256),
            Err(ProofError::UnusableJwk)
        ));
        let rsa = json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xffu8; 256]), "e": "AQAB"});
        assert!(verifying_key(rsa.as_object().unwrap(), Algorithm::PS256).is_ok());
    }
}
