//! The authorization endpoint (RFC 6749 §4.1, OpenID Connect Core §3.1.2).
//!
//! `GET /authorize` validates the request and then either answers at once
//! (a live provider session, or `prompt=none`) or shows the sign-in page.
//! `POST /authorize` is that page's form: it validates the request again
//! from scratch, checks the CSRF token, and signs the chosen user in.
//!
//! How the request is checked, and which failures are pages rather than
//! redirects, is [`request`]'s job; this module answers it.

mod request;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use self::request::{
    AuthorizationRequest, AuthorizeError, FORM_FIELDS, Prompt, Target, form_fields, validate_request, validate_target,
};
use super::{csrf_binding, redirect};
use crate::authorization_codes::CodeGrant;
use crate::cookies::{self, CSRF_COOKIE};
use crate::csrf::{self, CsrfError, Form};
use crate::error::PageError;
use crate::pages::{self, UserChoice};
use crate::params::Params;
use crate::provider_session::{self, SignedIn};
use crate::state::AppState;

/// Issues a code for `user_id` and returns the success redirect.
fn issue_code(
    state: &AppState,
    target: &Target,
    request: &AuthorizationRequest,
    user_id: i64,
    auth_time: i64,
) -> Result<Response, AuthorizeError> {
    let now = state.now();
    let grant = CodeGrant {
        client_id: state.client().id().to_owned(),
        redirect_uri: target.registered.clone(),
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        user_id,
        scope: request.granted_scopes.join(" "),
        audience: request.audience.clone(),
        auth_time,
        expires_at: now + state.settings().code_ttl.as_secs() as i64,
        dpop_jkt: request.dpop_jkt.clone(),
    };
    let code = state
        .codes()
        .issue(grant, now)
        .map_err(|_| target.error("temporarily_unavailable", "too many sign-ins in flight; try again in a minute"))?;
    Ok(redirect(target.status, &target.location(&[("code", &code)])))
}

/// `GET /authorize`.
pub(crate) async fn get(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    handle_get(&state, &headers, query.as_deref().unwrap_or_default()).await.unwrap_or_else(IntoResponse::into_response)
}

async fn handle_get(state: &AppState, headers: &HeaderMap, query: &str) -> Result<Response, AuthorizeError> {
    let params = Params::parse(query.as_bytes());
    let target = validate_target(state, &params, StatusCode::FOUND)?;
    let request = validate_request(&params, &target)?;
    let now = state.now();
    // A session older than max_age does not count (OpenID Connect Core §3.1.2.1).
    let signed_in = provider_session::current(state, headers)
        .await?
        .filter(|s| request.max_age.is_none_or(|max_age| now - s.session.auth_time <= max_age));
    match (request.prompt, signed_in) {
        (Prompt::None | Prompt::Default, Some(SignedIn { session, user })) => {
            tracing::info!(user = %user.username, "signed in silently with the provider session");
            issue_code(state, &target, &request, user.id, session.auth_time)
        }
        (Prompt::None, None) => Err(target.error("login_required", "the user is not signed in to the provider")),
        (Prompt::Login | Prompt::Default, _) => sign_in_page(state, headers, &params, &target).await,
    }
}

/// Renders the sign-in page for this request.
async fn sign_in_page(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    target: &Target,
) -> Result<Response, AuthorizeError> {
    let mut users = Vec::new();
    for user in state.store().all_users().await? {
        let roles = state.store().user_roles(user.id).await?;
        users.push(UserChoice { username: user.username, name: user.name, roles });
    }
    let (binding, cookie) = csrf_binding(state, headers);
    let fields = form_fields(params);
    let token = csrf::issue(state.csrf_key(), Form::SignIn, &binding, &fields, state.now());
    let mut hidden: Vec<(&str, &str)> =
        FORM_FIELDS.iter().zip(fields).filter_map(|(name, value)| value.map(|v| (*name, v))).collect();
    hidden.push(("csrf_token", &token));
    let mut response = pages::sign_in_page(&users, &hidden, &target.origin());
    response.headers_mut().append(SET_COOKIE, cookie);
    Ok(response)
}

/// `POST /authorize`: the sign-in form.
pub(crate) async fn post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    handle_post(&state, &headers, &body).await.unwrap_or_else(IntoResponse::into_response)
}

async fn handle_post(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, AuthorizeError> {
    let params = Params::parse(body);
    let target = validate_target(state, &params, StatusCode::SEE_OTHER)?;
    csrf::verify(
        state.csrf_key(),
        Form::SignIn,
        params.get("csrf_token"),
        cookies::read(headers, CSRF_COOKIE),
        &form_fields(&params),
        state.now(),
    )
    .map_err(|error: CsrfError| PageError::Forbidden {
        title: "Sign-in form expired",
        message: format!("{error}. Return to the application and sign in again."),
    })?;
    // The hidden fields were validated on GET, but nothing a browser sends
    // back is trusted: validate them again.
    let request = validate_request(&params, &target)?;
    if params.get("cancel").is_some() {
        return Err(target.error("access_denied", "the user cancelled the sign-in"));
    }
    if params.is_repeated("username") {
        return Err(PageError::bad_request("Invalid sign-in", "More than one user was chosen.").into());
    }
    let username =
        params.get("username").ok_or_else(|| PageError::bad_request("Invalid sign-in", "No user was chosen."))?;
    let user = state
        .store()
        .user_by_username(username)
        .await?
        .ok_or_else(|| PageError::bad_request("Invalid sign-in", format!("There is no user {username:?}.")))?;

    // Signing in replaces whatever session this browser had.
    let (session, cookie) = provider_session::start(state, headers, &user).await?;
    tracing::info!(user = %user.username, "signed in");
    let mut response = issue_code(state, &target, &request, user.id, session.auth_time)?;
    response.headers_mut().append(SET_COOKIE, cookie);
    Ok(response)
}
