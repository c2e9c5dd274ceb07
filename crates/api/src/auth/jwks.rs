//! The issuer's public signing keys: discovery, the JWKS fetch and the cache.
//!
//! Keys are converted once, when a JWKS document is loaded, into
//! [`jsonwebtoken::DecodingKey`]s indexed by `kid`; a request only looks one
//! up. The set is swapped atomically as a whole (`Arc<KeySet>`), so readers
//! never see a half-updated set and never wait for a fetch.
//!
//! A token naming an unknown `kid` triggers a refetch (the issuer may have
//! rotated its keys), but at most once per [`RefreshOptions::min_interval`]
//! and single-flight: concurrent requests wait for the one fetch in progress
//! instead of each starting their own. This is the only network I/O a request
//! can cause, and its rate limit is what keeps a flood of forged `kid`s from
//! turning the API into an amplifier against the issuer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::issuer::Issuer;

/// The signature algorithms tokens may use. Never `none`, and never an HMAC
/// algorithm: the API holds no shared secret, and accepting HS* is what makes
/// "sign with the public key as the HMAC secret" forgeries possible.
pub const ALLOWED_ALGORITHMS: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// A JWKS document larger than this is refused: real ones are a few KiB.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// Keys past this many in one JWKS document are ignored.
const MAX_KEYS: usize = 64;
/// RSA moduli outside this range (in bits) are refused: smaller ones are
/// forgeable, larger ones the verifier would refuse on every token anyway.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;

/// What kind of public key a JWK holds, which decides the algorithms it fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    P256,
    P384,
}

impl KeyKind {
    fn fits(self, alg: Algorithm) -> bool {
        use Algorithm::*;
        matches!(
            (self, alg),
            (KeyKind::Rsa, RS256 | RS384 | RS512 | PS256 | PS384 | PS512)
                | (KeyKind::P256, ES256)
                | (KeyKind::P384, ES384)
        )
    }
}

/// One public key, ready to verify signatures.
pub struct VerificationKey {
    kid: Option<String>,
    kind: KeyKind,
    /// The JWK's own `alg`, when it pins one.
    alg: Option<Algorithm>,
    key: DecodingKey,
}

impl VerificationKey {
    /// Whether a token signed with `alg` may be checked with this key: the
    /// key type must match the algorithm family (and curve), and a key that
    /// names its algorithm is used with that one only.
    pub fn fits(&self, alg: Algorithm) -> bool {
        self.kind.fits(alg) && self.alg.is_none_or(|pinned| pinned == alg)
    }

    /// The key's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.key
    }
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("kind", &self.kind)
            .field("alg", &self.alg)
            .finish()
    }
}

/// A JWK as published; only the members this verifier looks at.
#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    usage: Option<String>,
    key_ops: Option<Vec<String>>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

/// Why a JWKS document was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("the document is not a JSON object with a `keys` array")]
    NotAKeySet,
    #[error("the key set holds no usable signing key ({skipped} skipped)")]
    NoUsableKeys { skipped: usize },
}

/// Decodes a base64url JWK member, tolerating the padding some providers add.
fn b64(value: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(value.trim_end_matches('=')).ok()
}

fn parse_key(raw: RawJwk) -> Result<VerificationKey, &'static str> {
    if raw.usage.as_deref().is_some_and(|u| u != "sig") {
        return Err("its `use` is not `sig`");
    }
    if raw.key_ops.as_ref().is_some_and(|ops| !ops.iter().any(|op| op == "verify")) {
        return Err("its `key_ops` do not include `verify`");
    }
    // A key pinned to an algorithm outside the allow-list (an encryption key
    // such as RSA-OAEP, or an HMAC key) is never used for tokens.
    let alg = match raw.alg.as_deref() {
        None => None,
        Some(name) => match ALLOWED_ALGORITHMS.iter().find(|a| alg_name(**a) == name) {
            Some(alg) => Some(*alg),
            None => return Err("its `alg` is not an accepted signature algorithm"),
        },
    };
    let (kind, key) = match raw.kty.as_str() {
        "RSA" => {
            let (Some(n), Some(e)) = (raw.n.as_deref().and_then(b64), raw.e.as_deref().and_then(b64)) else {
                return Err("its `n` or `e` is missing or not base64url");
            };
            let leading_zeros = n.iter().take_while(|b| **b == 0).count();
            let bits = (n.len() - leading_zeros) * 8;
            // Counting whole bytes is exact enough: a 2048-bit modulus has
            // its top bit set, so it always fills 256 bytes.
            if !RSA_BITS.contains(&bits) {
                return Err("its RSA modulus is not between 2048 and 4096 bits");
            }
            if e.is_empty() || e.len() > 8 {
                return Err("its RSA exponent is not plausible");
            }
            (KeyKind::Rsa, DecodingKey::from_rsa_raw_components(&n, &e))
        }
        "EC" => {
            let (kind, size) = match raw.crv.as_deref() {
                Some("P-256") => (KeyKind::P256, 32),
                Some("P-384") => (KeyKind::P384, 48),
                _ => return Err("its curve is not P-256 or P-384"),
            };
            let (Some(x), Some(y)) = (raw.x.as_deref(), raw.y.as_deref()) else {
                return Err("its `x` or `y` is missing");
            };
            let (x, y) = (x.trim_end_matches('='), y.trim_end_matches('='));
            if b64(x).is_none_or(|v| v.len() != size) || b64(y).is_none_or(|v| v.len() != size) {
                return Err("its `x` or `y` is not a base64url coordinate of the curve's size");
            }
            let key = DecodingKey::from_ec_components(x, y).map_err(|_| "its coordinates cannot be decoded")?;
            (kind, key)
        }
        _ => return Err("its `kty` is neither RSA nor EC"),
    };
    if alg.is_some_and(|alg| !kind.fits(alg)) {
        return Err("its `alg` does not fit its key type");
    }
    Ok(VerificationKey { kid: raw.kid, kind, alg, key })
}

