//! The claims of the tokens this provider issues.
//!
//! The ID token carries the user's permissions and roles under namespaced
//! claims, exactly where an Auth0 post-login Action would put them. The
//! access token speaks both Auth0 dialects: a `permissions` array (RBAC
//! "add permissions in the access token") and a `scope` string; a
//! DPoP-bound access token also names its key (`cnf.jkt`, RFC 9449 §6).
//! Signing is [`crate::jwt`]'s job.

use permissions::names::{ACCESS_TOKEN_PERMISSIONS_CLAIM, DEV_IDP_SUBJECT_PREFIX, PERMISSIONS_CLAIM, ROLES_CLAIM};
use serde_json::{Map, Value, json};
use store::User;

use crate::scopes::{EMAIL, PROFILE};

/// The subject identifier of a user: stable for as long as the database,
/// prefixed like Auth0's `connection|id` so it is obviously not an Auth0 one.
pub(crate) fn subject(user: &User) -> String {
    format!("{DEV_IDP_SUBJECT_PREFIX}{}", user.id)
}

/// Everything the tokens of one exchange are made from.
#[derive(Debug, Clone)]
pub(crate) struct TokenContext<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) client_id: &'a str,
    /// The access token's audience (the ID token's is the client).
    pub(crate) audience: &'a str,
    pub(crate) user: &'a User,
    pub(crate) roles: &'a [String],
    pub(crate) permissions: &'a [String],
    /// The granted OIDC scopes.
    pub(crate) scopes: &'a [&'a str],
    pub(crate) nonce: Option<&'a str>,
    pub(crate) auth_time: i64,
    pub(crate) now: i64,
    pub(crate) ttl_secs: i64,
    /// A unique id for the access token.
    pub(crate) jti: &'a str,
    /// The thumbprint of the DPoP key the access token is bound to
    /// (`cnf.jkt`, RFC 9449 §6), if the request carried a proof.
    pub(crate) dpop_jkt: Option<&'a str>,
}

impl TokenContext<'_> {
    fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(&scope)
    }

    /// The access token's (and token response's) `scope`: the granted OIDC
    /// scopes followed by the user's permissions, as Auth0 spells them.
    pub(crate) fn scope_string(&self) -> String {
        let mut all: Vec<&str> = self.scopes.to_vec();
        all.extend(self.permissions.iter().map(String::as_str));
        all.join(" ")
    }

    /// The claims both tokens carry, for the audience `aud`: who issued
    /// them, about whom, for whom, when, and since which sign-in.
    fn common_claims(&self, aud: &str) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.issuer));
        claims.insert("sub".into(), json!(subject(self.user)));
        claims.insert("aud".into(), json!(aud));
        claims.insert("iat".into(), json!(self.now));
        claims.insert("exp".into(), json!(self.now + self.ttl_secs));
        claims.insert("auth_time".into(), json!(self.auth_time));
        claims
    }

    /// The ID token claims. Standard profile claims follow the scopes
    /// (OpenID Connect Core §5.4: `profile` → name and preferred_username,
    /// `email` → email and email_verified); the namespaced permission and
    /// role claims are always present, as a post-login Action adds them.
    pub(crate) fn id_token_claims(&self) -> Map<String, Value> {
        let mut claims = self.common_claims(self.client_id);
        if let Some(nonce) = self.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        if self.has_scope(PROFILE) {
            claims.insert("name".into(), json!(self.user.name));
            claims.insert("preferred_username".into(), json!(self.user.username));
        }
        if self.has_scope(EMAIL) {
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
    pub(crate) fn access_token_claims(&self) -> Map<String, Value> {
        let mut claims = self.common_claims(self.audience);
        claims.insert("client_id".into(), json!(self.client_id));
        claims.insert("azp".into(), json!(self.client_id));
        claims.insert("jti".into(), json!(self.jti));
        claims.insert(ACCESS_TOKEN_PERMISSIONS_CLAIM.into(), json!(self.permissions));
        claims.insert("scope".into(), json!(self.scope_string()));
        if let Some(jkt) = self.dpop_jkt {
            // RFC 9449 §6.1: the confirmation method of a DPoP-bound token.
            claims.insert("cnf".into(), json!({ "jkt": jkt }));
        }
        claims
    }
}
