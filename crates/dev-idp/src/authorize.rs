//! The authorization endpoint (RFC 6749 §4.1, OpenID Connect Core §3.1.2).
//!
//! `GET /authorize` validates the request and then either answers at once
//! (a live provider session, or `prompt=none`) or shows the sign-in page.
//! `POST /authorize` is that page's form: it validates the request again
//! from scratch, checks the CSRF token, and signs the chosen user in.
//!
//! Until `client_id` and `redirect_uri` are known good, errors are HTML
//! pages: redirecting to an unregistered URI would make the provider an open
//! redirector (RFC 6749 §4.1.2.1). After that, errors go back to the client
//! as redirects carrying `error`, `error_description`, `state` and `iss`
//! (RFC 9207).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::header::{CACHE_CONTROL, LOCATION, REFERRER_POLICY, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use permissions::names::{API_AUDIENCE, CLIENT_ID};
use store::IdpSession;
use url::Url;

use crate::codes::CodeGrant;
use crate::csrf::{self, CsrfError};
use crate::error::PageError;
use crate::params::Params;
use crate::session::{self, CSRF_COOKIE, SESSION_COOKIE, SignedIn};
use crate::signin::{self, UserChoice};
use crate::state::AppState;
use crate::{pkce, random, tokens};

/// The parameters the sign-in form carries back, in a fixed order (the CSRF
/// token binds exactly these).
const FORM_FIELDS: [&str; 10] = [
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
];

/// Parameters that must not be repeated, and whose length is bounded.
const CHECKED_PARAMS: [&str; 12] = [
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
    "prompt",
    "max_age",
];

/// Longest accepted parameter value; generous for `state` and `nonce`, and
/// small enough that a sign-in form stays a sensible size.
const MAX_PARAM_LEN: usize = 2048;

/// The CSRF binding cookie lives a day, so a long-open tab still works.
const CSRF_COOKIE_MAX_AGE: u64 = 24 * 3600;

