//! A DPoP client's key, as the browser has one: a P-256 key pair that signs
//! ES256 proofs (RFC 9449 §4.2), made here independently of the `dpop`
//! crate the provider verifies with, so the two cannot share a mistake.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
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
pub(crate) struct DpopKey {
    signing: SigningKey,
}

impl DpopKey {
    pub(crate) fn generate() -> DpopKey {
        DpopKey { signing: SigningKey::random(&mut OsRng) }
    }

    /// The public key as a JWK (RFC 7518 §6.2.1).
    pub(crate) fn jwk(&self) -> Value {
        let point = self.signing.verifying_key().to_encoded_point(false);
        let x = URL_SAFE_NO_PAD.encode(point.x().expect("x"));
        let y = URL_SAFE_NO_PAD.encode(point.y().expect("y"));
        json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y })
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
        let header = json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk() });
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature: Signature = self.signing.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
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
