//! Refresh tokens (RFC 6749 §6): issued, rotated on every use, revoked.
//!
//! A sign-in whose granted scope includes `offline_access` starts a
//! *family*: its code exchange returns a refresh token, 32 random bytes in
//! base64url. Each `grant_type=refresh_token` request marks the presented
//! token used and returns its successor, of the same family, with fresh
//! access and ID tokens. The family keeps the sign-in's user, client, scope,
//! audience and `auth_time`, and its absolute end
//! ([`Settings::refresh_token_ttl`](crate::Settings), a day by default,
//! counted from the sign-in); a token unused for
//! [`Settings::refresh_idle_ttl`](crate::Settings) (eight hours) is dead.
//!
//! Only a SHA-256 hash of each token is stored (see the store's
//! `refresh_tokens` table), so the database holds nothing that can be
//! presented. Tokens are independent of the provider session: signing out
//! at the end-session endpoint leaves them alone, and the SPA revokes its
//! token itself at sign-out, at the revocation endpoint (`endpoints::revocation`).
//! A family is also revoked when the authorization code whose exchange
//! started it is presented again (RFC 6749 §4.1.2, see
//! `authorization_codes`): one of the two presenters was not the client.
//!
//! # Reuse detection
//!
//! A refresh token is single-use (OAuth 2.1, RFC 9700 §4.14.2). Presenting
//! one that was already rotated means two parties hold the family (a thief
//! and the SPA, in some order), so the whole family is revoked, the newest
//! token included, and the request gets `invalid_grant`. The decision and
//! its writes are one `BEGIN IMMEDIATE` transaction
//! ([`store::Store::rotate_refresh_token`]), so two concurrent presentations
//! of one token cannot both rotate it: one wins, the other is reuse.
//!
//! Because a rotation makes the presented token spent, it is the last step
//! of a refresh that can fail: the token endpoint reads and signs the
//! whole response first (with the new token, `Minted`, for it) and rotates
//! after. A refresh answered with an error therefore never rotated
//! anything, and the client may simply try again with the same token.
//!
//! # The reuse interval
//!
//! A response can be lost in flight: the token was rotated, but the client
//! never saw its successor and presents the old token again. With a reuse
//! interval of `R` seconds (`--refresh-reuse-interval`, default 0, as Auth0
//! offers), a token rotated at time `u` and presented again at time `t`,
//! by the provider's clock in whole seconds, is answered like this:
//!
//! - if `t < u + R`: a new token set is issued, with a new refresh token of
//!   the same family. Nothing is revoked: the successor issued at `u` (and
//!   any issued since) stays valid, each still single-use. The window stays
//!   anchored at `u`, the first rotation: presenting the old token again
//!   does not extend it, and every presentation within it gets its own new
//!   refresh token.
//! - if `t >= u + R`: reuse, and the family is revoked as above.
//!
//! With `R = 0` (the default) every second presentation revokes. A revoked
//! or expired family is refused whatever the interval.
//!
//! # DPoP binding
//!
//! A refresh token issued in answer to a request with a DPoP proof is
//! bound to the proof's key (RFC 9449 §5: this client is public, so its
//! refresh tokens must be): the store keeps the key's thumbprint with the
//! token, every successor inherits it, and a refresh must prove the same
//! key. A family issued without a proof becomes bound at its first refresh
//! that carries one (that refresh's answer is a DPoP answer too), and is
//! never unbound again.
//!
//! A bound token presented without a proof, or with one by another key, is
//! refused with `invalid_grant`, and *nothing changes*: the token is not
//! rotated, and even a token rotated before is not treated as reuse, so
//! the family is not revoked. Reuse detection exists because a refresh
//! token alone is enough to use the family, so a second presenter may be a
//! thief; a bound token alone is not, and someone who presents one without
//! its key has shown only that they copied it. Revoking on that evidence
//! would hand anyone who can read the token (but not use the
//! non-extractable key) a way to sign the user out, the very harm the
//! binding is meant to prevent. A rotated token presented *with* the key is
//! reuse as before: whoever holds the key can use the family. (A defective
//! proof never gets this far: the token endpoint refuses it as
//! `invalid_dpop_proof` first.)

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use store::{RefreshRefusal, RefreshToken, Revocation, Rotation, RotationOutcome};

use crate::authorization_codes::{CodeGrant, IssuedRefreshToken};
use crate::error::TokenError;
use crate::random;
use crate::state::AppState;

/// Random bytes in a refresh token.
pub(crate) const TOKEN_BYTES: usize = 32;
/// Random bytes in a family id (an identifier, not a credential).
const FAMILY_ID_BYTES: usize = 16;

/// What is stored in place of a token: base64url of its SHA-256 digest.
/// A plain hash suffices: the token is 256 random bits, so there is nothing
/// to guess and no need for a salt or a slow hash.
pub fn hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// A freshly minted token and its hash.
fn mint() -> (String, String) {
    let token = random::token(TOKEN_BYTES);
    let hash = hash(&token);
    (token, hash)
}

/// A token minted before it is stored: the token endpoint builds and signs
/// the response that carries it first, and stores it ([`start_family`],
/// [`rotate`]) as the last step that can fail.
#[derive(Debug)]
pub(crate) struct Minted {
    pub(crate) token: String,
    hash: String,
}

impl Minted {
    pub(crate) fn mint() -> Minted {
        let (token, hash) = mint();
        Minted { token, hash }
    }
}

