//! One proof's checks, RFC 9449 §4.3, in the order the RFC lists them.
//!
//! [`verify`] takes the `DPoP` header's value and what the server knows of
//! the request ([`Expected`]): it checks the JWS's shape, `typ`, `alg`, the
//! public `jwk` and the signature under it, then the claims: `jti`, `htm`,
//! `htu`, `iat` within the [`Window`], `ath` when an access token comes with
//! the proof, and `nonce` when the server requires one. It returns what the
//! caller still needs ([`Proof`]): the key's thumbprint, to compare with the
//! token's `cnf.jkt` or to bind a new token to, and the `jti` and `iat`, for
//! the replay cache.
//!
//! The cost is dominated by the signature: an ES256 verification is some
//! tens of microseconds; parsing, the thumbprint and the hashes are a few.
//! Nothing is cached, by design: each request has its own proof.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::jwk::{ensure_public, thumbprint, verifying_key};
use crate::{Nonces, ProofError, normalize_htu};

/// The algorithms a proof may be signed with, by preference: what a server
/// advertises as `dpop_signing_alg_values_supported` (RFC 9449 §5.1) and in
/// the `algs` of its `DPoP` challenge (§7.1). Asymmetric only: `none` and
/// the HMACs prove nothing about a public key, and are refused.
/// (This project's browser signs ES256 with a WebCrypto P-256 key.)
pub const SIGNING_ALGS: &[&str] = &["ES256", "ES384", "EdDSA", "RS256", "PS256"];

/// Proofs longer than this are refused before any decoding. Generous: an
/// ES256 proof is about 600 bytes, one with a 4096-bit RSA key under 2000.
pub const MAX_PROOF_BYTES: usize = 8 * 1024;

/// The longest `jti` accepted. A random 128-bit id is 22 base64url
/// characters and a UUID 36; the bound keeps the replay cache's input small.
pub const MAX_JTI_BYTES: usize = 256;

/// The longest `nonce` claim looked at; a server nonce from [`Nonces`] is 32
/// characters.
const MAX_NONCE_BYTES: usize = 256;

/// What the server expects of one proof: facts of the request it arrived
/// with, and what the server requires.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The request's method, exactly as sent (`"POST"`): methods are case-sensitive.
    pub htm: &'a str,
    /// The request's URL as the client may have addressed it (scheme, host,
    /// port and path, as the client saw them, not as a proxy forwarded
    /// them): one URL, or several where the server is reached at several
    /// (the SPA's `127.0.0.1` and `localhost` origins), any of which the
    /// proof may name. A query or fragment is ignored; both sides are
    /// normalised by [`normalize_htu`].
    pub htus: &'a [&'a str],
    /// The access token sent with the proof, at a resource server: the proof
    /// must then carry `ath`, the hash of exactly this token ([`ath`]).
    /// `None` at the token endpoint, where there is no token yet and `ath`
    /// is not checked.
    pub access_token: Option<&'a str>,
    /// The server's nonces, when it requires one: a proof without a nonce
    /// they accept is refused with [`ProofError::UseNonce`], whose answer
    /// carries a fresh nonce to retry with.
    pub nonce: Option<&'a Nonces>,
    /// The server's clock, in Unix seconds.
    pub now: u64,
}

/// How far a proof's `iat` may be from the server's clock.
///
/// A proof is accepted while `now - max_age_secs <= iat <= now + max_future_secs`.
/// The past side bounds how long a captured proof stays usable (and how
/// long the replay cache must remember it, [`Window::replay_ttl`]); the
/// future side absorbs clients whose clocks run slightly ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// How old a proof may be, in seconds.
    pub max_age_secs: u64,
    /// How far ahead of the server's clock a proof's `iat` may be, in seconds.
    pub max_future_secs: u64,
}

impl Default for Window {
    /// 60 seconds in the past and 10 in the future. A proof is made for one
    /// request and sent at once, so a minute covers a slow network and a
    /// queued retry; 10 seconds ahead covers the small drift of a clock that
    /// is synchronised at all. A client whose clock is further off gets
    /// [`ProofError::IatInFuture`] or [`ProofError::IatTooOld`] every time;
    /// servers that must serve such clients should use nonces instead of a
    /// wider window (RFC 9449 §11.1).
    fn default() -> Window {
        Window { max_age_secs: 60, max_future_secs: 10 }
    }
}

impl Window {
    /// How long a [`crate::ReplayCache`] must remember a proof: a proof is
    /// accepted for `max_future_secs + max_age_secs` seconds in all (from
    /// its `iat - max_future_secs` to its `iat + max_age_secs`), plus one
    /// second for the rounding of whole-second clocks.
    pub fn replay_ttl(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.max_age_secs.saturating_add(self.max_future_secs).saturating_add(1))
    }
}

/// What a valid proof tells the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The RFC 7638 SHA-256 thumbprint of the proof's key, base64url: the
    /// value of a bound token's `cnf.jkt`.
    pub jkt: String,
    /// The proof's unique id, for the replay cache.
    pub jti: String,
    /// When the client made the proof, in Unix seconds.
    pub iat: u64,
    /// The server nonce the proof carried, if any.
    pub nonce: Option<String>,
}

