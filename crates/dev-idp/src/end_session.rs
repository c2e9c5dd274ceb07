//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
//!
//! Ends the provider session and clears its cookie, then returns the
//! browser to a registered post-logout redirect URI (with `state`), or shows
//! a "signed out" page when there is none to go to.
//!
//! Logout is about the cookie only: refresh tokens are independent of the
//! provider session and survive it (as with Auth0). The SPA revokes its own
//! refresh token at the revocation endpoint ([`crate::revoke`]) when it
//! signs out, before it comes here.

use axum::extract::{RawQuery, State};
use axum::http::header::{CACHE_CONTROL, LOCATION, REFERRER_POLICY, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use url::Url;

use crate::error::PageError;
use crate::params::Params;
use crate::session::{self, SESSION_COOKIE};
use crate::state::AppState;
use crate::{html, tokens};

const TITLE: &str = "Invalid sign-out request";

/// `GET` at the end-session endpoint.
pub async fn get(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    handle(&state, &headers, query.as_deref().unwrap_or_default()).await.unwrap_or_else(IntoResponse::into_response)
}

async fn handle(state: &AppState, headers: &HeaderMap, query: &str) -> Result<Response, PageError> {
    let params = Params::parse(query.as_bytes());
    if let Some(name) = params.first_repeated(&["id_token_hint", "post_logout_redirect_uri", "state", "client_id"]) {
        return Err(PageError::bad_request(TITLE, format!("The parameter {name} was sent more than once.")));
    }
    let client_id = state.client().id();
    if let Some(requested) = params.get("client_id")
        && requested != client_id
    {
        return Err(PageError::bad_request(TITLE, format!("Unknown client_id {requested:?}.")));
    }
    if let Some(hint) = params.get("id_token_hint") {
        tokens::verify_id_token_hint(&state.keys(), state.issuer().as_str(), client_id, hint)
            .map_err(|error| PageError::bad_request(TITLE, format!("{error}; nobody was signed out.")))?;
    }

    if let Some(id) = session::read(headers, SESSION_COOKIE) {
        state.store().delete_idp_session(id, state.now()).await?;
        tracing::info!("signed out");
    }
    let clear = session::clear(SESSION_COOKIE, "/", state.secure_cookies());

    let destination = params
        .get("post_logout_redirect_uri")
        .filter(|uri| state.client().has_post_logout_redirect_uri(uri))
        .and_then(|uri| Url::parse(uri).ok());
    let mut response = match destination {
        Some(mut url) => {
            if let Some(state) = params.get("state") {
                url.query_pairs_mut().append_pair("state", state);
            }
            let mut response = StatusCode::FOUND.into_response();
            let headers = response.headers_mut();
            let location = HeaderValue::from_str(url.as_str())
                .map_err(|_| PageError::Internal(format!("unusable post-logout URI {url}")))?;
            headers.insert(LOCATION, location);
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            response
        }
        None => signed_out_page(params.get("post_logout_redirect_uri")),
    };
    response.headers_mut().append(SET_COOKIE, clear);
    Ok(response)
}

/// The page shown when there is nowhere registered to return to.
fn signed_out_page(unregistered: Option<&str>) -> Response {
    let note = match unregistered {
        Some(uri) => format!(
            "<p class=\"error\">The post_logout_redirect_uri {} is not registered, so you stay here.</p>",
            html::escape(&format!("{uri:?}"))
        ),
        None => String::new(),
    };
    let main = format!(
        "<h1 data-testid=\"signed-out\">You are signed out</h1>\
         <p>Your development-provider session has ended. You can close this tab.</p>{note}"
    );
    html::response(StatusCode::OK, html::document("Signed out", &main), &[])
}
