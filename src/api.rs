//! The API client: typed requests to `api_base` with the user's bearer token.
//!
//! One [`ApiClient`] is provided as context ([`provide_api`]) and every
//! screen asks for it ([`use_api`]); it is `Copy`, so closures take it as
//! they are, with no configuration to clone. The access token is attached
//! here and nowhere else, and only to requests for `api_base` (the paths of
//! `contract::api` joined onto it). Responses bypass the browser's cache,
//! since they depend on who asks. Every body is read through one JSON
//! helper into the wire types of `contract::wire`; a malformed body is an
//! [`ApiError`], never a panic.

use std::cell::RefCell;
use std::fmt;

use contract::api as paths;
use contract::wire::{ErrorBody, MeCapabilities, NewProject, Project, RoleCatalog, SetRoles, UserWithRoles};
use gloo_net::http::{Method, Response};
use leptos::prelude::*;
use oidc_login::dpop::{self, ProofVerdict};
use oidc_login::json::{self, Fields, JsonError};
use oidc_login::{ApiCredentials, browser};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::RequestCache;

use crate::auth::Auth;
use crate::config::AppConfig;

/// One page of a list, and the size of the whole list (`X-Total-Count`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many items the whole list holds.
    pub total: u64,
}

/// Why an API request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No session: the request was not sent.
    NotSignedIn,
    /// The request could not be built (a body that does not serialise).
    Request(String),
    /// 401: the token was refused, even after a refresh.
    Unauthorized(String),
    /// 403: the API refused the action.
    Forbidden(String),
    /// Another HTTP error, with the API's description.
    Status(u16, String),
    /// The request did not reach the API, or its answer was cut off.
    Network(String),
    /// The API answered something this client cannot read.
    Malformed(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::NotSignedIn => f.write_str("You are not signed in."),
            ApiError::Request(why) => write!(f, "The request could not be made: {why}"),
            ApiError::Unauthorized(why) => write!(f, "The API did not accept your session: {why}"),
            ApiError::Forbidden(why) => write!(f, "The API refused: {why}"),
            ApiError::Status(status, why) => write!(f, "The API answered HTTP {status}: {why}"),
            ApiError::Network(why) => write!(f, "Could not reach the API: {why}"),
            ApiError::Malformed(why) => write!(f, "The API's answer could not be read: {why}"),
        }
    }
}

impl ApiError {
    /// The error for a non-2xx answer, with the `error_description` of its
    /// body when it has the API's error shape.
    fn from_status(status: u16, body: &str) -> ApiError {
        let description = json::parse(body)
            .and_then(|body| error_body(&body))
            .map(|body| body.error_description)
            .unwrap_or_else(|_| "no details".to_owned());
        match status {
            401 => ApiError::Unauthorized(description),
            403 => ApiError::Forbidden(description),
            status => ApiError::Status(status, description),
        }
    }
}

/// A type the API lists page by page, and the path it lists it under.
pub trait Listed: DeserializeOwned + Clone + 'static {
    /// The list's path below `api_base`.
    const PATH: &'static str;
}

impl Listed for Project {
    const PATH: &'static str = paths::PROJECTS;
}

impl Listed for UserWithRoles {
    const PATH: &'static str = paths::USERS;
}

/// The API client: where the API is and whose token to send.
#[derive(Clone, Copy)]
pub struct ApiClient {
    auth: Auth,
    base: StoredValue<String>,
}

/// Makes the client for `config`'s `api_base` with `auth`'s token, and
/// provides it as context (once, in the app shell).
pub fn provide_api(auth: Auth, config: &AppConfig) -> ApiClient {
    let client = ApiClient { auth, base: StoredValue::new(config.api_base.clone()) };
    provide_context(client);
    client
}

/// The API client of the current app.
pub fn use_api() -> ApiClient {
    expect_context::<ApiClient>()
}

