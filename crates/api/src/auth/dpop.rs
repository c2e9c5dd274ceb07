//! DPoP at the API (RFC 9449 §7): what a request with
//! `Authorization: DPoP <token>` must also prove, and how the API is
//! configured for it ([`DpopPolicy`]).
//!
//! A DPoP-bound access token names, in its `cnf.jkt` claim, the thumbprint
//! of a key only its client holds. With each request the client sends a
//! fresh proof, signed by that key, naming the request's method and URL,
//! the time, and the hash of the token. The API checks, per request and
//! never from a cache: exactly one `DPoP` header; the proof itself
//! ([`dpop::verify`]: `typ`, `alg`, public `jwk`, signature, `htm`, `htu`,
//! `iat`, `ath`, and the nonce when [`DpopPolicy::with_nonces`] asks for
//! one); that its key is the token's `cnf.jkt`; and that its `jti` was not
//! seen before ([`dpop::ReplayCache`], remembered for the `iat` window).
//!
//! # The URL a proof must name
//!
//! `htu` is the URL *as the client addressed it*, which behind a reverse
//! proxy (the SPA's origin serving the API under `/api/v1`, or `trunk
//! serve`'s proxy) is not what the API sees. So the expected URL is the
//! configured public URL of the API's base ([`PublicUrl`], `--public-url`)
//! followed by the request's path below [`contract::api::DEFAULT_BASE`].
//! Without it, the URL is built from the request's own `Host` and `http`,
//! which is right only when clients reach the API directly over plain HTTP
//! (local development). `X-Forwarded-*` headers are never read: any client
//! can send them, and a proof could then name any URL it likes.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use axum::http::header::HOST;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use contract::api;
use dpop::{Expected, Nonces, ProofError, ReplayCache, Window};
use url::Url;

/// The request header of the proof (`DPoP`), lower-case as `http` stores it.
pub static DPOP: HeaderName = HeaderName::from_static("dpop");
/// The response header of a server nonce (`DPoP-Nonce`).
pub static DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// How many accepted proofs the replay cache remembers at most: with the
/// default window's 71 s of memory, about 1,400 DPoP requests per second
/// before the oldest are evicted early (see [`dpop::ReplayCache`]), in at
/// most about 6 MB.
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

/// How long one server nonce is handed out; each is accepted for one to
/// two of these. Five minutes: every response to a DPoP request carries the
/// current nonce, so only a client idle for that long pays a
/// `use_dpop_nonce` round trip, while a proof still cannot be made in
/// advance for longer than ten minutes (and the `iat` window still applies).
pub const DEFAULT_NONCE_WINDOW: Duration = Duration::from_secs(300);