/// Starts a family for the sign-in behind `grant`, with `first` as its
/// first token, bound to the DPoP key `dpop_jkt` if the exchange proved
/// one; returns what the code store remembers of it, so that a reuse of
/// the code can revoke the family.
pub(crate) async fn start_family(
    state: &AppState,
    grant: &CodeGrant,
    first: &Minted,
    dpop_jkt: Option<&str>,
) -> Result<IssuedRefreshToken, TokenError> {
    let now = state.now();
    let settings = state.settings();
    let expires_at = now.saturating_add(secs(settings.refresh_token_ttl));
    let record = RefreshToken {
        token_hash: first.hash.clone(),
        family_id: random::token(FAMILY_ID_BYTES),
        user_id: grant.user_id,
        client_id: grant.client_id.clone(),
        scope: grant.scope.clone(),
        audience: grant.audience.clone(),
        auth_time: grant.auth_time,
        created_at: now,
        expires_at,
        idle_expires_at: now.saturating_add(secs(settings.refresh_idle_ttl)).min(expires_at),
        used_at: None,
        revoked_at: None,
        dpop_jkt: dpop_jkt.map(str::to_owned),
    };
    state.store().insert_refresh_token(&record).await?;
    tracing::info!(family = %record.family_id, "started a refresh-token family");
    Ok(IssuedRefreshToken { token_hash: record.token_hash, client_id: record.client_id })
}

/// Rotates the token whose hash is `presented_hash`, presented by
/// `client_id` with a proof of the DPoP key `dpop_jkt` (if any), storing
/// `successor` in its place; returns the successor's stored record. Every
/// refusal is `invalid_grant` (RFC 6749 §5.2).
///
/// This is one transaction, and the token endpoint makes it the last step
/// of a refresh that can fail: once it has committed, the presented token
/// is used, so a response lost to a later error would make the client's
/// honest retry look like reuse and revoke the family.
pub(crate) async fn rotate(
    state: &AppState,
    presented_hash: &str,
    client_id: &str,
    successor: &Minted,
    dpop_jkt: Option<&str>,
) -> Result<RefreshToken, TokenError> {
    let settings = state.settings();
    let rotation = Rotation {
        presented_hash,
        client_id,
        successor_hash: &successor.hash,
        now: state.now(),
        idle_ttl_secs: secs(settings.refresh_idle_ttl),
        reuse_interval_secs: secs(settings.refresh_reuse_interval),
        dpop_jkt,
    };
    match state.store().rotate_refresh_token(&rotation).await? {
        RotationOutcome::Rotated(record) => Ok(record),
        RotationOutcome::ReissuedWithinReuseInterval(record) => {
            tracing::info!(family = %record.family_id, "a rotated refresh token was presented again within the reuse interval");
            Ok(record)
        }
        RotationOutcome::ReuseDetected { family_id, revoked } => {
            tracing::warn!(family = %family_id, revoked, "refresh token reuse detected: the family is revoked");
            Err(TokenError::InvalidGrant(
                "the refresh token was already used; its whole family is now revoked (sign in again)".into(),
            ))
        }
        RotationOutcome::Refused(reason) => Err(TokenError::InvalidGrant(
            match reason {
                RefreshRefusal::Unknown => "the refresh token is unknown",
                RefreshRefusal::OtherClient => "the refresh token was issued to another client",
                RefreshRefusal::Revoked => "the refresh token has been revoked",
                RefreshRefusal::Expired => "the refresh token has expired",
                RefreshRefusal::OtherKey => {
                    "the refresh token is bound to a DPoP key the request did not prove it holds"
                }
            }
            .into(),
        )),
    }
}

/// Revokes the family of `token` for `client_id` (RFC 7009 §2.1). An
/// unknown token is not an error (RFC 7009 §2.2: the client's goal, that
/// the token be unusable, is met); a token of another client is refused.
pub(crate) async fn revoke(state: &AppState, token: &str, client_id: &str) -> Result<(), TokenError> {
    revoke_hash(state, &hash(token), client_id).await
}

/// Revokes the family of a refresh token an authorization code's exchange
/// issued, because the code was presented again (RFC 6749 §4.1.2).
pub(crate) async fn revoke_issued_with_reused_code(
    state: &AppState,
    issued: &IssuedRefreshToken,
) -> Result<(), TokenError> {
    tracing::warn!("an authorization code was presented again: revoking the refresh tokens its exchange issued");
    revoke_hash(state, &issued.token_hash, &issued.client_id).await
}

async fn revoke_hash(state: &AppState, token_hash: &str, client_id: &str) -> Result<(), TokenError> {
    match state.store().revoke_refresh_token_family(token_hash, client_id, state.now()).await? {
        Revocation::Unknown => {
            tracing::info!("revocation of an unknown token: nothing to do");
            Ok(())
        }
        Revocation::OtherClient => {
            Err(TokenError::InvalidGrant("the token was issued to another client, which alone may revoke it".into()))
        }
        Revocation::Revoked { family_id, revoked } => {
            tracing::info!(family = %family_id, revoked, "revoked a refresh-token family");
            Ok(())
        }
    }
}

/// Whole seconds of a lifetime, as the store counts them.
fn secs(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_32_random_bytes_and_only_their_hash_is_kept() {
        let (token, token_hash) = mint();
        assert_eq!(URL_SAFE_NO_PAD.decode(&token).unwrap().len(), TOKEN_BYTES);
        assert_eq!(token_hash, hash(&token));
        assert_ne!(token_hash, token);
        assert_eq!(URL_SAFE_NO_PAD.decode(&token_hash).unwrap().len(), 32);
        // SHA-256("abc"), FIPS 180-2 appendix B.1, in base64url.
        assert_eq!(hash("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
        assert_ne!(mint().0, token);
    }
}