impl ApiClient {
    /// The absolute or same-origin URL of `path` (a `contract::api` path).
    pub fn url(self, path: &str) -> String {
        self.base.with_value(|base| format!("{base}{path}"))
    }

    /// `GET {api_base}/projects` or `/users`: one page of `per_page` items
    /// (at most the API's `MAX_PER_PAGE`).
    pub async fn list<T: Listed>(self, page: u32, per_page: u32) -> Result<ListPage<T>, ApiError> {
        let response = self.send(Method::GET, &list_path(T::PATH, page, per_page), None).await?;
        let total = response
            .headers()
            .get(paths::TOTAL_COUNT_HEADER)
            .and_then(|total| total.trim().parse().ok())
            .ok_or_else(|| ApiError::Malformed(format!("no readable {} header", paths::TOTAL_COUNT_HEADER)))?;
        Ok(ListPage { items: read_json(response).await?, total })
    }

    /// `GET {api_base}/me/capabilities`: the permissions the API reads from
    /// the access token.
    pub async fn capabilities(self) -> Result<MeCapabilities, ApiError> {
        let answer = read_value(self.send(Method::GET, paths::CAPABILITIES, None).await?).await?;
        me_capabilities(&answer).map_err(|err| ApiError::Malformed(err.to_string()))
    }

    /// `GET {api_base}/roles`: the role catalogue (the API checks `read:user-list`).
    pub async fn roles(self) -> Result<RoleCatalog, ApiError> {
        read_json(self.send(Method::GET, paths::ROLES, None).await?).await
    }

    /// `POST {api_base}/projects` (the API checks `create:project`).
    pub async fn create_project(self, project: &NewProject) -> Result<Project, ApiError> {
        read_json(self.send(Method::POST, paths::PROJECTS, Some(to_json(project)?)).await?).await
    }

    /// `DELETE {api_base}/projects/{id}` (the API checks `delete:project`).
    pub async fn delete_project(self, id: i64) -> Result<(), ApiError> {
        self.send(Method::DELETE, &paths::project(id), None).await.map(drop)
    }

    /// `PUT {api_base}/users/{id}/roles`: replaces the user's roles (the API
    /// checks `update:user-roles`) and answers the user as now stored.
    pub async fn set_roles(self, id: i64, roles: &SetRoles) -> Result<UserWithRoles, ApiError> {
        read_json(self.send(Method::PUT, &paths::user_roles(id), Some(to_json(roles)?)).await?).await
    }

    /// Sends a request with the bearer token and returns a 2xx response. A
    /// 401 gets one refresh and one retry (the token may have expired in
    /// flight); a second 401 is an error, and the session is left to the
    /// refresh's verdict.
    ///
    /// A GET that [`prefetch`](Self::prefetch) began for the same URL is
    /// taken over rather than sent again (its first attempt only).
    async fn send(self, method: Method, path: &str, json: Option<String>) -> Result<Response, ApiError> {
        let url = self.url(path);
        let (mut refreshed, mut proof_retried) = (false, false);
        loop {
            let prefetched =
                if method == Method::GET && json.is_none() && !refreshed { take_prefetched(&url).await? } else { None };
            let response = match prefetched {
                Some(response) => response,
                None => self.fetch(&method, &url, json.as_deref()).await?,
            };
            let verdict = proof_verdict(&url, &response);
            match response.status() {
                200..=299 => return Ok(response),
                401 if !proof_retried && verdict == ProofVerdict::Retry => proof_retried = true,
                401 if !refreshed && self.auth.refresh().await => refreshed = true,
                status => return Err(ApiError::from_status(status, &response.text().await.unwrap_or_default())),
            }
        }
    }

