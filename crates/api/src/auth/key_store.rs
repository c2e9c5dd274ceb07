//! Where the keys come from and when they are fetched again: OpenID
//! Connect discovery of the issuer's `jwks_uri`, the HTTP fetch (bounded in
//! size), and the [`KeyStore`] that holds the current [`KeySet`] and
//! refetches it.
//!
//! Keys are converted once, when a JWKS document is loaded; the set is
//! swapped atomically as a whole (`Arc<KeySet>`), so readers never see a
//! half-updated set and never wait for a fetch.
//!
//! A token naming an unknown `kid` triggers a refetch (the issuer may have
//! rotated its keys) at once, single-flight: concurrent requests wait for the
//! one fetch in progress instead of each starting their own. A refetch that
//! still lacks the key (a miss) or fails starts a cooldown
//! ([`RefreshOptions::cooldown_after_miss`]) during which unknown `kid`s are
//! refused without a fetch. So a key the issuer has just published is
//! picked up by the first token that names it, however recently the keys
//! were fetched, and a flood of forged `kid`s costs the issuer at most one
//! fetch per cooldown. This is the only network I/O a request can cause.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::issuer::{Issuer, is_acceptable_transport};
use super::key_set::{JwksError, KeySet};

/// A JWKS document larger than this is refused: real ones are a few KiB.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// Redirects followed on the way to a discovery or JWKS document.
pub const MAX_REDIRECTS: usize = 3;
/// How long one discovery or JWKS request may take, from connecting to the
/// last byte of the body, unless `--issuer-timeout-seconds` says otherwise:
/// an issuer that accepts the connection and never answers, or trickles its
/// answer, costs at most this (a request waiting on that fetch answers `503`
/// or `401 unknown key` afterwards, never hangs).
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest wait for the TCP (and TLS) connection itself.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Why fetching the issuer's keys failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("request to {url} failed: {reason}")]
    Http { url: Url, reason: String },
    #[error("{url} answered {status}")]
    Status { url: Url, status: reqwest::StatusCode },
    #[error("{url} sent more than {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge { url: Url },
    #[error("{url} did not send the expected JSON: {source}")]
    Json { url: Url, source: serde_json::Error },
    #[error("the discovery document names issuer {found:?}, not the configured {expected:?}")]
    IssuerMismatch { expected: String, found: String },
    #[error("the discovery document's jwks_uri {0:?} is not an absolute http(s) URL")]
    BadJwksUri(String),
    #[error(
        "the discovery document's jwks_uri {0:?} is plain http to another host than this machine, or while the issuer is https"
    )]
    InsecureJwksUri(String),
    #[error("the key set at {url} is unusable: {source}")]
    Jwks { url: Url, source: JwksError },
}

/// How eagerly the store may go back to the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshOptions {
    /// After a request-triggered fetch that did not bring the wanted key
    /// (or failed), no other is made for this long. A fetch that found its
    /// key starts no cooldown: the next rotation is picked up at once too.
    pub cooldown_after_miss: Duration,
    /// The shorter interval used while no key set was ever loaded (the issuer
    /// was down at start-up): every token fails until then, so retrying
    /// sooner costs nothing and shortens the outage.
    pub retry_interval_while_unavailable: Duration,
}

impl Default for RefreshOptions {
    fn default() -> Self {
        RefreshOptions {
            cooldown_after_miss: Duration::from_secs(5),
            retry_interval_while_unavailable: Duration::from_secs(5),
        }
    }
}

/// Where keys come from when the store fetches them.
struct Remote {
    issuer: Issuer,
    http: reqwest::Client,
    options: RefreshOptions,
    /// Held for the whole of a fetch: this lock is what makes refreshes single-flight.
    state: tokio::sync::Mutex<RefreshState>,
}

#[derive(Default)]
struct RefreshState {
    /// Learnt from discovery; forgotten when a JWKS fetch fails, in case it moved.
    jwks_uri: Option<Url>,
    /// When the last request-triggered fetch missed (or failed): the start
    /// of the cooldown.
    last_miss: Option<Instant>,
}

#[derive(Deserialize)]
struct DiscoveryDocument {
    issuer: String,
    jwks_uri: String,
}

/// The current key set, and how to refresh it.
pub struct KeyStore {
    current: RwLock<Arc<KeySet>>,
    /// Mirrors `current.generation` so that a cache can check it without a lock.
    generation: AtomicU64,
    remote: Option<Remote>,
}

impl KeyStore {
    /// A store with a fixed key set that never goes to the network (tests,
    /// or a deployment that pins its keys).
    pub fn fixed(set: KeySet) -> KeyStore {
        let store =
            KeyStore { current: RwLock::new(Arc::new(KeySet::default())), generation: AtomicU64::new(0), remote: None };
        store.install(set);
        store
    }

    /// A store that discovers the issuer's `jwks_uri` and fetches keys from
    /// it. It starts empty: call [`KeyStore::load`] (or
    /// [`KeyStore::load_with_retries`]) at start-up; tokens arriving before
    /// then trigger a load themselves.
    pub fn discover(issuer: Issuer, http: reqwest::Client, options: RefreshOptions) -> KeyStore {
        KeyStore {
            current: RwLock::new(Arc::new(KeySet::default())),
            generation: AtomicU64::new(0),
            remote: Some(Remote { issuer, http, options, state: tokio::sync::Mutex::new(RefreshState::default()) }),
        }
    }

