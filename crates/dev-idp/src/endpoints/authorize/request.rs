//! The authorization request: checked in two steps, because the first
//! decides how the second may fail.
//!
//! [`validate_target`] checks `client_id` and `redirect_uri`; until they are
//! known good, errors are HTML pages, since redirecting to an unregistered
//! URI would make the provider an open redirector (RFC 6749 §4.1.2.1).
//! [`validate_request`] checks the rest, and its errors go back to the
//! client as redirects carrying `error`, `error_description`, `state` and
//! `iss` (RFC 9207).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use permissions::names::{API_AUDIENCE, CLIENT_ID};
use url::Url;

use crate::error::PageError;
use crate::params::Params;
use crate::pkce;
use crate::scopes::{self, OPENID};
use crate::state::AppState;

/// The parameters the sign-in form carries back, in a fixed order (the CSRF
/// token binds exactly these).
pub(super) const FORM_FIELDS: [&str; 11] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "audience",
    "dpop_jkt",
];

/// Parameters of the GET request that the sign-in form does not carry back:
/// they decide whether the page is shown at all.
const GET_ONLY_PARAMS: [&str; 2] = ["prompt", "max_age"];

/// Parameters that must not be repeated, and whose length is bounded.
fn checked_params() -> impl Iterator<Item = &'static str> {
    FORM_FIELDS.into_iter().chain(GET_ONLY_PARAMS)
}

/// Longest accepted parameter value; generous for `state` and `nonce`, and
/// small enough that a sign-in form stays a sensible size.
const MAX_PARAM_LEN: usize = 2048;

/// An authorization request that cannot proceed.
#[derive(Debug)]
pub(super) enum AuthorizeError {
    /// Answered with an HTML page, never a redirect.
    Page(PageError),
    /// Answered by redirecting to the client's registered redirect URI.
    Redirect { location: String, status: StatusCode, error: &'static str, description: String },
}

/// Whatever becomes an error page (a store failure, say) is answered as one.
impl<E> From<E> for AuthorizeError
where
    PageError: From<E>,
{
    fn from(error: E) -> Self {
        AuthorizeError::Page(error.into())
    }
}

impl IntoResponse for AuthorizeError {
    fn into_response(self) -> Response {
        match self {
            AuthorizeError::Page(page) => page.into_response(),
            AuthorizeError::Redirect { location, status, error, description } => {
                tracing::info!(error, %description, "authorization request refused");
                super::super::redirect(status, &location)
            }
        }
    }
}

/// Keeps an `error_description` within the characters RFC 6749 §4.1.2.1
/// allows (printable ASCII except `"` and `\`).
fn oauth_description(text: &str) -> String {
    text.chars().map(|c| if matches!(c, ' '..='~') && c != '"' && c != '\\' { c } else { '?' }).collect()
}

/// Where the answer to a request goes: known good once this exists.
#[derive(Debug, Clone)]
pub(super) struct Target {
    /// The redirect URI exactly as sent (and registered).
    pub(super) registered: String,
    redirect_uri: Url,
    state: Option<String>,
    issuer: String,
    /// 302 answers a GET; 303 turns the sign-in POST into a GET.
    pub(super) status: StatusCode,
}

impl Target {
    /// The redirect URI with `pairs`, then `state` and `iss`, appended.
    pub(super) fn location(&self, pairs: &[(&str, &str)]) -> String {
        let mut url = self.redirect_uri.clone();
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in pairs {
                query.append_pair(name, value);
            }
            if let Some(state) = &self.state {
                query.append_pair("state", state);
            }
            query.append_pair("iss", &self.issuer);
        }
        url.into()
    }

    pub(super) fn error(&self, error: &'static str, description: impl Into<String>) -> AuthorizeError {
        let description = oauth_description(&description.into());
        let location = self.location(&[("error", error), ("error_description", &description)]);
        AuthorizeError::Redirect { location, status: self.status, error, description }
    }

    pub(super) fn origin(&self) -> String {
        self.redirect_uri.origin().ascii_serialization()
    }
}