    /// One request with the session's credentials, once a resume has its verdict.
    async fn fetch(self, method: &Method, url: &str, json: Option<&str>) -> Result<Response, ApiError> {
        let credentials = self
            .auth
            .api_credentials(method.as_str(), url)
            .await
            .ok_or(ApiError::NotSignedIn)?
            .map_err(|err| ApiError::Request(err.to_string()))?;
        let (answer, deadline) = start_request(method.as_str(), url, &credentials, json)
            .map_err(|err| ApiError::Request(browser::describe(err)))?;
        match JsFuture::from(answer).await {
            Ok(response) => Ok(Response::from(response.unchecked_into::<web_sys::Response>())),
            Err(err) => Err(ApiError::Network(failure(&deadline, &err))),
        }
    }

    /// Begins `GET {api_base}{path}` now, for a screen whose code is still
    /// loading: the request then runs beside the chunk's download instead of
    /// after it, and the screen's own [`send`](Self::send) of the same URL
    /// takes its answer over. It waits for a resume's verdict as every
    /// request does, and goes without one when nobody is signed in (the
    /// screen's request then says so). One at a time: a new one replaces
    /// the last, and [`forget_prefetch`] drops one nobody took.
    pub fn prefetch(self, path: &str) {
        let url = self.url(path);
        let auth = self.auth;
        let answer = wasm_bindgen_futures::future_to_promise({
            let url = url.clone();
            async move {
                let Some(credentials) = auth.api_credentials("GET", &url).await else { return Ok(JsValue::NULL) };
                let credentials = credentials.map_err(|err| JsValue::from_str(&err.to_string()))?;
                let (answer, deadline) = start_request("GET", &url, &credentials, None)?;
                JsFuture::from(answer).await.map_err(|err| JsValue::from_str(&failure(&deadline, &err)))
            }
        });
        PREFETCHED.with(|slot| *slot.borrow_mut() = Some((url, answer)));
    }
}

/// Starts one request to the API with `credentials`: the one place the
/// API's requests are made, for [`ApiClient::fetch`] and
/// [`ApiClient::prefetch`] alike. It bypasses the browser's cache (answers
/// depend on who asks), and its deadline, returned with the response's
/// promise, bounds the request and the reading of its body alike: an API
/// that accepts the connection and never answers is a network error the
/// screen can offer to retry, not a spinner forever.
fn start_request(
    method: &str,
    url: &str,
    credentials: &ApiCredentials,
    json: Option<&str>,
) -> Result<(js_sys::Promise, web_sys::AbortSignal), JsValue> {
    let headers = web_sys::Headers::new()?;
    headers.set("Authorization", &credentials.authorization)?;
    if let Some(proof) = &credentials.proof {
        headers.set("DPoP", proof)?;
    }
    headers.set("Accept", "application/json")?;
    let deadline = web_sys::AbortSignal::timeout_with_u32(API_REQUEST_TIMEOUT_MS);
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_cache(RequestCache::NoStore);
    init.set_signal(Some(&deadline));
    if let Some(body) = json {
        headers.set("Content-Type", "application/json")?;
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&headers);
    Ok((window().fetch_with_str_and_init(url, &init), deadline))
}

/// What the API's answer says of the request's DPoP proof: its new nonce is
/// remembered, and a proof refused for want of one (`use_dpop_nonce`), or
/// for a clock far from the API's, is worth one more try (RFC 9449 §8, §9).
fn proof_verdict(url: &str, response: &Response) -> ProofVerdict {
    let headers = response.headers();
    let challenge = headers.get("www-authenticate");
    dpop::read_answer(
        url,
        challenge.as_deref().and_then(dpop::challenge_error),
        headers.get("dpop-nonce").as_deref(),
        headers.get("date").as_deref(),
    )
}

/// Why a request failed, saying so when its deadline cut it off.
fn failure(deadline: &web_sys::AbortSignal, err: &JsValue) -> String {
    if deadline.aborted() {
        format!("the API did not answer within {} s", API_REQUEST_TIMEOUT_MS / 1000)
    } else {
        browser::describe(err.clone())
    }
}

