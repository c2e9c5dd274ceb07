//! Test harness: a provider on a temporary database, a tiny cookie jar, and
//! a helper that runs the whole sign-in flow through `app(state)` with
//! `tower::ServiceExt::oneshot`.

#![allow(dead_code)]

pub(crate) mod dpop_key;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{Request, Response, StatusCode};
use contract::routes::redirect_uri;
use dev_idp::config::{Config, Issuer, SpaOrigin};
use dev_idp::signing_keys::{KeySet, generate_key};
use dev_idp::{AUTHORIZE_PATH, AppState, REVOCATION_PATH, Settings, TOKEN_PATH, app, pkce};
use permissions::names::{API_AUDIENCE, CLIENT_ID};
use rsa::RsaPrivateKey;
use serde_json::Value;
use store::Store;
use tower::ServiceExt;
use url::Url;

pub(crate) const ISSUER: &str = "http://127.0.0.1:18081";
/// The SPA's origin every provider registers.
pub(crate) const SPA_ORIGIN: &str = "http://127.0.0.1:18080";
/// The same SPA under the other name of this machine: to a browser, and so
/// to the provider's exact-match rules, another origin.
pub(crate) const LOCALHOST_ORIGIN: &str = "http://localhost:18080";
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more-entropy";
pub(crate) const STATE: &str = "state-123";
pub(crate) const NONCE: &str = "nonce-456";

/// One RSA key per test binary: generating keys is the slow part.
pub(crate) fn shared_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| generate_key().expect("key generation"))
}

/// The scope the SPA asks for by default: with a refresh token.
pub(crate) const OFFLINE_SCOPE: &str = "openid profile email offline_access";

/// A provider on a temporary database.
pub(crate) struct Idp {
    pub(crate) state: AppState,
    pub(crate) app: Router,
    _dir: tempfile::TempDir,
}

impl Idp {
    pub(crate) async fn new() -> Idp {
        Idp::with_settings(|_| {}).await
    }

    /// A provider that registers the SPA at each of `origins`.
    pub(crate) async fn with_origins(origins: &[&str]) -> Idp {
        let origins = origins.iter().map(|origin| SpaOrigin::parse(origin).expect("origin")).collect();
        Idp::with_settings(|settings| settings.spa_origins = origins).await
    }

