//! The claims of the tokens, their signing, and the verification of tokens
//! we issued earlier (the logout `id_token_hint`).
//!
//! The ID token carries the user's permissions and roles under namespaced
//! claims, exactly where an Auth0 post-login Action would put them. The
//! access token speaks both Auth0 dialects: a `permissions` array (RBAC
//! "add permissions in the access token") and a `scope` string.

use jsonwebtoken::{Algorithm, Header, Validation};
use permissions::names::{ACCESS_TOKEN_PERMISSIONS_CLAIM, PERMISSIONS_CLAIM, ROLES_CLAIM};
use serde_json::{Map, Value, json};
use store::User;

use crate::keys::{KeySet, SigningKey};

/// The OIDC scopes this provider grants; anything else requested is ignored
/// (RFC 6749 §3.3 lets the provider grant less than asked). `offline_access`
/// (OpenID Connect Core §11) earns a refresh token. It is granted without a
/// consent screen, as Auth0 grants it to first-party applications.
pub const SUPPORTED_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The scope that earns a refresh token.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The subject identifier of a user: stable for as long as the database,
/// prefixed like Auth0's `connection|id` so it is obviously not an Auth0 one.
pub fn subject(user: &User) -> String {
    format!("{}{}", permissions::names::DEV_IDP_SUBJECT_PREFIX, user.id)
}

/// The granted subset of a requested `scope`, in a canonical order.
pub fn granted_scopes(requested: &str) -> Vec<&'static str> {
    let requested: Vec<&str> = requested.split(' ').collect();
    SUPPORTED_SCOPES.into_iter().filter(|scope| requested.contains(scope)).collect()
}

/// Everything the tokens of one exchange are made from.
#[derive(Debug, Clone)]
pub struct TokenContext<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub audience: &'a str,
    pub user: &'a User,
    pub roles: &'a [String],
    pub permissions: &'a [String],
    pub scopes: &'a [&'a str],
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    pub now: i64,
    pub ttl_secs: i64,
    /// A unique id for the access token.
    pub jti: &'a str,
}

impl TokenContext<'_> {
    fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(&scope)
    }

    /// The access token's (and token response's) `scope`: the granted OIDC
    /// scopes followed by the user's permissions, as Auth0 spells them.
    pub fn scope_string(&self) -> String {
        let mut all: Vec<&str> = self.scopes.to_vec();
        all.extend(self.permissions.iter().map(String::as_str));
        all.join(" ")
    }

    /// The ID token claims. Standard profile claims follow the scopes
    /// (OpenID Connect Core §5.4: `profile` → name and preferred_username,
    /// `email` → email and email_verified); the namespaced permission and
    /// role claims are always present, as a post-login Action adds them.
    pub fn id_token_claims(&self) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.issuer));
        claims.insert("sub".into(), json!(subject(self.user)));
        claims.insert("aud".into(), json!(self.client_id));
        claims.insert("iat".into(), json!(self.now));
        claims.insert("exp".into(), json!(self.now + self.ttl_secs));
        claims.insert("auth_time".into(), json!(self.auth_time));
        if let Some(nonce) = self.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        if self.has_scope("profile") {
            claims.insert("name".into(), json!(self.user.name));
            claims.insert("preferred_username".into(), json!(self.user.username));
        }
        if self.has_scope("email") {
            claims.insert("email".into(), json!(self.user.email));
            // The demo users' addresses are seeded by us; call them verified
            // so relying-party code paths that require it can be exercised.
            claims.insert("email_verified".into(), json!(true));
        }
        claims.insert(PERMISSIONS_CLAIM.into(), json!(self.permissions));
        claims.insert(ROLES_CLAIM.into(), json!(self.roles));
        claims
    }

    /// The access token claims (RFC 9068 shape plus Auth0's extras).
    pub fn access_token_claims(&self) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.issuer));
        claims.insert("sub".into(), json!(subject(self.user)));
        claims.insert("aud".into(), json!(self.audience));
        claims.insert("iat".into(), json!(self.now));
        claims.insert("exp".into(), json!(self.now + self.ttl_secs));
        claims.insert("auth_time".into(), json!(self.auth_time));
        claims.insert("client_id".into(), json!(self.client_id));
        claims.insert("azp".into(), json!(self.client_id));
        claims.insert("jti".into(), json!(self.jti));
        claims.insert(ACCESS_TOKEN_PERMISSIONS_CLAIM.into(), json!(self.permissions));
        claims.insert("scope".into(), json!(self.scope_string()));
        claims
    }
}

/// Signs `claims` with `key` (RS256), naming the key and the token type.
pub fn sign(key: &SigningKey, typ: &str, claims: &Map<String, Value>) -> Result<String, jsonwebtoken::errors::Error> {
    let mut header = Header::new(Algorithm::RS256);
    header.typ = Some(typ.to_owned());
    header.kid = Some(key.kid().to_owned());
    jsonwebtoken::encode(&header, claims, key.encoding_key())
}

/// Why an `id_token_hint` was refused.
#[derive(Debug, thiserror::Error)]
pub enum HintError {
    #[error("the id_token_hint is not a JWT signed by this provider")]
    NotOurs,
    #[error("the id_token_hint was not issued to client {0}")]
    WrongAudience(String),
}

/// Verifies that `token` is an ID token this provider signed for
/// `client_id`. Expiry is deliberately not checked: RP-initiated logout
/// (OpenID Connect RP-Initiated Logout §2) accepts expired hints, since
/// logging out usually happens after the ID token has expired.
pub fn verify_id_token_hint(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_supported_scopes_are_granted_in_canonical_order() {
        assert_eq!(
            granted_scopes("email openid offline_access read:project-list"),
            ["openid", "email", "offline_access"]
        );
        assert_eq!(granted_scopes("email openid read:project-list"), ["openid", "email"]);
        assert_eq!(granted_scopes("openid profile email"), ["openid", "profile", "email"]);
        assert_eq!(granted_scopes("profile  openid"), ["openid", "profile"]);
    }
}