/// The JOSE name of an algorithm (`RS256`).
pub(crate) fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
    }
}

/// Why no key was found for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMiss {
    /// No key has the token's `kid`.
    UnknownKid,
    /// The token has no `kid` and no key fits its algorithm.
    NoFittingKey,
    /// The token has no `kid` and several keys fit its algorithm.
    Ambiguous,
    /// A key has the token's `kid`, but its type or `alg` does not fit the
    /// token's algorithm (an algorithm-confusion attempt, or a misconfiguration).
    AlgorithmMismatch,
}

impl KeyMiss {
    /// Whether refetching the key set could help: only when a key may have
    /// been added since the set was loaded.
    pub fn warrants_refresh(self) -> bool {
        matches!(self, KeyMiss::UnknownKid | KeyMiss::NoFittingKey)
    }
}

/// A loaded set of verification keys.
#[derive(Debug, Default)]
pub struct KeySet {
    by_kid: HashMap<String, Vec<Arc<VerificationKey>>>,
    without_kid: Vec<Arc<VerificationKey>>,
    len: usize,
    /// Bumped by the [`KeyStore`] each time it installs a set.
    generation: u64,
}

impl KeySet {
    /// Reads a JWKS document (RFC 7517 §5). Keys this verifier cannot use
    /// (encryption keys, HMAC keys, unsupported curves, weak RSA moduli) are
    /// skipped with a warning; a set without any usable key is an error.
    pub fn from_jwks(document: &Value) -> Result<KeySet, JwksError> {
        let keys = document.get("keys").and_then(Value::as_array).ok_or(JwksError::NotAKeySet)?;
        let mut set = KeySet::default();
        let mut skipped = 0;
        for (index, raw) in keys.iter().take(MAX_KEYS).enumerate() {
            let parsed = RawJwk::deserialize(raw).map_err(|_| "it is not a well-formed JWK").and_then(parse_key);
            match parsed {
                Ok(key) => set.insert(key),
                Err(reason) => {
                    skipped += 1;
                    let kid = raw.get("kid").and_then(Value::as_str).unwrap_or("");
                    tracing::warn!(index, kid, "ignoring a key of the issuer's JWKS: {reason}");
                }
            }
        }
        if set.len == 0 {
            return Err(JwksError::NoUsableKeys { skipped });
        }
        Ok(set)
    }

    fn insert(&mut self, key: VerificationKey) {
        let key = Arc::new(key);
        match &key.kid {
            Some(kid) => self.by_kid.entry(kid.clone()).or_default().push(key),
            None => self.without_kid.push(key),
        }
        self.len += 1;
    }