thread_local! {
    /// The GET [`ApiClient::prefetch`] began and nobody has taken yet: its
    /// URL, and the promise of its response (`null` when it went unsent).
    static PREFETCHED: RefCell<Option<(String, js_sys::Promise)>> = const { RefCell::new(None) };
}

/// Drops a prefetched GET nobody took (its screen went away before its
/// code loaded), so that no later request is answered from it.
pub fn forget_prefetch() {
    PREFETCHED.with(|slot| slot.borrow_mut().take());
}

/// The answer of the GET prefetched for `url`, taken (so used once): `None`
/// when there is none or it went unsent, an error when it failed.
async fn take_prefetched(url: &str) -> Result<Option<Response>, ApiError> {
    let answer = PREFETCHED.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.as_ref().is_some_and(|(prefetched, _)| prefetched == url) { slot.take() } else { None }
    });
    let Some((_, answer)) = answer else { return Ok(None) };
    match JsFuture::from(answer).await {
        Ok(response) => Ok(response.dyn_into::<web_sys::Response>().ok().map(Response::from)),
        Err(err) => Err(ApiError::Network(browser::describe(err))),
    }
}

/// The path of one page of the list under `path`, `per_page` items (at most
/// the API's `MAX_PER_PAGE`): what [`ApiClient::list`] asks for, and so what a
/// prefetch of it must ask for.
pub fn list_path(path: &str, page: u32, per_page: u32) -> String {
    let per_page = per_page.clamp(1, paths::MAX_PER_PAGE);
    format!("{path}?page={page}&per_page={per_page}")
}

/// How long an API request may take, body read whole, before it is given up
/// as a network error.
pub const API_REQUEST_TIMEOUT_MS: u32 = 15_000;

/// A request body as JSON.
fn to_json(body: &impl Serialize) -> Result<String, ApiError> {
    serde_json::to_string(body).map_err(|err| ApiError::Request(err.to_string()))
}

/// Reads a response body as JSON: the one place a body becomes a value.
async fn read_value(response: Response) -> Result<Value, ApiError> {
    let text = response.text().await.map_err(|err| ApiError::Network(err.to_string()))?;
    json::parse(&text).map_err(|err| ApiError::Malformed(err.to_string()))
}

/// Reads a response body into `T`, with its derived `Deserialize` (the
/// screens' types: their code is in the screens' chunks).
async fn read_json<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    serde_json::from_value(read_value(response).await?).map_err(|err| ApiError::Malformed(err.to_string()))
}

/// `GET /me/capabilities`'s answer, read by hand: the start-up of
/// `capabilities_source: "api"` needs it, and serde's machinery would be in
/// every first load for it.
fn me_capabilities(answer: &Value) -> Result<MeCapabilities, JsonError> {
    let fields = Fields::of(answer)?;
    Ok(MeCapabilities {
        subject: fields.optional_string("subject")?,
        permissions: fields.strings("permissions")?,
        source: fields.string("source")?,
        warnings: fields.strings("warnings")?,
    })
}

