//! Signed-in auth states for the SPA's browser tests and the `<Can>` bench
//! page (bench/can includes this file by path): an ID token's claims as the
//! login module would have verified them, without a provider.
//!
//! Only tests and the bench build it; nothing here verifies anything.

use oidc_login::Session;
use oidc_login::id_token::IdToken;
use permission_spa::auth::AuthState;
use permissions::names::PERMISSIONS_CLAIM;
use serde_json::{Value, json};

/// A signed-in state whose ID token carries `extra` claims beside a subject and a name.
pub(crate) fn signed_in_with(extra: Value) -> AuthState {
    let mut claims = json!({ "sub": "u1", "name": "Jhon Smith" });
    if let (Some(claims), Value::Object(extra)) = (claims.as_object_mut(), extra) {
        claims.extend(extra);
    }
    AuthState::SignedIn(Session {
        id_token: IdToken { raw: "h.p.s".into(), claims, subject: "u1".into(), expires_at: i64::MAX },
        access_token: "at".into(),
        access_token_received_at: 0,
        access_token_expires_at: i64::MAX,
        dpop: None,
    })
}

/// A signed-in state whose permissions claim holds `permissions`.
pub(crate) fn session(permissions: Value) -> AuthState {
    signed_in_with(json!({ PERMISSIONS_CLAIM: permissions }))
}