    /// How many usable keys the set holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds no key (nothing has been loaded yet).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The key to check a token signed with `alg` under `kid`. Without a
    /// `kid`, the one key that fits the algorithm is used, if there is
    /// exactly one.
    pub fn select(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<VerificationKey>, KeyMiss> {
        match kid {
            Some(kid) => {
                let candidates = self.by_kid.get(kid).ok_or(KeyMiss::UnknownKid)?;
                candidates.iter().find(|k| k.fits(alg)).cloned().ok_or(KeyMiss::AlgorithmMismatch)
            }
            None => {
                let mut fitting = self.by_kid.values().flatten().chain(&self.without_kid).filter(|k| k.fits(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => Ok(key.clone()),
                    (None, _) => Err(KeyMiss::NoFittingKey),
                    (Some(_), Some(_)) => Err(KeyMiss::Ambiguous),
                }
            }
        }
    }

    /// Which installed set this is; changes whenever the store swaps sets.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

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
    #[error("the discovery document's jwks_uri {0:?} is not https while the issuer is")]
    InsecureJwksUri(String),
    #[error("the key set at {url} is unusable: {source}")]
    Jwks { url: Url, source: JwksError },
}

/// How eagerly the store may go back to the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshOptions {
    /// At most one request-triggered fetch per this interval once keys are loaded.
    pub min_interval: Duration,
    /// The shorter interval used while no key set was ever loaded (the issuer
    /// was down at start-up): every token fails until then, so retrying
    /// sooner costs nothing and shortens the outage.
    pub retry_interval_while_unavailable: Duration,
}

impl Default for RefreshOptions {
    fn default() -> Self {
        RefreshOptions {
            min_interval: Duration::from_secs(30),
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
    /// The last request-triggered fetch, for the rate limit.
    last_attempt: Option<Instant>,
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

    /// The HTTP client the API uses for discovery and JWKS fetches.
    pub fn http_client() -> reqwest::Result<reqwest::Client> {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::limited(3))
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
    /// key. Single-flight: a caller that waited while another fetched gets
    /// that result without fetching again. Rate-limited: within the interval
    /// since the last request-triggered attempt (successful or not), the
    /// current set is returned unchanged.
    pub async fn refresh_after(&self, seen: u64) -> Arc<KeySet> {
        let Some(remote) = &self.remote else {
            return self.current();
        };
        let mut state = remote.state.lock().await;
        let current = self.current();
        if current.generation != seen {
            return current;
        }
        let interval = if current.is_empty() {
            remote.options.retry_interval_while_unavailable
        } else {
            remote.options.min_interval
        };
        if state.last_attempt.is_some_and(|at| at.elapsed() < interval) {
            return current;
        }
        state.last_attempt = Some(Instant::now());
        match self.fetch(remote, &mut state).await {
            Ok(set) => {
                tracing::info!(keys = set.len(), "refetched the issuer's signing keys");
                self.install(set)
            }
            Err(error) => {
                tracing::warn!("cannot refetch the issuer's signing keys: {error}");
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
        "http" if !remote.issuer.is_https() => {}
        "http" => return Err(FetchError::InsecureJwksUri(document.jwks_uri)),
        _ => return Err(FetchError::BadJwksUri(document.jwks_uri)),
    }
    Ok(jwks_uri)
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
    use super::*;
    use serde_json::json;

    fn rsa_jwk(kid: &str, alg: Option<&str>) -> Value {
        // A syntactically valid 2048-bit modulus: the top bit set, the rest arbitrary.
        let mut n = vec![0xC5u8; 256];
        n[255] = 0x01;
        let mut jwk = json!({"kty": "RSA", "kid": kid, "n": URL_SAFE_NO_PAD.encode(&n), "e": "AQAB"});
        if let Some(alg) = alg {
            jwk["alg"] = json!(alg);
        }
        jwk
    }

    #[test]
    fn unusable_keys_are_skipped_and_usable_ones_kept() {
        let doc = json!({"keys": [
            rsa_jwk("sig", Some("RS256")),
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "oaep", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "weak", "n": URL_SAFE_NO_PAD.encode([0xC5u8; 128]), "e": "AQAB"},
            {"kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA"},
            {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AA"},
            "not even an object",
            {"kid": 7},
        ]});
        let set = KeySet::from_jwks(&doc).unwrap();
        assert_eq!(set.len(), 1);
        assert!(set.select(Some("sig"), Algorithm::RS256).is_ok());
        assert_eq!(set.select(Some("hmac"), Algorithm::HS256).unwrap_err(), KeyMiss::UnknownKid);
    }

    #[test]
    fn a_key_pinned_to_an_algorithm_fits_only_that_one() {
        let set = KeySet::from_jwks(&json!({"keys": [rsa_jwk("k", Some("RS256"))]})).unwrap();
        assert!(set.select(Some("k"), Algorithm::RS256).is_ok());
        assert_eq!(set.select(Some("k"), Algorithm::PS256).unwrap_err(), KeyMiss::AlgorithmMismatch);
        assert_eq!(set.select(Some("k"), Algorithm::ES256).unwrap_err(), KeyMiss::AlgorithmMismatch);
        assert_eq!(set.select(Some("k"), Algorithm::HS256).unwrap_err(), KeyMiss::AlgorithmMismatch);
    }

    #[test]
    fn without_kid_exactly_one_fitting_key_is_used() {
        let one = KeySet::from_jwks(&json!({"keys": [rsa_jwk("a", None)]})).unwrap();
        assert!(one.select(None, Algorithm::RS256).is_ok());
        assert_eq!(one.select(None, Algorithm::ES256).unwrap_err(), KeyMiss::NoFittingKey);
        let two = KeySet::from_jwks(&json!({"keys": [rsa_jwk("a", None), rsa_jwk("b", None)]})).unwrap();
        assert_eq!(two.select(None, Algorithm::RS256).unwrap_err(), KeyMiss::Ambiguous);
    }

    #[test]
    fn documents_without_usable_keys_are_errors() {
        assert!(matches!(KeySet::from_jwks(&json!([1, 2])), Err(JwksError::NotAKeySet)));
        assert!(matches!(KeySet::from_jwks(&json!({"keys": {}})), Err(JwksError::NotAKeySet)));
        assert!(matches!(KeySet::from_jwks(&json!({"keys": []})), Err(JwksError::NoUsableKeys { skipped: 0 })));
    }

    #[test]
    fn fixed_stores_number_their_sets() {
        let store = KeyStore::fixed(KeySet::from_jwks(&json!({"keys": [rsa_jwk("a", None)]})).unwrap());
        assert_eq!(store.generation(), 1);
        assert_eq!(store.current().generation(), 1);
        assert!(!store.is_remote());
    }
}