/// The URL at which clients reach the API's base path: an absolute `http`
/// or `https` URL without user, query or fragment, kept without a trailing
/// slash (`https://app.example.com/api/v1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// Validates a public URL (see the type's documentation).
    pub fn parse(value: &str) -> Result<PublicUrl, String> {
        let url = Url::parse(value.trim())
            .map_err(|_| format!("{value:?} is not an absolute URL such as https://app.example.com/api/v1"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(format!("{value:?} is not an http(s) URL with a host"));
        }
        if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
            return Err(format!("{value:?} has a user, query or fragment; the API's URL has none"));
        }
        Ok(PublicUrl(url.as_str().trim_end_matches('/').to_owned()))
    }

    /// The URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PublicUrl {
    type Err = String;

    fn from_str(value: &str) -> Result<PublicUrl, String> {
        PublicUrl::parse(value)
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the API treats DPoP. The default accepts DPoP-bound tokens (with
/// proofs) and unbound bearer tokens alike, without nonces, and derives the
/// expected `htu` from the `Host` header.
#[derive(Debug)]
pub struct DpopPolicy {
    required: bool,
    public_urls: Vec<PublicUrl>,
    nonces: Option<Nonces>,
    window: Window,
    replay: ReplayCache,
}

impl Default for DpopPolicy {
    fn default() -> DpopPolicy {
        let window = Window::default();
        DpopPolicy {
            required: false,
            public_urls: Vec::new(),
            nonces: None,
            window,
            replay: ReplayCache::new(DEFAULT_REPLAY_CAPACITY, window.replay_ttl()),
        }
    }
}

impl DpopPolicy {
    /// Refuses bearer tokens (every request must use the DPoP scheme) when `required`.
    pub fn with_required(mut self, required: bool) -> DpopPolicy {
        self.required = required;
        self
    }

    /// Expects proofs to name URLs below one of `public_urls` (see the module
    /// documentation): several when the SPA is served at several origins
    /// (`http://127.0.0.1:8080` and `http://localhost:8080` in development).
    pub fn with_public_urls(mut self, public_urls: Vec<PublicUrl>) -> DpopPolicy {
        self.public_urls = public_urls;
        self
    }

    /// Requires each proof to carry a nonce of `nonces`.
    pub fn with_nonces(mut self, nonces: Option<Nonces>) -> DpopPolicy {
        self.nonces = nonces;
        self
    }

    /// Accepts proofs whose `iat` is within `window` (and sizes the replay
    /// cache's memory to it).
    pub fn with_window(mut self, window: Window) -> DpopPolicy {
        self.window = window;
        self.replay = ReplayCache::new(DEFAULT_REPLAY_CAPACITY, window.replay_ttl());
        self
    }

    /// Whether bearer tokens are refused.
    pub fn required(&self) -> bool {
        self.required
    }

    /// The nonces proofs must carry, if any.
    pub fn nonces(&self) -> Option<&Nonces> {
        self.nonces.as_ref()
    }

    /// The memory of accepted proofs.
    pub fn replay_cache(&self) -> &ReplayCache {
        &self.replay
    }

    /// Checks the `DPoP` header of the request `parts` for the access token
    /// `token`, bound to the key `jkt` (its `cnf.jkt`), at `now` (Unix
    /// seconds). Records the proof as used when, and only when, it passes.
    pub fn check(&self, parts: &Parts, token: &str, jkt: &str, now: u64) -> Result<(), ProofError> {
        let values = parts.headers.get_all(&DPOP).iter().map(HeaderValue::as_bytes);
        let proof = dpop::single_proof(values)?.ok_or(ProofError::Missing)?;
        // The proof may name any URL the request may have been addressed to.
        let htus = self.expected_htus(parts);
        let htus: Vec<&str> = htus.iter().map(String::as_str).collect();
        let expected = Expected {
            htm: parts.method.as_str(),
            htus: &htus,
            access_token: Some(token),
            nonce: self.nonces.as_ref(),
            now,
        };
        let proof = dpop::verify(proof, &expected, &self.window)?;
        if proof.jkt != jkt {
            return Err(ProofError::Jkt);
        }
        self.replay.check_and_insert(&proof.jkt, &proof.jti, now)
    }

    /// The URLs the request's proof may name: each public URL and the path
    /// below the API's base, or `http://{Host}{path}` without a public URL.
    /// None when there is no way to build one (a path outside the base with
    /// public URLs, no usable `Host`).
    pub fn expected_htus(&self, parts: &Parts) -> Vec<String> {
        let path = parts.uri.path();
        if !self.public_urls.is_empty() {
            let Some(below) = path.strip_prefix(api::DEFAULT_BASE) else { return Vec::new() };
            return self.public_urls.iter().map(|base| format!("{}{below}", base.as_str())).collect();
        }
        // HTTP/2 carries the authority in the URI; HTTP/1.1 in `Host`.
        let host = match parts.uri.authority() {
            Some(authority) => Some(authority.as_str()),
            None => parts.headers.get(HOST).and_then(|host| host.to_str().ok()),
        };
        host.map(|host| format!("http://{host}{path}")).into_iter().collect()
    }
}

/// The `DPoP-Nonce` header value for `now`, when nonces are required.
pub(crate) fn nonce_header(policy: &DpopPolicy, now: u64) -> Option<HeaderValue> {
    HeaderValue::try_from(policy.nonces()?.current(now)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(uri: &str, host: Option<&str>) -> Parts {
        let mut request = Request::get(uri);
        if let Some(host) = host {
            request = request.header(HOST, host);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn public_urls_are_validated_and_kept_without_a_trailing_slash() {
        assert_eq!(
            PublicUrl::parse("https://app.example.com/api/v1/").unwrap().as_str(),
            "https://app.example.com/api/v1"
        );
        assert_eq!(PublicUrl::parse("HTTP://127.0.0.1:8080/api/v1").unwrap().as_str(), "http://127.0.0.1:8080/api/v1");
        assert_eq!(PublicUrl::parse("https://api.example.com").unwrap().as_str(), "https://api.example.com");
        for bad in [
            "",
            "/api/v1",
            "api.example.com",
            "ftp://api.example.com",
            "https://api.example.com/api/v1?x=1",
            "https://api.example.com/api/v1#x",
            "https://u:p@api.example.com/api/v1",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_expected_htu_follows_the_public_url_or_the_host() {
        let direct = DpopPolicy::default();
        assert_eq!(
            direct.expected_htus(&parts("/api/v1/projects?page=2", Some("127.0.0.1:3000"))),
            ["http://127.0.0.1:3000/api/v1/projects"]
        );
        assert_eq!(
            direct.expected_htus(&parts("http://h2.example/api/v1/projects", None)),
            ["http://h2.example/api/v1/projects"]
        );
        assert!(direct.expected_htus(&parts("/api/v1/projects", None)).is_empty());

        let proxied = DpopPolicy::default().with_public_urls(vec![
            PublicUrl::parse("https://app.example.com/backend/api/v1").unwrap(),
            PublicUrl::parse("http://localhost:8080/api/v1").unwrap(),
        ]);
        assert_eq!(
            proxied.expected_htus(&parts("/api/v1/users/3/roles", Some("127.0.0.1:3000"))),
            ["https://app.example.com/backend/api/v1/users/3/roles", "http://localhost:8080/api/v1/users/3/roles"]
        );
        assert!(proxied.expected_htus(&parts("/healthz", Some("x"))).is_empty());
    }
}
