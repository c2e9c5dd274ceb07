//! Signing in without a browser: the authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636) against
//! dev-idp over plain HTTP, exactly as the SPA and the provider's sign-in page run it in a browser — so a test
//! can call the api with a user's real access token and see what the server enforces, whatever the UI shows.
//!
//! [`Harness::sign_in_http`] asks `/authorize` (with an S256 challenge, `state`, `nonce`, the SPA's scope and
//! the API audience), reads the sign-in page's form (its hidden fields, CSRF token included), submits it as
//! the `signin-<username>` button would, with the provider's cookies, takes the code from the `303` back to
//! `{spa origin}/callback` (checking `state` and `iss`), and redeems it at the token endpoint with the verifier.
//! Every step that goes wrong says what the provider answered.

use crate::Harness;
use anyhow::{Context, Result, bail, ensure};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use permissions::names::{API_AUDIENCE, CLIENT_ID};
use reqwest::header::{COOKIE, HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;
use url::Url;

/// The scope the SPA asks for (the e2e contract's default).
pub const SPA_SCOPE: &str = "openid profile email offline_access";

/// How long each HTTP request of the flow, and of [`Harness::api_call`], may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of an unexpected answer an error quotes.
const QUOTE_CHARS: usize = 1500;

/// What the token endpoint issued for a sign-in.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: String,
    pub id_token: String,
    /// Present when `offline_access` was granted.
    pub refresh_token: Option<String>,
    /// The granted scope, space-separated.
    pub scope: String,
}

/// What the api answered to [`Harness::api_call`]: the status, the headers and the body (JSON, or the text as
/// a JSON string; `Null` when empty).
#[derive(Debug, Clone)]
pub struct ApiAnswer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl ApiAnswer {
    /// The `WWW-Authenticate` challenge, if the answer has one.
    pub fn www_authenticate(&self) -> Option<&str> {
        self.headers.get(reqwest::header::WWW_AUTHENTICATE).and_then(|value| value.to_str().ok())
    }
}

impl Harness {
    /// Signs `username` in through dev-idp without a browser and returns their access token for the api.
    pub async fn access_token_for(&self, username: &str) -> Result<String> {
        Ok(self.sign_in_http(username).await?.access_token)
    }

    /// Runs the whole authorization code + PKCE flow for `username` over HTTP (see the module documentation)
    /// and returns the tokens the provider issued.
    pub async fn sign_in_http(&self, username: &str) -> Result<TokenSet> {
        let metadata = self.provider_metadata().await?;
        let authorization_endpoint = metadata["authorization_endpoint"]
            .as_str()
            .with_context(|| format!("the discovery document names no authorization_endpoint: {metadata}"))?;
        let issuer = self.issuer();
        let redirect_uri = contract::routes::redirect_uri(self.spa_origin());
        let verifier = random_token()?;
        let challenge = s256_challenge(&verifier);
        let state = random_token()?;
        let nonce = random_token()?;

        let mut authorize = Url::parse(authorization_endpoint)
            .with_context(|| format!("the authorization_endpoint {authorization_endpoint:?} is not a URL"))?;
        authorize
            .query_pairs_mut()
            .append_pair("client_id", CLIENT_ID)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", SPA_SCOPE)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("audience", API_AUDIENCE);

        let mut agent = Agent::new()?;
        let page = agent.send(Method::GET, authorize.clone(), None).await?;
        ensure!(
            page.status == StatusCode::OK,
            "GET {authorize} answered {} (expected the sign-in page){}: {}",
            page.status,
            location_note(&page.headers),
            quote(&page.text)
        );
        let form = SignInForm::parse(&page.text, &authorize)
            .with_context(|| format!("reading the sign-in page of GET {authorize}: {}", quote(&page.text)))?;
        let body = form.submission_as(username)?;

        let answer = agent.send(form.method.clone(), form.action.clone(), Some(body)).await?;
        ensure!(
            answer.status == StatusCode::SEE_OTHER,
            "signing in as {username} (POST {}) answered {} (expected 303 to the callback){}: {}",
            form.action,
            answer.status,
            location_note(&answer.headers),
            quote(&answer.text)
        );
        let location = answer
            .headers
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .context("the sign-in's 303 has no Location")?;
        let callback = form.action.join(location).with_context(|| format!("the Location {location:?} is no URL"))?;
        let code = code_from_callback(&callback, &redirect_uri, &state, &issuer)?;

        let tokens = self
            .token_request(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &redirect_uri),
                ("client_id", CLIENT_ID),
                ("code_verifier", &verifier),
            ])
            .await?;
        ensure!(
            tokens.status == StatusCode::OK,
            "the token endpoint refused the code for {username}: {} {}",
            tokens.status,
            tokens.body
        );
        let field = |name: &str| tokens.body[name].as_str().map(str::to_owned);
        let token_type = field("token_type").unwrap_or_default();
        ensure!(token_type.eq_ignore_ascii_case("bearer"), "the token endpoint issued a {token_type:?} token");
        Ok(TokenSet {
            access_token: field("access_token")
                .with_context(|| format!("the token answer has no access_token: {}", tokens.body))?,
            id_token: field("id_token")
                .with_context(|| format!("the token answer has no id_token: {}", tokens.body))?,
            refresh_token: field("refresh_token"),
            scope: field("scope").unwrap_or_default(),
        })
    }

    /// Calls the api through the SPA's origin (its `/api` proxy, as the browser does): `method` on `path`
    /// (e.g. `/api/v1/users`), with `Authorization: Bearer <token>` when a token is given and `json` as the
    /// body when given. Returns the answer whatever its status.
    pub async fn api_call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        json: Option<&Value>,
    ) -> Result<ApiAnswer> {
        let url = self.spa_url(path);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()
            .context("building an HTTP client")?;
        let mut request = client.request(method.clone(), &url).header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(json) = json {
            request = request.json(json);
        }
        let response = request.send().await.with_context(|| format!("{method} {url}"))?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.with_context(|| format!("reading the answer of {method} {url}"))?;
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Ok(ApiAnswer { status, headers, body })
    }
}

