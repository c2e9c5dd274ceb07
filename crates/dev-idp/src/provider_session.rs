//! The provider session (SSO): started when someone signs in on the
//! sign-in page, found again by its cookie on later authorization requests
//! (silent sign-in), and ended at RP-initiated logout.
//!
//! Sessions live in the shared store, so they survive a restart; the
//! browser holds only their random id, in [`SESSION_COOKIE`].

use axum::http::{HeaderMap, HeaderValue};
use store::{IdpSession, StoreError, User};

use crate::cookies::{self, SESSION_COOKIE};
use crate::random;
use crate::state::AppState;

/// Random bytes in a session id.
const SESSION_ID_BYTES: usize = 32;

/// A live provider session and its user.
#[derive(Debug, Clone)]
pub(crate) struct SignedIn {
    pub(crate) session: IdpSession,
    pub(crate) user: User,
}

/// The provider session of this request, if it carries a live one whose
/// user still exists.
pub(crate) async fn current(state: &AppState, headers: &HeaderMap) -> Result<Option<SignedIn>, StoreError> {
    let Some(id) = cookies::read(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(session) = state.store().idp_session(id, state.now()).await? else {
        return Ok(None);
    };
    Ok(state.store().user_by_id(session.user_id).await?.map(|user| SignedIn { session, user }))
}

/// Signs `user` in now, replacing whatever session this browser had;
/// returns the session and the `Set-Cookie` value that hands it over.
pub(crate) async fn start(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
) -> Result<(IdpSession, HeaderValue), StoreError> {
    let now = state.now();
    if let Some(old) = cookies::read(headers, SESSION_COOKIE) {
        state.store().delete_idp_session(old, now).await?;
    }
    let ttl = state.settings().session_ttl.as_secs();
    let session = IdpSession {
        id: random::token(SESSION_ID_BYTES),
        user_id: user.id,
        auth_time: now,
        expires_at: now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX)),
    };
    state.store().create_idp_session(&session).await?;
    let cookie = cookies::set(SESSION_COOKIE, &session.id, ttl, state.secure_cookies());
    Ok((session, cookie))
}

/// Ends the session this request carries, if any; returns the `Set-Cookie`
/// value that deletes the cookie, which is sent either way.
pub(crate) async fn end(state: &AppState, headers: &HeaderMap) -> Result<HeaderValue, StoreError> {
    if let Some(id) = cookies::read(headers, SESSION_COOKIE) {
        state.store().delete_idp_session(id, state.now()).await?;
        tracing::info!("signed out");
    }
    Ok(cookies::clear(SESSION_COOKIE, state.secure_cookies()))
}
