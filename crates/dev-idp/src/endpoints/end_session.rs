//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
//!
//! Ends the provider session and clears its cookie, then returns the
//! browser to a registered post-logout redirect URI (with `state`), or shows
//! a "signed out" page when there is none to go to. An unregistered
//! `post_logout_redirect_uri` is never followed.
//!
//! The request comes as a `GET` with a query or, as the SPA sends it, as a
//! form `POST` (§2 has the OP accept both), which keeps the ID token given
//! as the hint out of URLs and request logs. A `POST` that carries a
//! `csrf_token` is the confirmation form below instead.
//!
//! # Without the cookie
//!
//! A form POST from another site carries no `SameSite=Lax` cookie (the
//! SPA on `localhost` posting to the provider on `127.0.0.1` is such a
//! case), so the provider cannot see the browser's session. A valid hint
//! still names a sign-in (its `sub` and `auth_time`): that sign-in's
//! sessions end, as a provider ends the session an ID token's `sid` names.
//! Holding the user's ID token is what it takes, as it is for a logout
//! without confirmation below.
//!
//! # Asking first
//!
//! Any site can send a browser to `GET /v2/logout` (a link, a redirect, an
//! image), so the request alone does not show that the person wants to
//! sign out (logout CSRF). The session ends at once only when the request
//! carries an `id_token_hint` this provider signed for the client *and for
//! this browser's session*: the session's user (`sub`) and its sign-in
//! (`auth_time`, which every token issued from that session carries, also
//! after a refresh). Otherwise (no hint, or a valid hint of another user or
//! another sign-in) the provider asks, as RP-Initiated Logout 1.0 §2 and §4
//! have the OP ask the End-User whether to log out: a confirmation page
//! whose form POSTs back here with a CSRF token ([`crate::csrf`], bound to
//! the browser's `dev_idp_csrf` cookie and to the form's fields), and that
//! POST ends the session and returns exactly as the GET would have. A
//! browser without a live session has nothing to lose, so its logout
//! answers at once, hint or not.
//!
//! A hint that is not an ID token this provider signed for the client is
//! refused with an error page, and signs nobody out.
//!
//! Logout is about the cookie only: refresh tokens are independent of the
//! provider session and survive it (as with Auth0). The SPA revokes its own
//! refresh token at the revocation endpoint ([`super::revocation`]) when it
//! signs out, before it comes here (with its ID token as the hint).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use url::Url;

use super::{csrf_binding, redirect};
use crate::claims::subject;
use crate::cookies::{self, CSRF_COOKIE};
use crate::csrf::{self, CsrfError, Form};
use crate::error::PageError;
use crate::params::Params;
use crate::provider_session::SignedIn;
use crate::state::AppState;
use crate::{jwt, pages, provider_session};

const TITLE: &str = "Invalid sign-out request";

/// The parameters a logout request must not repeat.
const CHECKED_PARAMS: [&str; 4] = ["id_token_hint", "post_logout_redirect_uri", "state", "client_id"];

/// What the confirmation form carries back, in the order its CSRF token
/// binds them. The hint is not among them: the person's confirmation
/// replaces it.
const FORM_FIELDS: [&str; 3] = ["post_logout_redirect_uri", "state", "client_id"];

/// `GET` at the end-session endpoint.
pub(crate) async fn get(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    handle_get(&state, &headers, query.as_deref().unwrap_or_default()).await.unwrap_or_else(IntoResponse::into_response)
}

/// `POST` at the end-session endpoint: the logout request as a form, or the
/// confirmation form (which carries a `csrf_token`).
pub(crate) async fn post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let params = Params::parse(&body);
    let reply = if params.get("csrf_token").is_some() {
        handle_confirmation(&state, &headers, &params).await
    } else {
        handle_request(&state, &headers, &params, StatusCode::SEE_OTHER).await
    };
    reply.unwrap_or_else(IntoResponse::into_response)
}

async fn handle_get(state: &AppState, headers: &HeaderMap, query: &str) -> Result<Response, PageError> {
    handle_request(state, headers, &Params::parse(query.as_bytes()), StatusCode::FOUND).await
}

/// The logout request, by either method; `status` is the redirect's that
/// ends it (`303 See Other` after a POST, so the browser GETs the SPA).
async fn handle_request(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    status: StatusCode,
) -> Result<Response, PageError> {
    check_params(state, params)?;
    let hint = match params.get("id_token_hint") {
        Some(hint) => Some(
            jwt::verify_id_token_hint(&state.keys(), state.issuer().as_str(), state.client().id(), hint)
                .map_err(|error| PageError::bad_request(TITLE, format!("{error}; nobody was signed out.")))?,
        ),
        None => None,
    };
    match provider_session::current(state, headers).await? {
        Some(signed_in) if !hint.as_ref().is_some_and(|claims| is_for_session(claims, &signed_in)) => {
            tracing::info!(user = %signed_in.user.username, "logout without a hint for this session: asking first");
            return Ok(confirmation(state, headers, params, &signed_in));
        }
        Some(_) => {}
        None => {
            if let Some(claims) = &hint {
                end_hinted_sign_in(state, claims).await?;
            }
        }
    }
    sign_out(state, headers, params, status).await
}

