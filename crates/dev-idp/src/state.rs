//! The state every handler shares: settings, the registered client, the
//! store, the signing keys, the pending codes, the CSRF key, the clock, and
//! the token endpoint's DPoP memory (the proofs seen, the nonce key).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use store::Store;

use crate::authorization_codes::CodeStore;
use crate::clock::Clock;
use crate::config::{
    Config, DEFAULT_CODE_TTL, DEFAULT_REFRESH_IDLE_TTL, DEFAULT_REFRESH_REUSE_INTERVAL, DEFAULT_REFRESH_TOKEN_TTL,
    DEFAULT_SESSION_TTL, DEFAULT_TOKEN_TTL, Issuer, SpaOrigin,
};
use crate::csrf::CsrfKey;
use crate::registered_client::Client;
use crate::signing_keys::{KeySet, LiveKeys};

/// How long after its retirement a key stays in the JWKS, beyond the token
/// lifetime: room for JWKS caches (ours says `max-age=300`) and for clock
/// skew between the provider, `rotate-key` and the verifiers.
pub(crate) const KEY_RETENTION_MARGIN: Duration = Duration::from_secs(300);

/// How many DPoP proofs the token endpoint remembers (see
/// [`dpop::ReplayCache`]): far more than a development provider sees in a
/// proof's lifetime of about a minute, and a few hundred kilobytes at most.
const DPOP_REPLAY_CAPACITY: usize = 10_000;

/// Each DPoP nonce is handed out for five minutes and accepted for five to
/// ten (see [`dpop::Nonces`]): a client keeps the nonce of its last response
/// and is rarely sent back for a new one.
pub(crate) const DPOP_NONCE_WINDOW: Duration = Duration::from_secs(300);

/// What the handlers need to know about the deployment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The issuer identifier, the prefix of every endpoint URL.
    pub issuer: Issuer,
    /// Where the SPA is served: the registered client's redirect URIs and
    /// the CORS origins follow from these.
    pub spa_origins: Vec<SpaOrigin>,
    /// Lifetime of access and ID tokens.
    pub token_ttl: Duration,
    /// Lifetime of authorization codes.
    pub code_ttl: Duration,
    /// Lifetime of a provider session (the SSO cookie).
    pub session_ttl: Duration,
    /// Absolute lifetime of a refresh-token family.
    pub refresh_token_ttl: Duration,
    /// How long a refresh token may stay unused.
    pub refresh_idle_ttl: Duration,
    /// See [`crate::refresh_tokens`]: zero means every reuse revokes.
    pub refresh_reuse_interval: Duration,
    /// Whether DPoP proofs at the token endpoint must carry the server's
    /// nonce (RFC 9449 §8).
    pub dpop_nonce: bool,
    /// Whether the token endpoint refuses requests without a DPoP proof.
    pub require_dpop: bool,
}

impl Settings {
    /// Settings with the default lifetimes.
    pub fn new(issuer: Issuer, spa_origins: Vec<SpaOrigin>) -> Settings {
        Settings {
            issuer,
            spa_origins,
            token_ttl: DEFAULT_TOKEN_TTL,
            code_ttl: DEFAULT_CODE_TTL,
            session_ttl: DEFAULT_SESSION_TTL,
            refresh_token_ttl: DEFAULT_REFRESH_TOKEN_TTL,
            refresh_idle_ttl: DEFAULT_REFRESH_IDLE_TTL,
            refresh_reuse_interval: DEFAULT_REFRESH_REUSE_INTERVAL,
            dpop_nonce: false,
            require_dpop: false,
        }
    }

    /// How long a retired signing key stays published: any token it signed
    /// has expired by then.
    pub fn key_retention(&self) -> Duration {
        self.token_ttl + KEY_RETENTION_MARGIN
    }
}