    /// The HTTP client the API uses for discovery and JWKS fetches, each
    /// request bounded by `timeout` ([`DEFAULT_FETCH_TIMEOUT`] in
    /// production) from connecting to the end of the body. It follows at
    /// most [`MAX_REDIRECTS`] redirects, and none that downgrades: an https
    /// request never continues over http, and http never leaves this
    /// machine ([`redirect_policy`]).
    pub fn http_client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
        reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                match redirect_policy(attempt.previous(), attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(reason) => attempt.error(reason),
                }
            }))
            .user_agent(concat!("permission-spa-api/", env!("CARGO_PKG_VERSION")))
            .build()
    }

    /// The key set in use.
    pub fn current(&self) -> Arc<KeySet> {
        // A poisoned lock only means a writer panicked between two plain
        // assignments; the `Arc` inside is still whole, so keep using it.
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The generation of the key set in use, without taking the lock.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether keys come from the network (so a missing set means the issuer is unreachable).
    pub fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    fn install(&self, mut set: KeySet) -> Arc<KeySet> {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        set.generation = current.generation + 1;
        let set = Arc::new(set);
        *current = set.clone();
        self.generation.store(set.generation, Ordering::Release);
        set
    }

    /// Fetches the keys now, whatever the rate limit says (start-up, or a
    /// periodic refresh). Waits for a fetch already in progress first.
    pub async fn load(&self) -> Result<usize, FetchError> {
        let Some(remote) = &self.remote else {
            return Ok(self.current().len());
        };
        // Deliberate loads do not count against the rate limit, which is
        // there for request-triggered fetches: a rotation just after start-up
        // must still be picked up by the first token that needs it.
        let mut state = remote.state.lock().await;
        let set = self.fetch(remote, &mut state).await?;
        Ok(self.install(set).len())
    }

    /// Start-up loading: retries with a growing delay (the issuer may start a
    /// moment after the API) until it succeeds or `give_up_after` has passed.
    /// Afterwards, tokens trigger further attempts themselves.
    pub async fn load_with_retries(&self, give_up_after: Duration) -> bool {
        let deadline = Instant::now() + give_up_after;
        let mut delay = Duration::from_millis(250);
        loop {
            match self.load().await {
                Ok(count) => {
                    tracing::info!(keys = count, "loaded the issuer's signing keys");
                    return true;
                }
                Err(error) if Instant::now() + delay < deadline => {
                    tracing::warn!("cannot load the issuer's signing keys yet, retrying in {delay:?}: {error}");
                }
                Err(error) => {
                    tracing::error!(
                        "cannot load the issuer's signing keys: {error}; tokens will be refused with 503 \
                         and loading retried when they arrive"
                    );
                    return false;
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(4));
        }
    }

    /// The background upkeep `main` runs: the start-up load with retries,
    /// then a reload every `period`, so that a key the issuer withdrew stops
    /// being trusted even if no token ever names an unknown `kid`. A failed
    /// reload keeps the current set.
    pub async fn maintain(&self, startup_window: Duration, period: Duration) {
        self.load_with_retries(startup_window).await;
        loop {
            tokio::time::sleep(period).await;
            match self.load().await {
                Ok(count) => tracing::debug!(keys = count, "reloaded the issuer's signing keys"),
                Err(error) => {
                    tracing::warn!("cannot reload the issuer's signing keys, keeping the current ones: {error}")
                }
            }
        }
    }

    /// Request-triggered refresh, after the set of generation `seen` lacked a
    /// key; `has_key` says whether a set has it. Single-flight: a caller
    /// that waited while another fetched gets that result without fetching
    /// again. Rate-limited: within the cooldown after a fetch that missed or
    /// failed, the current set is returned unchanged.
    pub async fn refresh_after(&self, seen: u64, has_key: impl Fn(&KeySet) -> bool) -> Arc<KeySet> {
        let Some(remote) = &self.remote else {
            return self.current();
        };
        let mut state = remote.state.lock().await;
        let current = self.current();
        if current.generation != seen {
            return current;
        }
        let cooldown = if current.is_empty() {
            remote.options.retry_interval_while_unavailable
        } else {
            remote.options.cooldown_after_miss
        };
        if state.last_miss.is_some_and(|at| at.elapsed() < cooldown) {
            return current;
        }
        match self.fetch(remote, &mut state).await {
            Ok(set) => {
                tracing::info!(keys = set.len(), "refetched the issuer's signing keys");
                let set = self.install(set);
                state.last_miss = if has_key(&set) { None } else { Some(Instant::now()) };
                set
            }
            Err(error) => {
                tracing::warn!("cannot refetch the issuer's signing keys: {error}");
                state.last_miss = Some(Instant::now());
                current
            }
        }
    }

    async fn fetch(&self, remote: &Remote, state: &mut RefreshState) -> Result<KeySet, FetchError> {
        let jwks_uri = match &state.jwks_uri {
            Some(uri) => uri.clone(),
            None => {
                let uri = discover(remote).await?;
                state.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let result = get_json(&remote.http, &jwks_uri).await.and_then(|doc| {
            KeySet::from_jwks(&doc).map_err(|source| FetchError::Jwks { url: jwks_uri.clone(), source })
        });
        if result.is_err() {
            state.jwks_uri = None;
        }
        result
    }
}

/// Reads the issuer's discovery document and returns its `jwks_uri`.
async fn discover(remote: &Remote) -> Result<Url, FetchError> {
    let url = remote.issuer.discovery_url();
    let document = get_json(&remote.http, url).await?;
    let document =
        DiscoveryDocument::deserialize(&document).map_err(|source| FetchError::Json { url: url.clone(), source })?;
    // OpenID Connect Discovery §4.3: the document must name exactly the
    // issuer it was fetched for, or its keys could be anyone's.
    if document.issuer != remote.issuer.as_str() {
        return Err(FetchError::IssuerMismatch { expected: remote.issuer.to_string(), found: document.issuer });
    }
    let jwks_uri = Url::parse(&document.jwks_uri).map_err(|_| FetchError::BadJwksUri(document.jwks_uri.clone()))?;
    match jwks_uri.scheme() {
        "https" => {}
        "http" if !remote.issuer.is_https() && is_acceptable_transport(&jwks_uri) => {}
        "http" => return Err(FetchError::InsecureJwksUri(document.jwks_uri)),
        _ => return Err(FetchError::BadJwksUri(document.jwks_uri)),
    }
    Ok(jwks_uri)
}

/// Whether a fetch that went through `previous` (the first request first)
/// may follow a redirect to `next`: within [`MAX_REDIRECTS`], to an
/// acceptable transport (https, or http on this machine), and never from
/// https down to http, which would let anyone on the path answer.
fn redirect_policy(previous: &[Url], next: &Url) -> Result<(), &'static str> {
    if previous.len() > MAX_REDIRECTS {
        return Err("too many redirects");
    }
    if previous.iter().any(|url| url.scheme() == "https") && next.scheme() != "https" {
        return Err("a redirect from https to plain http is refused");
    }
    if !is_acceptable_transport(next) {
        return Err("a redirect to plain http off this machine is refused");
    }
    Ok(())
}

/// An error and its causes on one line: reqwest's own message ("error
/// sending request") hides the useful part ("connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// GETs a JSON document, refusing bodies over [`MAX_DOCUMENT_BYTES`].
async fn get_json(http: &reqwest::Client, url: &Url) -> Result<Value, FetchError> {
    let http_error = |error: reqwest::Error| FetchError::Http { url: url.clone(), reason: error_chain(&error) };
    let mut response =
        http.get(url.clone()).header(reqwest::header::ACCEPT, "application/json").send().await.map_err(http_error)?;
    if !response.status().is_success() {
        return Err(FetchError::Status { url: url.clone(), status: response.status() });
    }
    if response.content_length().is_some_and(|len| len > MAX_DOCUMENT_BYTES as u64) {
        return Err(FetchError::TooLarge { url: url.clone() });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(http_error)? {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(FetchError::TooLarge { url: url.clone() });
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|source| FetchError::Json { url: url.clone(), source })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::auth::key_set::tests::rsa_jwk;

    #[test]
    fn redirects_never_downgrade() {
        let url = |s: &str| Url::parse(s).unwrap();
        let https = url("https://idp.example/.well-known/openid-configuration");
        let local = url("http://127.0.0.1:8081/.well-known/openid-configuration");
        assert_eq!(redirect_policy(std::slice::from_ref(&https), &url("https://cdn.example/jwks")), Ok(()));
        assert_eq!(redirect_policy(std::slice::from_ref(&local), &url("http://localhost:8081/jwks")), Ok(()));
        assert_eq!(redirect_policy(std::slice::from_ref(&local), &url("https://idp.example/jwks")), Ok(()));
        assert!(redirect_policy(std::slice::from_ref(&https), &url("http://127.0.0.1/jwks")).is_err());
        assert!(redirect_policy(&[local.clone(), https.clone()], &url("http://127.0.0.1/jwks")).is_err());
        assert!(redirect_policy(std::slice::from_ref(&local), &url("http://evil.example/jwks")).is_err());
        assert!(redirect_policy(std::slice::from_ref(&local), &url("file:///etc/passwd")).is_err());
        let chain = vec![https.clone(); MAX_REDIRECTS + 1];
        assert_eq!(redirect_policy(&chain, &https), Err("too many redirects"));
        assert_eq!(redirect_policy(&chain[..MAX_REDIRECTS], &https), Ok(()));
    }

    #[test]
    fn fixed_stores_number_their_sets() {
        let store = KeyStore::fixed(KeySet::from_jwks(&json!({"keys": [rsa_jwk("a", None)]})).unwrap());
        assert_eq!(store.generation(), 1);
        assert_eq!(store.current().generation(), 1);
        assert!(!store.is_remote());
    }
}