/// Ends the sessions of the sign-in verified hint `claims` name (their
/// `sub` and `auth_time`), for a request that carries no session cookie.
async fn end_hinted_sign_in(state: &AppState, claims: &Map<String, Value>) -> Result<(), PageError> {
    let user_id = claims.get("sub").and_then(Value::as_str).and_then(store::store_user_id);
    let auth_time = claims.get("auth_time").and_then(Value::as_i64);
    if let (Some(user_id), Some(auth_time)) = (user_id, auth_time) {
        let ended = state.store().delete_idp_sessions_of_sign_in(user_id, auth_time, state.now()).await?;
        tracing::info!(ended, "logout without the session cookie: ended the sign-in its hint names");
    }
    Ok(())
}

async fn handle_confirmation(state: &AppState, headers: &HeaderMap, params: &Params) -> Result<Response, PageError> {
    if params.is_repeated("csrf_token") {
        return Err(PageError::bad_request(TITLE, "The parameter csrf_token was sent more than once."));
    }
    check_params(state, params)?;
    csrf::verify(
        state.csrf_key(),
        Form::SignOut,
        params.get("csrf_token"),
        cookies::read(headers, CSRF_COOKIE),
        &form_fields(params),
        state.now(),
    )
    .map_err(|error: CsrfError| PageError::Forbidden {
        title: "Sign-out form expired",
        message: format!("{error}; nobody was signed out. Return to the application and sign out again."),
    })?;
    sign_out(state, headers, params, StatusCode::SEE_OTHER).await
}

/// Refuses repeated parameters and another client's `client_id`.
fn check_params(state: &AppState, params: &Params) -> Result<(), PageError> {
    if let Some(name) = params.first_repeated(CHECKED_PARAMS) {
        return Err(PageError::bad_request(TITLE, format!("The parameter {name} was sent more than once.")));
    }
    if let Some(requested) = params.get("client_id")
        && requested != state.client().id()
    {
        return Err(PageError::bad_request(TITLE, format!("Unknown client_id {requested:?}.")));
    }
    Ok(())
}

/// Whether verified hint `claims` name the sign-in of `signed_in`: the
/// same user and the same `auth_time`.
fn is_for_session(claims: &Map<String, Value>, signed_in: &SignedIn) -> bool {
    claims.get("sub").and_then(Value::as_str) == Some(subject(&signed_in.user).as_str())
        && claims.get("auth_time").and_then(Value::as_i64) == Some(signed_in.session.auth_time)
}

/// The values of [`FORM_FIELDS`] in `params`.
fn form_fields(params: &Params) -> [Option<&str>; 3] {
    FORM_FIELDS.map(|name| params.get(name))
}

/// The registered post-logout redirect URI `params` names, if any.
fn destination(state: &AppState, params: &Params) -> Option<Url> {
    params
        .get("post_logout_redirect_uri")
        .filter(|uri| state.client().has_post_logout_redirect_uri(uri))
        .and_then(|uri| Url::parse(uri).ok())
}

/// The confirmation page, with a CSRF token for its form.
fn confirmation(state: &AppState, headers: &HeaderMap, params: &Params, signed_in: &SignedIn) -> Response {
    let (binding, cookie) = csrf_binding(state, headers);
    let fields = form_fields(params);
    let token = csrf::issue(state.csrf_key(), Form::SignOut, &binding, &fields, state.now());
    let mut hidden: Vec<(&str, &str)> =
        FORM_FIELDS.iter().zip(fields).filter_map(|(name, value)| value.map(|v| (*name, v))).collect();
    hidden.push(("csrf_token", &token));
    let return_origin = destination(state, params).map(|url| url.origin().ascii_serialization());
    let mut response =
        pages::confirm_sign_out_page(&signed_in.user.name, &signed_in.user.username, &hidden, return_origin.as_deref());
    response.headers_mut().append(SET_COOKIE, cookie);
    response
}

/// Ends the session and returns to the registered URI (`status` is the
/// redirect's), or shows the signed-out page.
async fn sign_out(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    status: StatusCode,
) -> Result<Response, PageError> {
    let clear = provider_session::end(state, headers).await?;
    let mut response = match destination(state, params) {
        Some(mut url) => {
            if let Some(state) = params.get("state") {
                url.query_pairs_mut().append_pair("state", state);
            }
            redirect(status, url.as_str())
        }
        None => pages::signed_out_page(params.get("post_logout_redirect_uri")),
    };
    response.headers_mut().append(SET_COOKIE, clear);
    Ok(response)
}
