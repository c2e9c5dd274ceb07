//! A DPoP client's key, as the browser has one: a P-256 key pair that signs
//! ES256 proofs (RFC 9449 §4.2), `dpop`'s `TestKey`, which only signs; its
//! thumbprint is computed here, independently of the `dpop` crate the
//! provider verifies with, so the two cannot share a mistake.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dpop::test_key::TestKey;
use rand::RngCore;
use rand::rngs::OsRng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{ISSUER, Idp};

/// The URL every proof for the token endpoint names: discovery's `token_endpoint`.
pub(crate) fn token_endpoint() -> String {
    format!("{ISSUER}{}", dev_idp::TOKEN_PATH)
}

/// A client's DPoP key pair.
pub(crate) struct DpopKey(TestKey);

impl DpopKey {
    pub(crate) fn generate() -> DpopKey {
        DpopKey(TestKey::generate())
    }

    /// The public key as a JWK (RFC 7518 §6.2.1).
    pub(crate) fn jwk(&self) -> Value {
        self.0.jwk().clone()
    }

    /// The JWK SHA-256 thumbprint (RFC 7638 §3): the required members in
    /// lexicographic order, no whitespace.
    pub(crate) fn thumbprint(&self) -> String {
        let jwk = self.jwk();
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["x"].as_str().expect("x"),
            jwk["y"].as_str().expect("y")
        );
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// A proof with exactly these claims, signed ES256 (the signature is
    /// the raw `r || s`, RFC 7518 §3.4).
    pub(crate) fn sign(&self, claims: &Value) -> String {
        self.0.proof(claims)
    }

    /// A fresh proof for a request `htm htu`, made now by `idp`'s clock.
    pub(crate) fn proof_for(&self, idp: &Idp, htm: &str, htu: &str) -> String {
        self.sign(&json!({ "jti": new_jti(), "htm": htm, "htu": htu, "iat": idp.state.now() }))
    }

    /// A fresh proof for a token request to `idp`.
    pub(crate) fn token_proof(&self, idp: &Idp) -> String {
        self.proof_for(idp, "POST", &token_endpoint())
    }

    /// A fresh proof for a token request carrying the server's `nonce`.
    pub(crate) fn token_proof_with_nonce(&self, idp: &Idp, nonce: &str) -> String {
        let claims =
            json!({ "jti": new_jti(), "htm": "POST", "htu": token_endpoint(), "iat": idp.state.now(), "nonce": nonce });
        self.sign(&claims)
    }
}

/// A unique proof id: 128 random bits.
pub(crate) fn new_jti() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