/// The `prompt` parameter, reduced to what changes behaviour here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prompt {
    /// No prompt: reuse a live session (SSO), else show the sign-in page.
    Default,
    /// `none`: answer without any page, or fail with `login_required`.
    None,
    /// `login` or `select_account`: always show the sign-in page.
    Login,
}

/// A fully validated authorization request.
#[derive(Debug, Clone)]
pub(super) struct AuthorizationRequest {
    pub(super) granted_scopes: Vec<&'static str>,
    pub(super) nonce: Option<String>,
    pub(super) code_challenge: String,
    pub(super) audience: Option<String>,
    /// The thumbprint of the DPoP key the code is bound to (RFC 9449 §10).
    pub(super) dpop_jkt: Option<String>,
    pub(super) prompt: Prompt,
    /// The oldest provider session that still counts, in seconds.
    pub(super) max_age: Option<i64>,
}

/// Checks `client_id` and `redirect_uri`; failures are pages, not redirects.
pub(super) fn validate_target(state: &AppState, params: &Params, status: StatusCode) -> Result<Target, PageError> {
    const TITLE: &str = "Invalid sign-in request";
    for name in ["client_id", "redirect_uri"] {
        if params.is_repeated(name) {
            return Err(PageError::bad_request(TITLE, format!("The parameter {name} was sent more than once.")));
        }
    }
    let client_id =
        params.get("client_id").ok_or_else(|| PageError::bad_request(TITLE, "The request has no client_id."))?;
    if client_id != state.client().id() {
        return Err(PageError::bad_request(
            TITLE,
            format!("Unknown client_id {client_id:?}; the only client is {CLIENT_ID:?}."),
        ));
    }
    let redirect_uri =
        params.get("redirect_uri").ok_or_else(|| PageError::bad_request(TITLE, "The request has no redirect_uri."))?;
    if !state.client().has_redirect_uri(redirect_uri) {
        return Err(PageError::bad_request(
            TITLE,
            format!(
                "The redirect_uri {redirect_uri:?} is not registered for {CLIENT_ID}. Registered: {}. \
                 Start dev-idp with --spa-origin for the SPA's origin.",
                state.client().redirect_uris().join(", ")
            ),
        ));
    }
    let url = Url::parse(redirect_uri).map_err(|e| PageError::Internal(format!("registered URI: {e}")))?;
    Ok(Target {
        registered: redirect_uri.to_owned(),
        redirect_uri: url,
        state: params.get("state").map(str::to_owned),
        issuer: state.issuer().to_string(),
        status,
    })
}