/// An HTTP client for the provider that keeps its cookies between requests, as a browser would (dev-idp binds
/// the sign-in form to a cookie). Redirects are not followed: the flow reads them.
struct Agent {
    client: reqwest::Client,
    /// Cookie name → value. One host only (the provider), so neither domains nor paths need tracking.
    cookies: BTreeMap<String, String>,
}

/// One answer, read whole.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Agent {
    fn new() -> Result<Agent> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()
            .context("building the sign-in HTTP client")?;
        Ok(Agent { client, cookies: BTreeMap::new() })
    }

    /// Sends a request (with `form` as an urlencoded body, if given) and remembers the cookies it sets.
    async fn send(&mut self, method: Method, url: Url, form: Option<String>) -> Result<Answer> {
        let mut request = self.client.request(method.clone(), url.clone());
        if !self.cookies.is_empty() {
            let header = self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>();
            request = request.header(COOKIE, header.join("; "));
        }
        if let Some(form) = form {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(form);
        }
        let response = request.send().await.with_context(|| format!("{method} {url}"))?;
        let status = response.status();
        let headers = response.headers().clone();
        for value in headers.get_all(SET_COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            self.remember(value);
        }
        let text = response.text().await.with_context(|| format!("reading the answer of {method} {url}"))?;
        Ok(Answer { status, headers, text })
    }

    /// Applies one `Set-Cookie`: stores the value, or forgets the cookie when it is deleted (`Max-Age=0`).
    fn remember(&mut self, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else { return };
        let deleted = parts.any(|attribute| {
            attribute.split_once('=').is_some_and(|(key, value)| {
                key.trim().eq_ignore_ascii_case("max-age") && value.trim().parse::<i64>().is_ok_and(|age| age <= 0)
            })
        });
        let name = name.trim().to_string();
        if deleted {
            self.cookies.remove(&name);
        } else {
            self.cookies.insert(name, value.trim().to_string());
        }
    }
}

/// The provider's sign-in form: where it posts, its hidden fields, and one submit button per user.
#[derive(Debug)]
struct SignInForm {
    method: Method,
    action: Url,
    hidden: Vec<(String, String)>,
    /// `data-testid` → (`name`, `value`) of each submit button.
    buttons: Vec<(String, (String, String))>,
}