    /// A provider whose settings `adjust` changes (a reuse interval, say).
    pub(crate) async fn with_settings(adjust: impl FnOnce(&mut Settings)) -> Idp {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("app.db")).await.expect("store");
        let keys = KeySet::single(shared_key()).expect("key set");
        let mut settings =
            Settings::new(Issuer::parse(ISSUER).expect("issuer"), vec![SpaOrigin::parse(SPA_ORIGIN).expect("origin")]);
        adjust(&mut settings);
        let state = AppState::new(settings, store, keys);
        Idp { app: app(state.clone()), state, _dir: dir }
    }

    /// A provider opened as the binary opens it, on a data directory (so it
    /// follows key rotations there), whose first key is [`shared_key`].
    pub(crate) async fn on_data_dir() -> Idp {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config {
            listen: "127.0.0.1:18081".parse().expect("address"),
            database: dir.path().join("app.db"),
            data_dir: dir.path().join("idp"),
            spa_origins: vec![SpaOrigin::parse(SPA_ORIGIN).expect("origin")],
            issuer: None,
            token_ttl: dev_idp::config::DEFAULT_TOKEN_TTL,
            refresh_token_ttl: dev_idp::config::DEFAULT_REFRESH_TOKEN_TTL,
            refresh_idle_ttl: dev_idp::config::DEFAULT_REFRESH_IDLE_TTL,
            refresh_reuse_interval: std::time::Duration::ZERO,
            dpop_nonce: false,
            require_dpop: false,
            allow_non_loopback: false,
        };
        // Seed the first key rather than wait for one to be generated.
        dev_idp::signing_keys::rotate_to(&config.data_dir, shared_key(), 1).expect("first key");
        let state = AppState::open(&config, Issuer::parse(ISSUER).expect("issuer")).await.expect("state");
        Idp { app: app(state.clone()), state, _dir: dir }
    }

    /// The provider's data directory (for [`Idp::on_data_dir`]).
    pub(crate) fn data_dir(&self) -> PathBuf {
        self._dir.path().join("idp")
    }

    /// The provider's database file.
    pub(crate) fn database(&self) -> PathBuf {
        self._dir.path().join("app.db")
    }

    pub(crate) async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.expect("the router is infallible");
        Reply::read(response).await
    }

    pub(crate) async fn get(&self, uri: &str, browser: &mut Browser) -> Reply {
        let request = browser.attach(Request::get(uri)).body(Body::empty()).expect("request");
        let reply = self.send(request).await;
        browser.remember(&reply);
        reply
    }

    pub(crate) async fn post_form(&self, uri: &str, pairs: &[(&str, &str)], browser: &mut Browser) -> Reply {
        let request = browser
            .attach(Request::post(uri).header(CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .body(Body::from(encode(pairs)))
            .expect("request");
        let reply = self.send(request).await;
        browser.remember(&reply);
        reply
    }

    /// A form POST as the SPA at `origin` sends it with fetch (no cookies).
    pub(crate) async fn fetch_form(&self, path: &str, origin: &str, pairs: &[(&str, &str)]) -> Reply {
        self.fetch_form_with_headers(path, origin, pairs, &[]).await
    }

    /// [`Idp::fetch_form`] with more request headers (a `DPoP` proof, say).
    pub(crate) async fn fetch_form_with_headers(
        &self,
        path: &str,
        origin: &str,
        pairs: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request =
            Request::post(path).header(CONTENT_TYPE, "application/x-www-form-urlencoded").header("origin", origin);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request.body(Body::from(encode(pairs))).expect("request")).await
    }

    /// A token request from the SPA with a `DPoP` header carrying `proof`.
    pub(crate) async fn token_with_proof(&self, pairs: &[(&str, &str)], proof: &str) -> Reply {
        self.fetch_form_with_headers(TOKEN_PATH, SPA_ORIGIN, pairs, &[("DPoP", proof)]).await
    }

    /// Exchanges `code` (default verifier and redirect URI) with a DPoP proof.
    pub(crate) async fn exchange_with_proof(&self, code: &str, proof: &str) -> Reply {
        let redirect = redirect_uri(SPA_ORIGIN);
        let pairs = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect.as_str()),
            ("client_id", CLIENT_ID),
            ("code_verifier", VERIFIER),
        ];
        self.token_with_proof(&pairs, proof).await
    }

    /// A refresh-token grant for the SPA with a DPoP proof.
    pub(crate) async fn refresh_with_proof(&self, refresh_token: &str, proof: &str) -> Reply {
        let pairs = [("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", CLIENT_ID)];
        self.token_with_proof(&pairs, proof).await
    }

    /// A token request from the SPA.
    pub(crate) async fn token(&self, pairs: &[(&str, &str)]) -> Reply {
        self.fetch_form(TOKEN_PATH, SPA_ORIGIN, pairs).await
    }

    /// Exchanges `code` with the default verifier and redirect URI.
    pub(crate) async fn exchange(&self, code: &str) -> Reply {
        self.exchange_from(SPA_ORIGIN, code).await
    }

    /// Exchanges `code` as the SPA at `origin` does: with its redirect URI,
    /// and from that origin.
    pub(crate) async fn exchange_from(&self, origin: &str, code: &str) -> Reply {
        self.exchange_as(origin, code, VERIFIER).await
    }

    /// Exchanges `code` with the default redirect URI and `verifier`.
    pub(crate) async fn exchange_with_verifier(&self, code: &str, verifier: &str) -> Reply {
        self.exchange_as(SPA_ORIGIN, code, verifier).await
    }

    async fn exchange_as(&self, origin: &str, code: &str, verifier: &str) -> Reply {
        let redirect = redirect_uri(origin);
        let pairs = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect.as_str()),
            ("client_id", CLIENT_ID),
            ("code_verifier", verifier),
        ];
        self.fetch_form(TOKEN_PATH, origin, &pairs).await
    }

    /// A refresh-token grant for the SPA.
    pub(crate) async fn refresh(&self, refresh_token: &str) -> Reply {
        self.token(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", CLIENT_ID)]).await
    }

    /// A POST to the revocation endpoint, as the SPA sends it.
    pub(crate) async fn revoke(&self, pairs: &[(&str, &str)]) -> Reply {
        self.fetch_form(REVOCATION_PATH, SPA_ORIGIN, pairs).await
    }

    /// The whole flow for `username` with `offline_access`: returns the
    /// token response body, which carries a refresh token.
    pub(crate) async fn offline_tokens_for(&self, username: &str, browser: &mut Browser) -> Value {
        let request = AuthRequest::default().with("scope", OFFLINE_SCOPE);
        let code = self.sign_in(&request, username, browser).await.code();
        let reply = self.exchange(&code).await;
        assert_eq!(reply.status, StatusCode::OK, "token exchange: {}", reply.text);
        reply.json()
    }

    /// GET /authorize, then sign in as `username` on the page; returns the
    /// redirect of the sign-in POST.
    pub(crate) async fn sign_in(&self, request: &AuthRequest, username: &str, browser: &mut Browser) -> Reply {
        let page = self.get(&request.url(), browser).await;
        assert_eq!(page.status, StatusCode::OK, "the sign-in page: {}", page.text);
        let mut form = hidden_fields(&page.text);
        form.push(("username".into(), username.into()));
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.post_form(AUTHORIZE_PATH, &pairs, browser).await
    }

    /// The whole flow for `username`: returns the token response body.
    pub(crate) async fn tokens_for(&self, username: &str, browser: &mut Browser) -> Value {
        let redirect = self.sign_in(&AuthRequest::default(), username, browser).await;
        let code = redirect.code();
        let reply = self.exchange(&code).await;
        assert_eq!(reply.status, StatusCode::OK, "token exchange: {}", reply.text);
        reply.json()
    }

    /// Asserts that `browser` has no live provider session: a silent
    /// sign-in (`prompt=none`) comes back as `login_required`.
    pub(crate) async fn assert_signed_out(&self, browser: &mut Browser) {
        let reply = self.get(&AuthRequest::default().with("prompt", "none").url(), browser).await;
        reply.assert_authorization_error("login_required");
    }

    /// Asserts that a CORS preflight for `POST path` admits the SPA's
    /// origin and nobody else's.
    pub(crate) async fn assert_preflight_admits_only_the_spa(&self, path: &str) {
        self.assert_preflight_admits_only(path, &[SPA_ORIGIN]).await;
    }

    /// Asserts that a CORS preflight for `POST path` admits each of
    /// `origins`, and not an origin outside them.
    pub(crate) async fn assert_preflight_admits_only(&self, path: &str, origins: &[&str]) {
        let preflight = |origin: &str| {
            Request::options(path)
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type")
                .body(Body::empty())
                .unwrap()
        };
        for origin in origins {
            let reply = self.send(preflight(origin)).await;
            assert!(reply.status.is_success(), "{path} from {origin}: {}", reply.status);
            assert_eq!(reply.header("access-control-allow-origin"), Some(*origin), "{path}");
        }
        let strangers = ["https://evil.example", "http://localhost:18081", SPA_ORIGIN, LOCALHOST_ORIGIN];
        for stranger in strangers.into_iter().filter(|stranger| !origins.contains(stranger)) {
            let reply = self.send(preflight(stranger)).await;
            assert!(reply.header("access-control-allow-origin").is_none(), "{path} from {stranger}");
        }
    }
}