/// The shared state; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: Settings,
    client: Client,
    store: Store,
    keys: LiveKeys,
    codes: CodeStore,
    /// Keys the CSRF tokens of sign-in forms. It is per process: a restart
    /// only invalidates forms that were open during it.
    csrf_key: CsrfKey,
    clock: Clock,
    /// The DPoP proofs accepted at the token endpoint, so none is accepted
    /// twice (RFC 9449 §11.1). Per process, like the codes: a restart
    /// forgets them, and the proofs it forgets are a minute from useless.
    dpop_replay: dpop::ReplayCache,
    /// The token endpoint's DPoP nonces (`--dpop-nonce`), under a key of
    /// this process: after a restart each client is sent a new one once.
    dpop_nonces: dpop::Nonces,
}

impl AppState {
    /// Assembles the state from parts that are already open, with keys
    /// that never change.
    pub fn new(settings: Settings, store: Store, keys: KeySet) -> AppState {
        AppState::with_live_keys(settings, store, LiveKeys::fixed(keys))
    }

    /// Assembles the state from parts that are already open.
    fn with_live_keys(settings: Settings, store: Store, keys: LiveKeys) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                client: Client::for_origins(&settings.spa_origins),
                settings,
                store,
                keys,
                codes: CodeStore::default(),
                csrf_key: CsrfKey::random(),
                clock: Clock::system(),
                dpop_replay: dpop::ReplayCache::new(DPOP_REPLAY_CAPACITY, dpop::Window::default().replay_ttl()),
                dpop_nonces: dpop::Nonces::random(DPOP_NONCE_WINDOW),
            }),
        }
    }

    /// Opens the database and loads (or on first start generates) the
    /// signing key, as the binary does; the keys then follow rotations made
    /// in the data directory (see [`crate::signing_keys`]).
    pub async fn open(config: &Config, issuer: Issuer) -> anyhow::Result<AppState> {
        let store = open_store(&config.database).await?;
        let data_dir = config.data_dir.clone();
        // Generating an RSA key takes a noticeable moment; keep it off the
        // async workers.
        let keys = tokio::task::spawn_blocking(move || LiveKeys::open(data_dir))
            .await
            .context("the key loading task failed")?
            .with_context(|| format!("cannot load the signing key from {}", config.data_dir.display()))?;
        let mut settings = Settings::new(issuer, config.spa_origins.clone());
        settings.token_ttl = config.token_ttl;
        settings.refresh_token_ttl = config.refresh_token_ttl;
        settings.refresh_idle_ttl = config.refresh_idle_ttl;
        settings.refresh_reuse_interval = config.refresh_reuse_interval;
        settings.dpop_nonce = config.dpop_nonce;
        settings.require_dpop = config.require_dpop;
        Ok(AppState::with_live_keys(settings, store, keys))
    }

    /// The deployment's settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &Issuer {
        &self.inner.settings.issuer
    }

    /// The one registered client.
    pub(crate) fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The shared database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The current signing keys (a running provider follows rotations).
    pub fn keys(&self) -> Arc<KeySet> {
        self.inner.keys.current()
    }

    /// The pending authorization codes.
    pub(crate) fn codes(&self) -> &CodeStore {
        &self.inner.codes
    }

    pub(crate) fn csrf_key(&self) -> &CsrfKey {
        &self.inner.csrf_key
    }

    /// The DPoP proofs the token endpoint has accepted.
    pub(crate) fn dpop_replay_cache(&self) -> &dpop::ReplayCache {
        &self.inner.dpop_replay
    }

    /// The token endpoint's DPoP nonces.
    pub(crate) fn dpop_nonces(&self) -> &dpop::Nonces {
        &self.inner.dpop_nonces
    }

    /// The clock; tests advance it to expire codes and sessions.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Seconds since the Unix epoch, by [`Self::clock`].
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// Whether cookies must be `Secure` (the provider is served over https).
    pub(crate) fn secure_cookies(&self) -> bool {
        self.inner.settings.issuer.is_https()
    }
}

/// Opens the shared database, creating its directory if needed.
async fn open_store(path: &Path) -> anyhow::Result<Store> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent)
            .await
            .with_context(|| format!("cannot create the database directory {}", parent.display()))?;
    }
    Store::open(path).await.with_context(|| format!("cannot open the database {}", path.display()))
}