impl SignInForm {
    /// Reads the form out of the page at `page_url`.
    fn parse(html: &str, page_url: &Url) -> Result<SignInForm> {
        let start = find_tag(html, "form", 0).context("the page has no <form>")?;
        let form_tag = parse_tag(&html[start..]).context("the <form> tag does not end")?;
        let end = html[start..].find("</form>").map_or(html.len(), |offset| start + offset);
        let inner = &html[start..end];

        let method = match form_tag.attr("method").unwrap_or("get").to_ascii_uppercase().as_str() {
            "POST" => Method::POST,
            "GET" => Method::GET,
            other => bail!("the form's method is {other:?}"),
        };
        // The action is relative to the page (dev-idp writes `action="authorize"`).
        let action = page_url
            .join(form_tag.attr("action").unwrap_or(""))
            .with_context(|| format!("the form's action {:?} is no URL", form_tag.attr("action")))?;

        let mut hidden = Vec::new();
        for tag in tags(inner, "input") {
            if tag.attr("type").is_some_and(|kind| kind.eq_ignore_ascii_case("hidden"))
                && let Some(name) = tag.attr("name")
            {
                hidden.push((name.to_string(), tag.attr("value").unwrap_or("").to_string()));
            }
        }
        let mut buttons = Vec::new();
        for tag in tags(inner, "button") {
            let submits = tag.attr("type").is_none_or(|kind| kind.eq_ignore_ascii_case("submit"));
            if let (true, Some(testid), Some(name)) = (submits, tag.attr("data-testid"), tag.attr("name")) {
                buttons.push((testid.to_string(), (name.to_string(), tag.attr("value").unwrap_or("").to_string())));
            }
        }
        ensure!(
            hidden.iter().any(|(name, _)| name == "csrf_token"),
            "the sign-in form carries no csrf_token field (hidden fields: {:?})",
            hidden.iter().map(|(name, _)| name).collect::<Vec<_>>()
        );
        Ok(SignInForm { method, action, hidden, buttons })
    }

    /// The urlencoded body a browser sends when `signin-<username>` is clicked: every hidden field, then the
    /// button's own name and value.
    fn submission_as(&self, username: &str) -> Result<String> {
        let testid = format!("signin-{username}");
        let Some((_, (name, value))) = self.buttons.iter().find(|(id, _)| *id == testid) else {
            let offered: Vec<&str> = self.buttons.iter().map(|(id, _)| id.as_str()).collect();
            bail!("the sign-in page has no {testid} button; it offers {offered:?}");
        };
        let mut body = url::form_urlencoded::Serializer::new(String::new());
        for (field, field_value) in &self.hidden {
            body.append_pair(field, field_value);
        }
        body.append_pair(name, value);
        Ok(body.finish())
    }
}

/// Checks the redirect back to the SPA and takes the code out of it.
fn code_from_callback(callback: &Url, redirect_uri: &str, state: &str, issuer: &str) -> Result<String> {
    let mut base = callback.clone();
    base.set_query(None);
    base.set_fragment(None);
    ensure!(base.as_str() == redirect_uri, "the sign-in redirected to {callback}, not to {redirect_uri}");
    let params: BTreeMap<String, String> = callback.query_pairs().into_owned().collect();
    if let Some(error) = params.get("error") {
        bail!(
            "the provider answered error={error} ({}) to {callback}",
            params.get("error_description").map_or("no description", String::as_str)
        );
    }
    ensure!(
        params.get("state").map(String::as_str) == Some(state),
        "the callback's state {:?} is not the one sent ({state:?})",
        params.get("state")
    );
    ensure!(
        params.get("iss").map(String::as_str) == Some(issuer),
        "the callback's iss {:?} is not the issuer {issuer:?}",
        params.get("iss")
    );
    params.get("code").cloned().with_context(|| format!("the callback {callback} carries no code"))
}

/// 32 random bytes from the kernel, base64url without padding: 43 characters, a valid PKCE verifier and an
/// unguessable `state` or `nonce`.
fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut file| file.read_exact(&mut bytes))
        .context("reading /dev/urandom")?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The S256 code challenge of `verifier`: base64url(SHA-256(verifier)), unpadded.
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// ` (Location: …)` when the answer redirects, for error messages.
fn location_note(headers: &HeaderMap) -> String {
    headers
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(|location| format!(" (Location: {location})"))
        .unwrap_or_default()
}