/// A response, read whole.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) text: String,
}

impl Reply {
    async fn read(response: Response<Body>) -> Reply {
        let (parts, body) = response.into_parts();
        let bytes = to_bytes(body, 1 << 20).await.expect("body");
        Reply { status: parts.status, headers: parts.headers, text: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The redirect target, asserting this is a redirect.
    pub(crate) fn location(&self) -> Url {
        assert!(self.status.is_redirection(), "expected a redirect, got {}: {}", self.status, self.text);
        Url::parse(self.header(LOCATION.as_str()).expect("Location")).expect("absolute Location")
    }

    /// The query of the redirect target.
    pub(crate) fn redirect_params(&self) -> HashMap<String, String> {
        self.location().query_pairs().into_owned().collect()
    }

    /// The `code` of a successful authorization redirect.
    pub(crate) fn code(&self) -> String {
        let params = self.redirect_params();
        params.get("code").cloned().unwrap_or_else(|| panic!("no code in the redirect: {params:?}"))
    }

    /// Asserts an authorization error redirect to the registered redirect
    /// URI with `error`, the echoed state and the issuer.
    pub(crate) fn assert_authorization_error(&self, error: &str) {
        let location = self.location();
        assert_eq!(format!("{}{}", location.origin().ascii_serialization(), location.path()), redirect_uri(SPA_ORIGIN));
        let params = self.redirect_params();
        assert_eq!(params.get("error").map(String::as_str), Some(error), "{params:?}");
        assert!(params.contains_key("error_description"), "{params:?}");
        assert_eq!(params.get("state").map(String::as_str), Some(STATE), "{params:?}");
        assert_eq!(params.get("iss").map(String::as_str), Some(ISSUER), "{params:?}");
        assert!(!params.contains_key("code"));
    }

    /// Asserts an RFC 6749 §5.2 token error.
    pub(crate) fn assert_token_error(&self, status: StatusCode, error: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        let body = self.json();
        assert_eq!(body["error"], error, "{body}");
        assert!(body["error_description"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
        assert_eq!(self.header("cache-control"), Some("no-store"));
        assert_eq!(self.header("pragma"), Some("no-cache"));
    }
}

/// A cookie jar for one browser.
#[derive(Default, Debug)]
pub(crate) struct Browser {
    pub(crate) cookies: HashMap<String, String>,
}

impl Browser {
    fn attach(&self, builder: axum::http::request::Builder) -> axum::http::request::Builder {
        if self.cookies.is_empty() {
            return builder;
        }
        let header: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        builder.header(COOKIE, header.join("; "))
    }

    fn remember(&mut self, reply: &Reply) {
        for value in reply.headers.get_all(SET_COOKIE) {
            let value = value.to_str().expect("ASCII cookie");
            let (pair, attributes) = value.split_once(';').unwrap_or((value, ""));
            let (name, content) = pair.split_once('=').expect("name=value");
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), content.to_owned());
            }
        }
    }
}

/// An authorization request, valid by default; tests tweak its parameters.
#[derive(Clone, Debug)]
pub(crate) struct AuthRequest {
    pub(crate) params: Vec<(String, String)>,
}

impl Default for AuthRequest {
    fn default() -> Self {
        let challenge = pkce::s256_challenge(VERIFIER);
        let redirect = redirect_uri(SPA_ORIGIN);
        let params = [
            ("client_id", CLIENT_ID),
            ("redirect_uri", redirect.as_str()),
            ("response_type", "code"),
            ("scope", "openid profile email"),
            ("state", STATE),
            ("nonce", NONCE),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("audience", API_AUDIENCE),
        ];
        AuthRequest { params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
    }
}

impl AuthRequest {
    /// Sets (or adds) a parameter.
    pub(crate) fn with(mut self, name: &str, value: &str) -> Self {
        self.params.retain(|(k, _)| k != name);
        self.params.push((name.into(), value.into()));
        self
    }

