//! A DPoP client's key for tests and benchmarks (feature `test-key`): a
//! P-256 pair signing ES256 proofs as a browser's WebCrypto key does (RFC
//! 9449 §4.2, the signature the raw `r || s` of RFC 7518 §3.4).
//!
//! Only the signing side: it computes no thumbprint and checks nothing, so
//! a test that signs with it and verifies with this crate still compares
//! two independent pieces of code. What goes into the claims is the
//! caller's (each test names its own request, time and nonce).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};

/// A client's key pair.
pub struct TestKey {
    signing: SigningKey,
    jwk: Value,
}

impl TestKey {
    /// A new random key.
    pub fn generate() -> TestKey {
        let signing = SigningKey::random(&mut rand::rngs::OsRng);
        let point = signing.verifying_key().to_encoded_point(false);
        // An uncompressed point (`to_encoded_point(false)`) has both coordinates.
        let coordinate = |c: Option<&p256::FieldBytes>| c.map(|c| URL_SAFE_NO_PAD.encode(c)).unwrap_or_default();
        let jwk = json!({ "kty": "EC", "crv": "P-256", "x": coordinate(point.x()), "y": coordinate(point.y()) });
        TestKey { signing, jwk }
    }

    /// The public key as a JWK (RFC 7518 §6.2.1): `kty`, `crv`, `x`, `y`.
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// The header of a well-formed proof by this key.
    pub fn header(&self) -> Value {
        json!({ "typ": crate::PROOF_TYP, "alg": "ES256", "jwk": self.jwk })
    }

    /// A compact JWS of exactly `header` and `claims`, signed ES256 by this
    /// key (for proofs whose header a test spoils).
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature: Signature = self.signing.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    /// The signing key itself, for a signature encoded otherwise (DER).
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// A proof with [`TestKey::header`] and `claims`.
    pub fn proof(&self, claims: &Value) -> String {
        self.sign(&self.header(), claims)
    }
}