/// The start of `text`, for error messages.
fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// A start tag's attributes, names lowercased and values unescaped.
#[derive(Debug)]
struct Tag {
    attrs: Vec<(String, String)>,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// Every `<name ...>` start tag in `html`, in order.
fn tags<'a>(html: &'a str, name: &'a str) -> impl Iterator<Item = Tag> + 'a {
    let mut from = 0;
    std::iter::from_fn(move || {
        let start = find_tag(html, name, from)?;
        from = start + 1;
        parse_tag(&html[start..])
    })
}

/// Where the next `<name` start tag begins at or after `from` (case-insensitive; `<input` does not match
/// `<inputs`).
fn find_tag(html: &str, name: &str, from: usize) -> Option<usize> {
    let lower = html.to_ascii_lowercase();
    let needle = format!("<{name}");
    let mut at = from;
    while let Some(offset) = lower.get(at..)?.find(&needle) {
        let start = at + offset;
        let after = lower.as_bytes().get(start + needle.len()).copied();
        if matches!(after, Some(b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>')) {
            return Some(start);
        }
        at = start + needle.len();
    }
    None
}

/// Parses the start tag at the beginning of `html` (`<name attr="v" attr='v' attr=v attr>`).
fn parse_tag(html: &str) -> Option<Tag> {
    let bytes = html.as_bytes();
    let mut i = 1;
    while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>') {
        i += 1;
    }
    let mut attrs = Vec::new();
    loop {
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'/') {
            i += 1;
        }
        if *bytes.get(i)? == b'>' {
            return Some(Tag { attrs });
        }
        let name_start = i;
        while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>' | b'=') {
            i += 1;
        }
        let name = html[name_start..i].to_ascii_lowercase();
        let mut value = String::new();
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            match bytes.get(i)? {
                quote @ (b'"' | b'\'') => {
                    let end = i + 1 + html[i + 1..].find(*quote as char)?;
                    value = unescape(&html[i + 1..end]);
                    i = end + 1;
                }
                _ => {
                    let start = i;
                    while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'>') {
                        i += 1;
                    }
                    value = unescape(&html[start..i]);
                }
            }
        }
        attrs.push((name, value));
    }
}

/// Resolves the character references an attribute value can hold: the five named ones the provider writes
/// and numeric ones (`&#39;`, `&#x27;`). Anything else stays as written.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|semi| *semi <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let resolved = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match resolved {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_s256_challenge_is_the_unpadded_base64url_sha256() {
        // FIPS 180-2's first SHA-256 example: SHA-256("abc").
        let digest = URL_SAFE_NO_PAD.decode(s256_challenge("abc")).unwrap();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let challenge = s256_challenge(&random_token().unwrap());
        assert_eq!(challenge.len(), 43, "{challenge}");
        assert!(!challenge.contains(['=', '+', '/']), "{challenge}");
    }

    #[test]
    fn random_tokens_are_verifiers_and_differ() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(a.len(), 43);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a, b);
    }

    #[test]
    fn the_form_is_read_like_a_browser_would() {
        let html = r#"<main><FORM method="post" action="authorize"><input type="hidden" name="state" value="a&amp;b&#39;c">
            <input type="hidden" name="csrf_token" value='t.1'><input name="visible" value="x">
            <ul><li><button type="submit" class="user" name="username" value="jhon" data-testid="signin-jhon">J</button></li></ul>
            <button type="submit" name="cancel" value="1" data-testid="signin-cancel">Cancel</button></form>
            <button name="username" value="outside" data-testid="signin-outside"></button></main>"#;
        let page = Url::parse("http://127.0.0.1:9/authorize?client_id=x").unwrap();
        let form = SignInForm::parse(html, &page).unwrap();
        assert_eq!(form.method, Method::POST);
        assert_eq!(form.action.as_str(), "http://127.0.0.1:9/authorize");
        assert_eq!(
            form.hidden,
            vec![("state".to_string(), "a&b'c".to_string()), ("csrf_token".to_string(), "t.1".to_string())]
        );
        assert_eq!(form.submission_as("jhon").unwrap(), "state=a%26b%27c&csrf_token=t.1&username=jhon");
        assert!(form.submission_as("outside").is_err(), "buttons outside the form do not submit it");
    }

    #[test]
    fn the_callback_must_match_what_was_sent() {
        let ok = Url::parse("http://spa/callback?code=C&state=S&iss=http%3A%2F%2Fidp").unwrap();
        assert_eq!(code_from_callback(&ok, "http://spa/callback", "S", "http://idp").unwrap(), "C");
        assert!(code_from_callback(&ok, "http://spa/callback", "other", "http://idp").is_err());
        assert!(code_from_callback(&ok, "http://spa/callback", "S", "http://evil").is_err());
        assert!(code_from_callback(&ok, "http://spa/elsewhere", "S", "http://idp").is_err());
        let denied = Url::parse("http://spa/callback?error=access_denied&state=S&iss=http%3A%2F%2Fidp").unwrap();
        assert!(code_from_callback(&denied, "http://spa/callback", "S", "http://idp").is_err());
    }

    #[test]
    fn cookies_are_kept_and_deleted() {
        let mut agent = Agent::new().unwrap();
        agent.remember("dev_idp_csrf=abc; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax");
        agent.remember("dev_idp_session=s1; Path=/; Max-Age=3600; HttpOnly");
        agent.remember("dev_idp_session=; Path=/; Max-Age=0; HttpOnly");
        assert_eq!(agent.cookies.into_iter().collect::<Vec<_>>(), vec![("dev_idp_csrf".into(), "abc".into())]);
    }
}