    /// Drops a parameter.
    pub(crate) fn without(mut self, name: &str) -> Self {
        self.params.retain(|(k, _)| k != name);
        self
    }

    pub(crate) fn url(&self) -> String {
        let pairs: Vec<(&str, &str)> = self.params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        format!("/authorize?{}", encode(&pairs))
    }
}

pub(crate) fn encode(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// The hidden inputs of a page, as name/value pairs.
pub(crate) fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for chunk in html.split("<input type=\"hidden\" ").skip(1) {
        let name = attribute(chunk, "name").expect("hidden input name");
        let value = attribute(chunk, "value").expect("hidden input value");
        fields.push((name, value));
    }
    fields
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = start + tag[start..].find('"')?;
    Some(
        tag[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// Fetches discovery, then the JWKS it names, and verifies `token` (RS256,
/// issuer, `audience`, expiry) with the key its header names; says why not.
pub(crate) async fn verify_with_jwks(
    idp: &Idp,
    token: &str,
    audience: &str,
) -> Result<(jsonwebtoken::Header, Value), String> {
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    let discovery = idp.get("/.well-known/openid-configuration", &mut Browser::default()).await.json();
    let jwks_uri = discovery["jwks_uri"].as_str().ok_or("no jwks_uri")?;
    let jwks_path = jwks_uri.strip_prefix(ISSUER).ok_or("the JWKS is not under the issuer")?;
    let jwks: JwkSet = serde_json::from_str(&idp.get(jwks_path, &mut Browser::default()).await.text)
        .map_err(|e| format!("not a JWKS: {e}"))?;
    let header = jsonwebtoken::decode_header(token).map_err(|e| format!("no header: {e}"))?;
    let kid = header.kid.as_deref().ok_or("no kid")?;
    let jwk = jwks.find(kid).ok_or_else(|| format!("the kid {kid} is not in the JWKS"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("unusable JWK: {e}"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[discovery["issuer"].as_str().ok_or("no issuer")?]);
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| format!("invalid: {e}"))?;
    Ok((data.header, data.claims))
}

/// The kids the JWKS publishes now.
pub(crate) async fn published_kids(idp: &Idp) -> Vec<String> {
    let jwks = idp.get("/.well-known/jwks.json", &mut Browser::default()).await.json();
    jwks["keys"].as_array().expect("keys").iter().map(|k| k["kid"].as_str().expect("kid").to_owned()).collect()
}