/// Checks the rest of the request; failures go back to the client.
pub(super) fn validate_request(params: &Params, target: &Target) -> Result<AuthorizationRequest, AuthorizeError> {
    if let Some(name) = params.first_repeated(checked_params()) {
        return Err(target.error("invalid_request", format!("the parameter {name} was sent more than once")));
    }
    if let Some(name) = checked_params().find(|name| params.get(name).is_some_and(|v| v.len() > MAX_PARAM_LEN)) {
        return Err(target.error("invalid_request", format!("the parameter {name} is longer than {MAX_PARAM_LEN}")));
    }
    match params.get("response_type") {
        None => return Err(target.error("invalid_request", "response_type is missing")),
        Some("code") => {}
        Some(_) => return Err(target.error("unsupported_response_type", "only response_type=code is supported")),
    }
    if params.get("request").is_some() {
        return Err(target.error("request_not_supported", "request objects are not supported"));
    }
    if params.get("request_uri").is_some() {
        return Err(target.error("request_uri_not_supported", "request_uri is not supported"));
    }
    if params.get("response_mode").is_some_and(|mode| mode != "query") {
        return Err(target.error("invalid_request", "only response_mode=query is supported"));
    }
    let scope = params.get("scope").unwrap_or_default();
    if !scopes::split(scope).any(|s| s == OPENID) {
        return Err(target.error("invalid_scope", "scope must include openid"));
    }
    let code_challenge = params
        .get("code_challenge")
        .ok_or_else(|| target.error("invalid_request", "PKCE is required: code_challenge is missing"))?;
    match params.get("code_challenge_method") {
        Some("S256") => {}
        Some(_) | None => {
            return Err(target.error(
                "invalid_request",
                "code_challenge_method must be S256 (the plain method and its default are not supported)",
            ));
        }
    }
    if !pkce::is_valid_challenge(code_challenge) {
        return Err(target.error(
            "invalid_request",
            "code_challenge must be an S256 challenge: 43 characters of unpadded base64url",
        ));
    }
    let audience = params.get("audience");
    if audience.is_some_and(|audience| audience != API_AUDIENCE) {
        return Err(target.error("invalid_request", format!("unknown audience; the only API is {API_AUDIENCE}")));
    }
    // RFC 9449 §10: the client's DPoP key, named before the code exists, so
    // that a code intercepted on its way back can only be exchanged by the
    // holder of that key. A JWK SHA-256 thumbprint (RFC 7638) is 32 bytes,
    // 43 characters of unpadded base64url.
    let dpop_jkt = params.get("dpop_jkt");
    if dpop_jkt.is_some_and(|jkt| !is_thumbprint(jkt)) {
        return Err(target.error(
            "invalid_request",
            "dpop_jkt must be a JWK SHA-256 thumbprint: 43 characters of unpadded base64url",
        ));
    }
    let prompt = parse_prompt(params.get("prompt")).map_err(|message| target.error("invalid_request", message))?;
    let max_age = match params.get("max_age") {
        None => None,
        Some(value) => match value.parse::<i64>() {
            Ok(seconds) if seconds >= 0 => Some(seconds),
            _ => return Err(target.error("invalid_request", "max_age must be a non-negative number of seconds")),
        },
    };
    Ok(AuthorizationRequest {
        granted_scopes: scopes::granted_scopes(scope),
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
        audience: audience.map(str::to_owned),
        dpop_jkt: dpop_jkt.map(str::to_owned),
        prompt,
        max_age,
    })
}

/// Whether `value` can be a JWK SHA-256 thumbprint in base64url (no padding).
fn is_thumbprint(value: &str) -> bool {
    value.len() == 43
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && URL_SAFE_NO_PAD.decode(value).is_ok_and(|digest| digest.len() == 32)
}

fn parse_prompt(value: Option<&str>) -> Result<Prompt, &'static str> {
    let values: Vec<&str> = value.unwrap_or_default().split(' ').filter(|v| !v.is_empty()).collect();
    if values.contains(&"none") {
        if values.len() > 1 {
            return Err("prompt=none cannot be combined with other values");
        }
        return Ok(Prompt::None);
    }
    // Unknown values are ignored (OpenID Connect Core §3.1.2.1); `consent`
    // needs nothing, as there is no consent screen.
    if values.iter().any(|v| matches!(*v, "login" | "select_account")) {
        return Ok(Prompt::Login);
    }
    Ok(Prompt::Default)
}

/// The values of [`FORM_FIELDS`] in this request.
pub(super) fn form_fields(params: &Params) -> [Option<&str>; FORM_FIELDS.len()] {
    FORM_FIELDS.map(|name| params.get(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_values() {
        assert_eq!(parse_prompt(None), Ok(Prompt::Default));
        assert_eq!(parse_prompt(Some("none")), Ok(Prompt::None));
        assert_eq!(parse_prompt(Some("consent login")), Ok(Prompt::Login));
        assert_eq!(parse_prompt(Some("select_account")), Ok(Prompt::Login));
        assert_eq!(parse_prompt(Some("consent")), Ok(Prompt::Default));
        assert!(parse_prompt(Some("none login")).is_err());
    }

    #[test]
    fn dpop_jkt_must_be_a_sha256_thumbprint() {
        // The thumbprint of RFC 7638 §3.1's example key.
        assert!(is_thumbprint("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"));
        assert!(!is_thumbprint("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9X"));
        assert!(!is_thumbprint("NzbLsXh8uDCcd+6MNwXF4W/7noWXFZAfHkxZsRGC9Xs"));
        assert!(!is_thumbprint("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs="));
        assert!(!is_thumbprint(""));
    }

    #[test]
    fn descriptions_stay_in_the_allowed_characters() {
        assert_eq!(oauth_description("a \"b\" \\ é"), "a ?b? ? ?");
    }
}
