//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
//!
//! Ends the provider session and clears its cookie, then returns the
//! browser to a registered post-logout redirect URI (with `state`), or shows
//! a "signed out" page when there is none to go to.
//!
//! Logout is about the cookie only: refresh tokens are independent of the
//! provider session and survive it (as with Auth0). The SPA revokes its own
//! refresh token at the revocation endpoint ([`super::revocation`]) when it
//! signs out, before it comes here.

use axum::extract::{RawQuery, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use url::Url;

use super::redirect;
use crate::error::PageError;
use crate::params::Params;
use crate::state::AppState;
use crate::{jwt, pages, provider_session};

const TITLE: &str = "Invalid sign-out request";

/// The parameters a logout request must not repeat.
const CHECKED_PARAMS: [&str; 4] = ["id_token_hint", "post_logout_redirect_uri", "state", "client_id"];

/// `GET` at the end-session endpoint.
pub(crate) async fn get(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    handle(&state, &headers, query.as_deref().unwrap_or_default()).await.unwrap_or_else(IntoResponse::into_response)
}

async fn handle(state: &AppState, headers: &HeaderMap, query: &str) -> Result<Response, PageError> {
    let params = Params::parse(query.as_bytes());
    if let Some(name) = params.first_repeated(CHECKED_PARAMS) {
        return Err(PageError::bad_request(TITLE, format!("The parameter {name} was sent more than once.")));
    }
    let client_id = state.client().id();
    if let Some(requested) = params.get("client_id")
        && requested != client_id
    {
        return Err(PageError::bad_request(TITLE, format!("Unknown client_id {requested:?}.")));
    }
    if let Some(hint) = params.get("id_token_hint") {
        jwt::verify_id_token_hint(&state.keys(), state.issuer().as_str(), client_id, hint)
            .map_err(|error| PageError::bad_request(TITLE, format!("{error}; nobody was signed out.")))?;
    }

    let clear = provider_session::end(state, headers).await?;
    let destination = params
        .get("post_logout_redirect_uri")
        .filter(|uri| state.client().has_post_logout_redirect_uri(uri))
        .and_then(|uri| Url::parse(uri).ok());
    let mut response = match destination {
        Some(mut url) => {
            if let Some(state) = params.get("state") {
                url.query_pairs_mut().append_pair("state", state);
            }
            redirect(StatusCode::FOUND, url.as_str())
        }
        None => pages::signed_out_page(params.get("post_logout_redirect_uri")),
    };
    response.headers_mut().append(SET_COOKIE, clear);
    Ok(response)
}
