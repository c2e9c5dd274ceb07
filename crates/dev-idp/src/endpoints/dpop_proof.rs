//! The DPoP proof of a token request (RFC 9449 §5): checked before the
//! grant, and the key it proves becomes the binding of what is issued.
//!
//! A request may carry one `DPoP` header. Its proof must name this request
//! (`htm` POST, `htu` the token endpoint's URL as discovery advertises it,
//! `{issuer}/oauth/token`), be fresh (the crate's default [`Window`]), carry
//! the server's current nonce when `--dpop-nonce` asks for one, and not have
//! been seen before (its `jti`, per key, in the [`dpop::ReplayCache`] of
//! [`AppState`]). There is no `ath` at the token endpoint: there is no
//! access token yet. What passes is the key's thumbprint; the token
//! endpoint binds the access token to it (`cnf.jkt`), answers
//! `token_type: DPoP`, and binds the refresh token (see
//! [`crate::refresh_tokens`]).
//!
//! Without a header the request is a Bearer request, unless
//! `--require-dpop` says every request must prove a key. The two failures
//! are `invalid_dpop_proof` and `use_dpop_nonce` (both 400; the token
//! endpoint puts the nonce to retry with in `DPoP-Nonce`).
//!
//! The proof is judged first, before the grant: with `--dpop-nonce` a
//! client's first request is normally refused for want of the nonce, and
//! its retry must find the authorization code unspent and the refresh
//! token unrotated.

use axum::http::{HeaderMap, HeaderValue};
use dpop::{DPOP_HEADER, Expected, ProofError, Window};

use super::TOKEN_PATH;
use crate::error::TokenError;
use crate::state::AppState;

/// The thumbprint (RFC 7638) of the key the request's DPoP proof proves it
/// holds; `None` for a request without a proof, where one is not required.
pub(super) fn proven_key(state: &AppState, headers: &HeaderMap) -> Result<Option<String>, TokenError> {
    let values = headers.get_all(DPOP_HEADER).iter().map(HeaderValue::as_bytes);
    let Some(proof) = dpop::single_proof(values).map_err(refused)? else {
        if state.settings().require_dpop {
            return Err(TokenError::InvalidDpopProof(
                "this provider requires DPoP (--require-dpop): the request has no DPoP proof header".into(),
            ));
        }
        return Ok(None);
    };
    // The URL the client was told (discovery's `token_endpoint`), not the
    // one this request arrived at: behind a proxy the two differ, and the
    // client can only have signed the former.
    let htu = state.issuer().endpoint(TOKEN_PATH);
    let now = u64::try_from(state.now()).unwrap_or(0);
    let expected = Expected {
        htm: "POST",
        htus: &[&htu],
        access_token: None,
        nonce: state.settings().dpop_nonce.then(|| state.dpop_nonces()),
        now,
    };
    let proof = dpop::verify(proof, &expected, &Window::default()).map_err(refused)?;
    // Last, so that only proofs valid in every other way take a place.
    state.dpop_replay_cache().check_and_insert(&proof.jkt, &proof.jti, now).map_err(refused)?;
    Ok(Some(proof.jkt))
}

/// The token endpoint's error for a refused proof.
fn refused(error: ProofError) -> TokenError {
    let description = error.description().to_owned();
    match error {
        ProofError::UseNonce => TokenError::UseDpopNonce(description),
        _ => TokenError::InvalidDpopProof(description),
    }
}

/// The nonce to hand out now, when the provider requires nonces.
pub(super) fn current_nonce(state: &AppState) -> Option<String> {
    let now = u64::try_from(state.now()).unwrap_or(0);
    state.settings().dpop_nonce.then(|| state.dpop_nonces().current(now))
}