/// `ath`: base64url (no padding) of the SHA-256 of the access token's
/// ASCII bytes (RFC 9449 §4.2). A proof carrying it is good for requests
/// with that token only.
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// The proof of a request, from the values of its `DPoP` headers (as bytes,
/// so that any HTTP library's header map can be read): `None` without one,
/// [`ProofError::Multiple`] with more than one (RFC 9449 §4.3 point 1), and
/// [`ProofError::Malformed`] for a value that is not visible ASCII (what
/// `http`'s `HeaderValue::to_str` accepts; a proof is base64url and dots).
pub fn single_proof<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Result<Option<&'a str>, ProofError> {
    let mut values = values.into_iter();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(ProofError::Multiple);
    }
    if !value.iter().all(|&b| b == b'\t' || (0x20..0x7f).contains(&b)) {
        return Err(ProofError::Malformed);
    }
    std::str::from_utf8(value).map(Some).map_err(|_| ProofError::Malformed)
}

/// Checks one proof (the `DPoP` header's value) against `expected`, with
/// `iat` within `window`. See the module documentation for the checks; the
/// caller still compares [`Proof::jkt`] with the token's `cnf.jkt` and
/// records the `jti` in its replay cache.
pub fn verify(proof: &str, expected: &Expected<'_>, window: &Window) -> Result<Proof, ProofError> {
    if proof.len() > MAX_PROOF_BYTES {
        return Err(ProofError::Malformed);
    }
    let mut parts = proof.split('.');
    let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ProofError::Malformed);
    };
    let header = json_object(header_b64)?;

    let typ = header.get("typ").and_then(Value::as_str).ok_or(ProofError::Typ)?;
    if !is_dpop_typ(typ) {
        return Err(ProofError::Typ);
    }
    let alg = header.get("alg").and_then(Value::as_str).and_then(algorithm).ok_or(ProofError::Alg)?;
    // RFC 7515 §4.1.11: extensions a recipient does not understand must
    // fail the JWS; this crate understands none.
    if header.contains_key("crit") {
        return Err(ProofError::Malformed);
    }
    let jwk = header.get("jwk").ok_or(ProofError::NoJwk)?;
    let jwk_members = jwk.as_object().ok_or(ProofError::NoJwk)?;
    ensure_public(jwk_members)?;
    let key = verifying_key(jwk_members, alg)?;
    // The signing input is the header and claims exactly as sent.
    let signed = &proof[..header_b64.len() + 1 + claims_b64.len()];
    if !key.verifies(signed.as_bytes(), signature_b64) {
        return Err(ProofError::Signature);
    }

    let claims = json_object(claims_b64)?;
    let jti = match claims.get("jti") {
        Some(Value::String(jti)) if !jti.is_empty() && jti.len() <= MAX_JTI_BYTES => jti.clone(),
        _ => return Err(ProofError::Jti),
    };
    let htm = claims.get("htm").and_then(Value::as_str).ok_or(ProofError::Claims)?;
    if htm != expected.htm {
        return Err(ProofError::Htm);
    }
    let htu = claims.get("htu").and_then(Value::as_str).ok_or(ProofError::Claims)?;
    let same_url = normalize_htu(htu).is_ok_and(|claimed| {
        expected.htus.iter().any(|expected| normalize_htu(expected).is_ok_and(|actual| actual == claimed))
    });
    if !same_url {
        return Err(ProofError::Htu);
    }
    let iat = claims.get("iat").and_then(numeric_date).ok_or(ProofError::Claims)?;
    if iat.saturating_add(window.max_age_secs) < expected.now {
        return Err(ProofError::IatTooOld);
    }
    if iat > expected.now.saturating_add(window.max_future_secs) {
        return Err(ProofError::IatInFuture);
    }
    if let Some(token) = expected.access_token
        && claims.get("ath").and_then(Value::as_str) != Some(ath(token).as_str())
    {
        return Err(ProofError::Ath);
    }
    let nonce = match claims.get("nonce") {
        Some(Value::String(nonce)) if nonce.len() <= MAX_NONCE_BYTES => Some(nonce.clone()),
        _ => None,
    };
    if let Some(nonces) = expected.nonce
        && !nonce.as_deref().is_some_and(|nonce| nonces.is_valid(nonce, expected.now))
    {
        return Err(ProofError::UseNonce);
    }

    Ok(Proof { jkt: thumbprint(jwk)?, jti, iat, nonce })
}

/// The proof's `typ`: `dpop+jwt`, compared as a media type (RFC 7515
/// §4.1.9: case-insensitive, `application/` optional).
fn is_dpop_typ(typ: &str) -> bool {
    let bare = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    };
    bare.eq_ignore_ascii_case(crate::PROOF_TYP)
}

/// One of [`SIGNING_ALGS`]; `None` for anything else (`none`, `HS256`, ...).
fn algorithm(name: &str) -> Option<Algorithm> {
    match name {
        "ES256" => Some(Algorithm::ES256),
        "ES384" => Some(Algorithm::ES384),
        "EdDSA" => Some(Algorithm::EdDSA),
        "RS256" => Some(Algorithm::RS256),
        "PS256" => Some(Algorithm::PS256),
        _ => None,
    }
}

/// A base64url part of the JWS that must decode to a JSON object.
fn json_object(part: &str) -> Result<Map<String, Value>, ProofError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| ProofError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| ProofError::Malformed)
}

/// A NumericDate as whole seconds: a non-negative integer, or a finite
/// non-negative number (fractions rounded down).
fn numeric_date(value: &Value) -> Option<u64> {
    if let Some(seconds) = value.as_u64() {
        return Some(seconds);
    }
    // `as` saturates at u64::MAX, which the window then refuses as future.
    value.as_f64().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64)
}

#[cfg(test)]
mod tests;