/// An error answer's body, read by hand as [`me_capabilities`] is.
fn error_body(body: &Value) -> Result<ErrorBody, JsonError> {
    let fields = Fields::of(body)?;
    Ok(ErrorBody {
        error: fields.string("error")?,
        error_description: fields.string("error_description")?,
        field: fields.optional_string("field")?,
    })
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use oidc_login::Session;
    use oidc_login::id_token::IdToken;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;
    use crate::auth::AuthState;

    wasm_bindgen_test_configure!(run_in_browser);

    /// A client for `api_base` on the test page's origin, signed in or not.
    fn client(api_base: &str, signed_in: bool) -> ApiClient {
        let origin = web_sys::window().unwrap().location().origin().unwrap();
        let config = AppConfig::parse(
            &serde_json::json!({
                "issuer": "https://idp.example/",
                "client_id": permissions::names::CLIENT_ID,
                "permissions_claim": permissions::names::PERMISSIONS_CLAIM,
                "api_base": api_base,
            })
            .to_string(),
            &origin,
        )
        .unwrap();
        let state = if signed_in {
            AuthState::SignedIn(Session {
                id_token: IdToken {
                    raw: "h.p.s".into(),
                    claims: serde_json::json!({ "sub": "u1" }),
                    subject: "u1".into(),
                    expires_at: i64::MAX,
                },
                access_token: "at".into(),
                access_token_received_at: 0,
                access_token_expires_at: i64::MAX,
                dpop: None,
            })
        } else {
            AuthState::SignedOut
        };
        provide_api(Auth::new(state, config.client.clone()), &config)
    }

    #[wasm_bindgen_test]
    fn error_bodies_become_typed_errors() {
        let body = r#"{"error":"insufficient_scope","error_description":"needs delete:project"}"#;
        assert_eq!(ApiError::from_status(403, body), ApiError::Forbidden("needs delete:project".into()));
        assert_eq!(ApiError::from_status(401, body), ApiError::Unauthorized("needs delete:project".into()));
        assert_eq!(ApiError::from_status(409, body), ApiError::Status(409, "needs delete:project".into()));
        assert_eq!(ApiError::from_status(502, "<html>Bad gateway</html>"), ApiError::Status(502, "no details".into()));
    }

    #[wasm_bindgen_test]
    async fn nothing_is_sent_without_a_session() {
        assert_eq!(client("/api/v1", false).roles().await, Err(ApiError::NotSignedIn));
    }

    /// Lets the tasks already queued run (a prefetch reads its token).
    async fn tick() {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0).unwrap();
        });
        JsFuture::from(promise).await.unwrap();
    }

    // Signing out between the prefetch and the screen's request tells the two
    // apart: a request sent anew would go without a token (`NotSignedIn`),
    // the prefetched one was sent with it (the test server's 404).
    #[wasm_bindgen_test]
    async fn a_screen_s_request_takes_over_the_get_prefetched_for_its_url_once() {
        let api = client("/not-the-api", true);
        let page_one = list_path(Project::PATH, 1, 10);
        api.prefetch(&page_one);
        tick().await;
        api.auth.state.set(AuthState::SignedOut);
        assert!(matches!(api.list::<Project>(1, 10).await, Err(ApiError::Status(404, _))));
        assert_eq!(api.list::<Project>(1, 10).await, Err(ApiError::NotSignedIn), "used once");

        api.auth.state.set(client("/not-the-api", true).auth.state.get_untracked());
        api.prefetch(&list_path(Project::PATH, 2, 10));
        tick().await;
        api.auth.state.set(AuthState::SignedOut);
        assert_eq!(api.list::<Project>(1, 10).await, Err(ApiError::NotSignedIn), "another page's is not taken");
        forget_prefetch();
        assert_eq!(api.list::<Project>(2, 10).await, Err(ApiError::NotSignedIn), "a forgotten one is not taken");

        let signed_out = client("/not-the-api", false);
        signed_out.prefetch(&page_one);
        assert_eq!(signed_out.list::<Project>(1, 10).await, Err(ApiError::NotSignedIn), "unsent without a session");
    }

    // The test runner's own web server stands in for a wrong `api_base`: it
    // answers 404 for the API's paths, and its HTML page for `/?…`.
    #[wasm_bindgen_test]
    async fn an_answer_that_is_not_the_api_s_is_an_error_never_a_panic() {
        let missing = client("/not-the-api", true);
        assert!(matches!(missing.roles().await, Err(ApiError::Status(404, _))));

        let html = client("/?not-the-api=", true);
        assert!(matches!(html.roles().await, Err(ApiError::Malformed(_))), "an HTML page is not a role catalogue");
        let list = html.list::<Project>(1, 10).await;
        assert!(matches!(&list, Err(ApiError::Malformed(why)) if why.contains(paths::TOTAL_COUNT_HEADER)), "{list:?}");
    }
}