/// An authorization request that cannot proceed.
#[derive(Debug)]
pub enum AuthorizeError {
    /// Answered with an HTML page, never a redirect.
    Page(PageError),
    /// Answered by redirecting to the client's registered redirect URI.
    Redirect { location: String, status: StatusCode, error: &'static str, description: String },
}

impl From<PageError> for AuthorizeError {
    fn from(error: PageError) -> Self {
        AuthorizeError::Page(error)
    }
}

impl From<store::StoreError> for AuthorizeError {
    fn from(error: store::StoreError) -> Self {
        AuthorizeError::Page(error.into())
    }
}

impl IntoResponse for AuthorizeError {
    fn into_response(self) -> Response {
        match self {
            AuthorizeError::Page(page) => page.into_response(),
            AuthorizeError::Redirect { location, status, error, description } => {
                tracing::info!(error, %description, "authorization request refused");
                redirect(status, &location)
            }
        }
    }
}

/// A redirect that is never cached and leaks nothing through `Referer`.
fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = status.into_response();
    let headers = response.headers_mut();
    match HeaderValue::from_str(location) {
        Ok(value) => {
            headers.insert(LOCATION, value);
        }
        // `Url` serialisation is always a valid header value; should that
        // ever change, failing loudly beats redirecting somewhere odd.
        Err(_) => return PageError::Internal(format!("unusable redirect location {location:?}")).into_response(),
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// Keeps an `error_description` within the characters RFC 6749 §4.1.2.1
/// allows (printable ASCII except `"` and `\`).
fn oauth_description(text: &str) -> String {
    text.chars().map(|c| if matches!(c, ' '..='~') && c != '"' && c != '\\' { c } else { '?' }).collect()
}

/// Where the answer to a request goes: known good once this exists.
#[derive(Debug, Clone)]
struct Target {
    /// The redirect URI exactly as sent (and registered).
    registered: String,
    redirect_uri: Url,
    state: Option<String>,
    issuer: String,
    /// 302 answers a GET; 303 turns the sign-in POST into a GET.
    status: StatusCode,
}

impl Target {
    /// The redirect URI with `pairs`, then `state` and `iss`, appended.
    fn location(&self, pairs: &[(&str, &str)]) -> String {
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

    fn error(&self, error: &'static str, description: impl Into<String>) -> AuthorizeError {
        let description = oauth_description(&description.into());
        let location = self.location(&[("error", error), ("error_description", &description)]);
        AuthorizeError::Redirect { location, status: self.status, error, description }
    }

    fn origin(&self) -> String {
        self.redirect_uri.origin().ascii_serialization()
    }
}

/// The `prompt` parameter, reduced to what changes behaviour here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prompt {
    /// No prompt: reuse a live session (SSO), else show the sign-in page.
    Default,
    /// `none`: answer without any page, or fail with `login_required`.
    None,
    /// `login` or `select_account`: always show the sign-in page.
    Login,
}

/// A fully validated authorization request.
#[derive(Debug, Clone)]
struct AuthorizationRequest {
    granted_scopes: Vec<&'static str>,
    nonce: Option<String>,
    code_challenge: String,
    audience: Option<String>,
    prompt: Prompt,
    max_age: Option<i64>,
}

/// Checks `client_id` and `redirect_uri`; failures are pages, not redirects.
fn validate_target(state: &AppState, params: &Params, status: StatusCode) -> Result<Target, PageError> {
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
fn validate_request(params: &Params, target: &Target) -> Result<AuthorizationRequest, AuthorizeError> {
    if let Some(name) = params.first_repeated(&CHECKED_PARAMS) {
        return Err(target.error("invalid_request", format!("the parameter {name} was sent more than once")));
    }
    if let Some(name) =
        CHECKED_PARAMS.into_iter().find(|name| params.get(name).is_some_and(|v| v.len() > MAX_PARAM_LEN))
    {
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
    if !scope.split(' ').any(|s| s == "openid") {
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
    let prompt = parse_prompt(params.get("prompt")).map_err(|message| target.error("invalid_request", message))?;
    let max_age = match params.get("max_age") {
        None => None,
        Some(value) => match value.parse::<i64>() {
            Ok(seconds) if seconds >= 0 => Some(seconds),
            _ => return Err(target.error("invalid_request", "max_age must be a non-negative number of seconds")),
        },
    };
    Ok(AuthorizationRequest {
        granted_scopes: tokens::granted_scopes(scope),
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
        audience: audience.map(str::to_owned),
        prompt,
        max_age,
    })
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
fn form_fields(params: &Params) -> [Option<&str>; FORM_FIELDS.len()] {
    FORM_FIELDS.map(|name| params.get(name))
}

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
    };
    let code = state
        .codes()
        .issue(grant, now)
        .map_err(|_| target.error("temporarily_unavailable", "too many sign-ins in flight; try again in a minute"))?;
    Ok(redirect(target.status, &target.location(&[("code", &code)])))
}

/// `GET /authorize`.
pub async fn get(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    handle_get(&state, &headers, query.as_deref().unwrap_or_default()).await.unwrap_or_else(IntoResponse::into_response)
}

async fn handle_get(state: &AppState, headers: &HeaderMap, query: &str) -> Result<Response, AuthorizeError> {
    let params = Params::parse(query.as_bytes());
    let target = validate_target(state, &params, StatusCode::FOUND)?;
    let request = validate_request(&params, &target)?;
    let now = state.now();
    // A session older than max_age does not count (OpenID Connect Core §3.1.2.1).
    let signed_in = session::current(state, headers)
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
    // Reuse the browser's binding cookie if it has one, so sign-in pages
    // open in several tabs all stay valid.
    let binding = session::read(headers, CSRF_COOKIE)
        .filter(|value| csrf::is_valid_binding(value))
        .map_or_else(csrf::new_binding, str::to_owned);
    let fields = form_fields(params);
    let token = csrf::issue(state.csrf_key(), &binding, &fields, state.now());
    let mut hidden: Vec<(&str, &str)> =
        FORM_FIELDS.iter().zip(fields).filter_map(|(name, value)| value.map(|v| (*name, v))).collect();
    hidden.push(("csrf_token", &token));
    let mut response = signin::page(&users, &hidden, &target.origin());
    response
        .headers_mut()
        .append(SET_COOKIE, session::set(CSRF_COOKIE, &binding, "/", CSRF_COOKIE_MAX_AGE, state.secure_cookies()));
    Ok(response)
}

/// `POST /authorize`: the sign-in form.
pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    handle_post(&state, &headers, &body).await.unwrap_or_else(IntoResponse::into_response)
}

async fn handle_post(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, AuthorizeError> {
    let params = Params::parse(body);
    let target = validate_target(state, &params, StatusCode::SEE_OTHER)?;
    csrf::verify(
        state.csrf_key(),
        params.get("csrf_token"),
        session::read(headers, CSRF_COOKIE),
        &form_fields(&params),
        state.now(),
    )
    .map_err(|error: CsrfError| {
        PageError::Forbidden(format!("{error}. Return to the application and sign in again."))
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

    let now = state.now();
    // Signing in replaces whatever session this browser had.
    if let Some(old) = session::read(headers, SESSION_COOKIE) {
        state.store().delete_idp_session(old, now).await?;
    }
    let session_ttl = state.settings().session_ttl.as_secs();
    let idp_session =
        IdpSession { id: random::token(32), user_id: user.id, auth_time: now, expires_at: now + session_ttl as i64 };
    state.store().create_idp_session(&idp_session).await?;
    tracing::info!(user = %user.username, "signed in");

    let mut response = issue_code(state, &target, &request, user.id, now)?;
    response
        .headers_mut()
        .append(SET_COOKIE, session::set(SESSION_COOKIE, &idp_session.id, "/", session_ttl, state.secure_cookies()));
    Ok(response)
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
    fn descriptions_stay_in_the_allowed_characters() {
        assert_eq!(oauth_description("a \"b\" \\ é"), "a ?b? ? ?");
    }
}
