//! Signing the tokens this provider issues, and verifying one it issued
//! earlier (the logout `id_token_hint`).

use jsonwebtoken::{Algorithm, Header, Validation};
use serde_json::{Map, Value};

use crate::signing_keys::{KeySet, SigningKey};

/// The `typ` of an ID token's header.
pub(crate) const ID_TOKEN_TYPE: &str = "JWT";
/// The `typ` of an access token's header (RFC 9068 §2.1).
pub(crate) const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// Signs `claims` with `key` (RS256), naming the key and the token type.
pub(crate) fn sign(
    key: &SigningKey,
    typ: &str,
    claims: &Map<String, Value>,
) -> Result<String, jsonwebtoken::errors::Error> {
    let mut header = Header::new(Algorithm::RS256);
    header.typ = Some(typ.to_owned());
    header.kid = Some(key.kid().to_owned());
    jsonwebtoken::encode(&header, claims, key.encoding_key())
}

/// Why an `id_token_hint` was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HintError {
    /// Not a JWT, or not signed by one of our keys for our issuer.
    #[error("the id_token_hint is not a JWT signed by this provider")]
    NotOurs,
    /// Ours, but issued to another client.
    #[error("the id_token_hint was not issued to client {0}")]
    WrongAudience(String),
}

/// Verifies that `token` is an ID token this provider signed for
/// `client_id`. Expiry is deliberately not checked: RP-initiated logout
/// (OpenID Connect RP-Initiated Logout §2) accepts expired hints, since
/// logging out usually happens after the ID token has expired.
pub(crate) fn verify_id_token_hint(
    keys: &KeySet,
    issuer: &str,
    client_id: &str,
    token: &str,
) -> Result<Map<String, Value>, HintError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| HintError::NotOurs)?;
    let key = header.kid.as_deref().and_then(|kid| keys.find(kid)).ok_or(HintError::NotOurs)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["iss", "sub", "aud"]);
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, key.decoding_key(), &validation)
        .map_err(|_| HintError::NotOurs)?;
    let audience_ok = match data.claims.get("aud") {
        Some(Value::String(aud)) => aud == client_id,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(client_id)),
        _ => false,
    };
    if !audience_ok {
        return Err(HintError::WrongAudience(client_id.to_owned()));
    }
    Ok(data.claims)
}
