//! The sign-in flow, end to end: discovery, the redirect to the provider,
//! the callback, the code exchange and the ID-token checks.
//!
//! Each sign-in attempt keeps its PKCE verifier, nonce and return path in
//! `sessionStorage` under its own `state`, and the callback consumes that
//! entry once, so several attempts (tabs) never clash and a replayed callback
//! finds nothing.
//!
//! After sign-in the session is renewed with the refresh token (rotated on
//! every use, shared by the app's tabs under a Web Lock: see [`crate::refresh`]).
//!
//! A reload waits for as little as it can: discovery and the key set come
//! from [`crate::provider_cache`] while their `max-age` lasts, the key set
//! is fetched beside the token request when it must be fetched at all, and
//! each verified ID token's claims are kept for this tab
//! ([`crate::claims_cache`]) so the app can render them while the refresh
//! is in flight.

use std::future::poll_fn;
use std::pin::pin;
use std::task::Poll;

use serde_json::Value;

use crate::LoginError;
use crate::authorize::{AuthorizationRequest, Prompt, authorization_url, end_session_request, form_encode};
use crate::browser::{self, Cache, HistoryEntry, StorageArea};
use crate::callback::{CallbackOutcome, CallbackParams, check_response_issuer};
use crate::claims_cache::{self, RememberedClaims};
use crate::discovery::{ProviderMetadata, discovery_url};
use crate::dpop::{self, DpopKey, DpopMode, ProofVerdict};
use crate::error::ProviderError;
use crate::id_token::{self, Expectations, IdToken};
use crate::json::{self, Fields, JsonError};
use crate::locks::with_lock;
use crate::provider_cache;
use crate::refresh::{StoredRefresh, check_refreshed, lock_name, storage_key};
use crate::settings::ClientSettings;
use crate::signature::ProviderKeys;
use crate::urls::check_provider_url;

const ATTEMPT_PREFIX: &str = "oidc-login.attempt.";
/// A flag (not a token) meaning "this browser signed in here and has not
/// signed out": on start-up it asks for a silent (`prompt=none`) sign-in.
const SESSION_HINT_KEY: &str = "oidc-login.signed-in";
/// Attempts older than this are swept; the provider's codes live far shorter.
const ATTEMPT_MAX_AGE_SECONDS: i64 = 15 * 60;

/// A signed-in session. Kept in memory only.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id_token: IdToken,
    /// Opaque to the SPA: it is sent to the API and never read here.
    pub access_token: String,
    /// When the access token was received (seconds since the Unix epoch).
    pub access_token_received_at: i64,
    /// When the access token expires (seconds since the Unix epoch).
    pub access_token_expires_at: i64,
    /// The key the access token is bound to (`token_type: DPoP`), whose
    /// proofs go with it; `None` for a Bearer token.
    pub dpop: Option<DpopKey>,
}

/// What an API request carries to prove who sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCredentials {
    /// The `Authorization` header: `Bearer <token>` or `DPoP <token>`.
    pub authorization: String,
    /// The `DPoP` header, a proof for this one request, with a bound token.
    pub proof: Option<String>,
}

/// The longest access-token lifetime believed: a provider's `expires_in`
/// beyond it (a year, `u64::MAX`) is read as this, so the arithmetic cannot
/// overflow into the past, and the session is still renewed daily.
pub const MAX_ACCESS_TOKEN_LIFETIME_SECONDS: u64 = 24 * 60 * 60;
/// The shortest time between receiving tokens and renewing them: a provider
/// answering `expires_in: 0` (or tokens already expired) gets one renewal
/// per this many seconds, not a loop against its token endpoint.
pub const MIN_RENEWAL_DELAY_SECONDS: i64 = 5;

impl Session {
    /// The credentials of one API request, `method` to `url`: a bound token
    /// goes with a fresh proof of its key (RFC 9449 §7), signed for this
    /// method and URL and the token's hash, so neither the token nor the
    /// proof is of use to anyone who copies them.
    pub async fn api_credentials(&self, method: &str, url: &str) -> Result<ApiCredentials, LoginError> {
        Ok(match &self.dpop {
            Some(key) => ApiCredentials {
                authorization: format!("DPoP {}", self.access_token),
                proof: Some(key.proof(method, url, Some(&self.access_token)).await?),
            },
            None => ApiCredentials { authorization: format!("Bearer {}", self.access_token), proof: None },
        })
    }

    /// When to renew: a minute before expiry, or a quarter of the lifetime
    /// before it for short-lived tokens, so a renewal never chases its tail;
    /// and never sooner than [`MIN_RENEWAL_DELAY_SECONDS`] after the tokens
    /// arrived.
    pub fn renew_at(&self) -> i64 {
        let lifetime = self.access_token_expires_at.saturating_sub(self.access_token_received_at).max(0);
        let before_expiry = self.access_token_expires_at.saturating_sub((lifetime / 4).min(60));
        before_expiry.max(self.access_token_received_at.saturating_add(MIN_RENEWAL_DELAY_SECONDS))
    }
}

/// When an access token received at `now` expires: `now + expires_in`, with
/// `expires_in` bounded by [`MAX_ACCESS_TOKEN_LIFETIME_SECONDS`]; without
/// one (it is only RECOMMENDED, RFC 6749 §5.1), the ID token's `exp`.
fn access_token_expiry(now: i64, expires_in: Option<u64>, id_token_expires_at: i64) -> i64 {
    match expires_in {
        // The bound fits an i64, so the cast is exact.
        Some(seconds) => now.saturating_add(seconds.min(MAX_ACCESS_TOKEN_LIFETIME_SECONDS) as i64),
        None => id_token_expires_at,
    }
}

/// What one sign-in attempt remembers between the redirect and the callback.
#[derive(Debug, Clone, PartialEq)]
struct Attempt {
    verifier: String,
    nonce: String,
    return_to: String,
    prompt: Prompt,
    created_at: i64,
}

impl Attempt {
    /// The record as stored in `sessionStorage`.
    fn to_json(&self) -> String {
        json::to_string(&json::object([
            ("verifier", Value::String(self.verifier.clone())),
            ("nonce", Value::String(self.nonce.clone())),
            ("return_to", Value::String(self.return_to.clone())),
            ("prompt", Value::String(self.prompt.name().to_owned())),
            ("created_at", Value::from(self.created_at)),
        ]))
    }

    /// A stored record, if `text` is one.
    fn parse(text: &str) -> Option<Attempt> {
        let record = json::parse(text).ok()?;
        let fields = Fields::of(&record).ok()?;
        Some(Attempt {
            verifier: fields.string("verifier").ok()?,
            nonce: fields.string("nonce").ok()?,
            return_to: fields.string("return_to").ok()?,
            prompt: Prompt::from_name(&fields.string("prompt").ok()?)?,
            created_at: fields.i64("created_at").ok()?,
        })
    }
}

/// The end of a sign-in attempt.
#[derive(Debug, Clone)]
pub struct CallbackResult {
    /// Where the user was going (a same-origin path).
    pub return_to: String,
    /// How the attempt let the provider treat the user (silent or not).
    pub prompt: Prompt,
    /// The session, or why there is none.
    pub outcome: Result<Session, LoginError>,
}

/// A client of one OpenID Provider, after discovery.
#[derive(Debug, Clone)]
pub struct OidcClient {
    settings: ClientSettings,
    metadata: ProviderMetadata,
    /// The provider's signing keys, fetched on first use and refetched
    /// (rate-limited) when a token names an unknown `kid`.
    keys: ProviderKeys,
}

/// Where discovery may take the provider's documents from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Documents {
    /// From [`crate::provider_cache`] while they last, else the provider.
    Remembered,
    /// From the provider itself, past every cache.
    Provider,
}

impl OidcClient {
    /// The provider's discovery document, checked: the copy remembered from
    /// an earlier page load while its `max-age` lasts (checked again, and
    /// dropped if it no longer passes), else fetched. The key set is taken
    /// from the same cache when it has one.
    pub async fn discover(settings: ClientSettings) -> Result<OidcClient, LoginError> {
        OidcClient::discover_from(settings, Documents::Remembered).await
    }

    /// [`discover`](Self::discover), asking the provider itself past every
    /// cache: after the provider could not be reached, an answer is what
    /// shows it is back before the browser is sent there.
    pub async fn rediscover(settings: ClientSettings) -> Result<OidcClient, LoginError> {
        OidcClient::discover_from(settings, Documents::Provider).await
    }

    async fn discover_from(settings: ClientSettings, documents: Documents) -> Result<OidcClient, LoginError> {
        check_provider_url(&settings.issuer).map_err(LoginError::Discovery)?;
        let url = discovery_url(&settings.issuer);
        let now = browser::now_seconds();
        let remembered = match documents {
            Documents::Remembered => provider_cache::recall(&url, now)
                .and_then(|body| ProviderMetadata::parse(&body, &settings.issuer).ok())
                .or_else(|| {
                    // Absent, expired, or no longer passing (another issuer
                    // configured now, a damaged entry): fetched afresh.
                    provider_cache::forget(&url);
                    None
                }),
            Documents::Provider => None,
        };
        let metadata = match remembered {
            Some(metadata) => metadata,
            None => {
                let cache = match documents {
                    Documents::Remembered => Cache::Default,
                    Documents::Provider => Cache::Revalidate,
                };
                let response =
                    browser::get_json(&url, cache).await.map_err(|e| LoginError::Network(format!("{url}: {e}")))?;
                if response.status != 200 {
                    return Err(LoginError::Discovery(format!("{url} answered HTTP {}", response.status)));
                }
                let metadata = ProviderMetadata::parse(&response.body, &settings.issuer)?;
                provider_cache::keep(&url, &response.body, response.reuse_seconds, browser::now_seconds());
                metadata
            }
        };
        let keys = ProviderKeys::new(&metadata.jwks_uri);
        if documents == Documents::Remembered {
            keys.recall(now);
        }
        Ok(OidcClient { settings, metadata, keys })
    }

    /// Starts a sign-in: records the attempt and sends the browser to the
    /// provider. `return_to` is where to go afterwards (a same-origin path;
    /// anything else becomes `/`); `prompt` says whether the provider may
    /// show its page; `history` whether Back returns to this page.
    pub async fn sign_in(&self, return_to: &str, prompt: Prompt, history: HistoryEntry) -> Result<(), LoginError> {
        sweep_stale_attempts();
        // 32 random bytes give a 43-character verifier (RFC 7636 §4.1).
        let verifier = browser::random_token(32)?;
        let state = browser::random_token(16)?;
        let nonce = browser::random_token(16)?;
        let code_challenge = browser::pkce_challenge(&verifier).await?;
        // RFC 9449 §10: the code is bound to the key, so a code intercepted
        // on its way back is useless without it.
        let key = self.dpop_key().await?;
        let attempt = Attempt {
            verifier,
            nonce: nonce.clone(),
            return_to: safe_return_path(return_to).to_owned(),
            prompt,
            created_at: browser::now_seconds(),
        };
        browser::storage_set(StorageArea::Session, &format!("{ATTEMPT_PREFIX}{state}"), &attempt.to_json())?;
        let url = authorization_url(
            &self.metadata,
            &self.settings,
            &AuthorizationRequest {
                state: &state,
                nonce: &nonce,
                code_challenge: &code_challenge,
                prompt,
                dpop_jkt: key.as_ref().map(DpopKey::thumbprint),
            },
        );
        browser::navigate(&url, history)
    }

    /// Finishes a sign-in from the callback URL's query string. Never
    /// redirects: the caller decides what to show.
    pub async fn complete_sign_in(&self, query: &str) -> CallbackResult {
        let params = match CallbackParams::parse(query) {
            Ok(params) => params,
            Err(err) => return CallbackResult { return_to: "/".into(), prompt: Prompt::Default, outcome: Err(err) },
        };
        // The attempt is consumed before anything else, so a callback URL
        // replayed later (Back, a copied link) finds nothing.
        let Some(attempt) = params.state.as_deref().and_then(take_attempt) else {
            return CallbackResult {
                return_to: "/".into(),
                prompt: Prompt::Default,
                outcome: Err(LoginError::StateMismatch),
            };
        };
        let outcome = self.finish(params, &attempt).await;
        CallbackResult { return_to: attempt.return_to, prompt: attempt.prompt, outcome }
    }

    async fn finish(&self, params: CallbackParams, attempt: &Attempt) -> Result<Session, LoginError> {
        // RFC 9207, the mix-up defence: the provider's name, when given, must
        // be ours, and it must be given when the provider says it always is.
        check_response_issuer(
            params.iss.as_deref(),
            &self.settings.issuer,
            self.metadata.authorization_response_iss_parameter_supported,
        )?;
        let code = match params.outcome {
            CallbackOutcome::Code(code) => code,
            CallbackOutcome::Error { error, description } => return Err(LoginError::Provider { error, description }),
        };
        // The key set, when not in hand, is fetched during the code exchange.
        let (tokens, ()) = both(self.exchange_code(&code, &attempt.verifier), self.keys.preload()).await;
        let tokens = tokens?;
        let id_token_raw = tokens
            .id_token
            .as_deref()
            .ok_or_else(|| LoginError::TokenExchange("the response carries no ID token".into()))?;
        let id_token = self.validate_id_token(id_token_raw, Some(&attempt.nonce)).await?;
        self.keep_refresh_token(&tokens, &id_token.subject)?;
        let session = self.start_session(&tokens, id_token);
        browser::storage_set(StorageArea::Local, SESSION_HINT_KEY, "1")?;
        Ok(session)
    }

    /// Checks an ID token against OIDC Core §3.1.3.7: its signature first
    /// (against the provider's JWKS), then every claim rule. A token that
    /// fails either never becomes a session.
    async fn validate_id_token(&self, raw: &str, nonce: Option<&str>) -> Result<IdToken, LoginError> {
        self.keys.verify(raw).await?;
        id_token::validate(
            raw,
            &Expectations {
                issuer: &self.settings.issuer,
                client_id: &self.settings.client_id,
                trusted_audiences: &self.settings.trusted_audiences,
                nonce,
                now: browser::now_seconds(),
                leeway: self.settings.leeway_seconds as i64,
            },
        )
    }

    /// The session of `tokens`, whose ID token `id_token` has passed every
    /// check; its claims are remembered for this tab's next page load.
    fn start_session(&self, tokens: &TokenResponse, id_token: IdToken) -> Session {
        claims_cache::remember(&self.settings, &id_token);
        let now = browser::now_seconds();
        let access_token_expires_at = access_token_expiry(now, tokens.expires_in, id_token.expires_at);
        Session {
            id_token,
            access_token: tokens.access_token.clone(),
            access_token_received_at: now,
            access_token_expires_at,
            dpop: tokens.dpop.clone(),
        }
    }

    /// Stores the refresh token of `tokens`, issued for `subject`. Called as
    /// soon as a refresh answers, before its ID token is checked: the
    /// provider has already rotated the old token, so keeping the old one
    /// would make the next refresh a replay (and revoke the family).
    fn keep_refresh_token(&self, tokens: &TokenResponse, subject: &str) -> Result<(), LoginError> {
        let key = storage_key(&self.settings.client_id);
        match &tokens.refresh_token {
            Some(refresh_token) => {
                let stored = StoredRefresh { refresh_token: refresh_token.clone(), subject: subject.to_owned() };
                browser::storage_set(StorageArea::Local, &key, &stored.to_json())
            }
            None => Ok(()),
        }
    }

    fn stored_refresh(&self) -> Option<StoredRefresh> {
        stored_refresh(&self.settings.client_id)
    }

    /// Forgets the refresh token, and with it the claims this tab remembers.
    fn forget_refresh_token(&self) {
        browser::storage_remove(StorageArea::Local, &storage_key(&self.settings.client_id));
        claims_cache::forget(&self.settings);
    }

    /// Signs in from the stored refresh token, if there is one (a reload, a
    /// new tab): no redirect at all. `Ok(None)` when there is none or the
    /// provider refused it (then it is forgotten). Unless it restores a
    /// session, this tab's remembered claims are forgotten.
    pub async fn restore(&self) -> Result<Option<Session>, LoginError> {
        let restored = self.restore_locked().await;
        if !matches!(restored, Ok(Some(_))) {
            claims_cache::forget(&self.settings);
        }
        restored
    }

    async fn restore_locked(&self) -> Result<Option<Session>, LoginError> {
        let client = self.clone();
        with_lock(&lock_name(&self.settings.client_id), move || async move {
            let Some(stored) = client.stored_refresh() else { return Ok(None) };
            // The key set, when not in hand, is fetched during the refresh.
            let (grant, ()) = both(client.refresh_grant(&stored.refresh_token), client.keys.preload()).await;
            match grant {
                Ok(tokens) => {
                    client.keep_refresh_token(&tokens, &stored.subject)?;
                    let raw = tokens
                        .id_token
                        .as_deref()
                        .ok_or_else(|| LoginError::TokenExchange("the refresh response carries no ID token".into()))?;
                    let id_token = client.validate_id_token(raw, None).await?;
                    if id_token.subject != stored.subject {
                        client.forget_refresh_token();
                        return Ok(None);
                    }
                    Ok(Some(client.start_session(&tokens, id_token)))
                }
                Err(RefreshFailure::Refused(_)) => {
                    client.forget_refresh_token();
                    Ok(None)
                }
                Err(RefreshFailure::Other(err)) => Err(err),
            }
        })
        .await
    }

    /// Renews `current` with the refresh token, one tab at a time. The
    /// refreshed ID token must satisfy OIDC Core §12.2 against `current`.
    /// Unless it fails for a passing reason (network), a failure forgets
    /// this tab's remembered claims: the session is over.
    pub async fn refresh(&self, current: &Session) -> Result<Session, LoginError> {
        let refreshed = self.refresh_locked(current).await;
        if let Err(err) = &refreshed
            && !matches!(err, LoginError::Network(_))
        {
            claims_cache::forget(&self.settings);
        }
        refreshed
    }

    async fn refresh_locked(&self, current: &Session) -> Result<Session, LoginError> {
        let client = self.clone();
        let current = current.clone();
        with_lock(&lock_name(&self.settings.client_id), move || async move {
            let Some(stored) = client.stored_refresh() else {
                return Err(LoginError::SessionExpired(
                    "this browser holds no refresh token (signed out elsewhere?)".into(),
                ));
            };
            if stored.subject != current.id_token.subject {
                return Err(LoginError::SessionExpired("another user signed in in another tab".into()));
            }
            let tokens = match client.refresh_grant(&stored.refresh_token).await {
                Ok(tokens) => tokens,
                Err(RefreshFailure::Refused(why)) => {
                    client.forget_refresh_token();
                    return Err(LoginError::SessionExpired(why));
                }
                Err(RefreshFailure::Other(err)) => return Err(err),
            };
            client.keep_refresh_token(&tokens, &stored.subject)?;
            let id_token = match tokens.id_token.as_deref() {
                Some(raw) => {
                    let refreshed = client.validate_id_token(raw, None).await?;
                    check_refreshed(&current.id_token, &refreshed)?;
                    refreshed
                }
                None => current.id_token.clone(),
            };
            Ok(client.start_session(&tokens, id_token))
        })
        .await
    }

    async fn refresh_grant(&self, refresh_token: &str) -> Result<TokenResponse, RefreshFailure> {
        let body = form_encode(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", &self.settings.client_id),
        ]);
        let (response, key) = self.post_token_endpoint(&body).await.map_err(RefreshFailure::Other)?;
        refresh_answer(response.status, &response.body)
            .and_then(|tokens| self.bind(tokens, key).map_err(RefreshFailure::Other))
    }

    /// Whether this client sender-constrains its tokens with DPoP: always
    /// when required, and in `auto` when the provider advertises ES256.
    fn uses_dpop(&self) -> bool {
        match self.settings.dpop {
            DpopMode::Off => false,
            DpopMode::Required => true,
            DpopMode::Auto => {
                self.metadata.dpop_signing_alg_values_supported.iter().flatten().any(|a| a == dpop::ALGORITHM)
            }
        }
    }

    /// This client's DPoP key, when it uses DPoP: read from IndexedDB at each
    /// use, never cached in memory, so that a key another tab replaced (a
    /// sign-out there, then a sign-in) is the one used here too.
    async fn dpop_key(&self) -> Result<Option<DpopKey>, LoginError> {
        if !self.uses_dpop() {
            return Ok(None);
        }
        DpopKey::load_or_create(&self.settings.client_id).await.map(Some)
    }

    /// Posts `body` to the token endpoint, with a DPoP proof when the client
    /// uses DPoP, and retries once when the provider asks for its nonce or
    /// refuses the proof's time while its clock is far from ours (RFC 9449
    /// §8). Returns the key the proofs were made with.
    async fn post_token_endpoint(&self, body: &str) -> Result<(browser::HttpResponse, Option<DpopKey>), LoginError> {
        let endpoint = &self.metadata.token_endpoint;
        let key = self.dpop_key().await?;
        let mut retried = false;
        loop {
            let proof = match &key {
                Some(key) => Some(key.proof("POST", endpoint, None).await?),
                None => None,
            };
            let response = browser::post_form(endpoint, body, proof.as_deref())
                .await
                .map_err(|e| LoginError::Network(format!("token endpoint: {e}")))?;
            let error = (response.status == 400).then(|| oauth_error(&response.body).0);
            let verdict =
                dpop::read_answer(endpoint, error.as_deref(), response.dpop_nonce.as_deref(), response.date.as_deref());
            if key.is_none() || retried || verdict == ProofVerdict::Done {
                return Ok((response, key));
            }
            retried = true;
        }
    }

    /// `tokens` with the key they are bound to: a `DPoP` token type only
    /// where a proof was sent (RFC 9449 §5), and `Bearer` only where DPoP is
    /// not required (a provider that ignored the proof, in `auto`).
    fn bind(&self, mut tokens: TokenResponse, key: Option<DpopKey>) -> Result<TokenResponse, LoginError> {
        let bound = tokens.token_type.eq_ignore_ascii_case("dpop");
        if bound && key.is_none() {
            return Err(LoginError::TokenExchange(
                "the provider issued a DPoP token to a request without a proof".into(),
            ));
        }
        if !bound && self.settings.dpop == DpopMode::Required {
            return Err(LoginError::TokenExchange(
                "DPoP is required, but the provider issued a Bearer token (turn DPoP on for this client at the provider)".into(),
            ));
        }
        tokens.dpop = if bound { key } else { None };
        Ok(tokens)
    }

    async fn exchange_code(&self, code: &str, verifier: &str) -> Result<TokenResponse, LoginError> {
        let body = form_encode(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.settings.redirect_uri),
            ("client_id", &self.settings.client_id),
            ("code_verifier", verifier),
        ]);
        let (response, key) = self.post_token_endpoint(&body).await?;
        self.bind(parse_token_response(response.status, &response.body)?, key)
    }

    /// Whether this browser signed in before and has not signed out, so a
    /// silent sign-in is worth trying.
    pub fn has_session_hint(&self) -> bool {
        browser::storage_get(StorageArea::Local, SESSION_HINT_KEY).is_some()
    }

    /// The claims of the last ID token this tab verified, if they may be
    /// shown now (see [`crate::claims_cache`]): for this provider and client,
    /// unexpired, and for the user whose refresh token this browser still
    /// holds. Read before discovery, so that a reload can render at once.
    pub fn remembered_claims(settings: &ClientSettings) -> Option<RememberedClaims> {
        // Only the record's subject is read, outside the refresh lock: a
        // rotation under way keeps the subject, and the token is not used.
        let stored = stored_refresh(&settings.client_id);
        claims_cache::recall(settings, stored.as_ref(), browser::now_seconds())
    }

    /// Forgets the claims this tab remembers: after a resume whose verdict
    /// is not a restored session (the provider could not even be
    /// discovered), they must not be shown again.
    pub fn forget_remembered_claims(settings: &ClientSettings) {
        claims_cache::forget(settings);
    }

    /// Forgets the hint (after a failed silent sign-in, or at sign-out).
    pub fn forget_session_hint(&self) {
        browser::storage_remove(StorageArea::Local, SESSION_HINT_KEY);
    }

    /// Signs out: revokes the refresh token (RFC 7009, when the provider has a
    /// revocation endpoint), forgets local state, and sends the browser to
    /// the provider's end-session endpoint with a form POST, so that the ID
    /// token it carries as the hint stays out of every URL (or home when the
    /// provider has no such endpoint).
    ///
    /// The refresh token is taken and forgotten under the refresh lock, as
    /// every other use of it is: a refresh under way in another tab finishes
    /// first, so the token revoked here is the rotated one, and nothing can
    /// write a token back after sign-out (which, against a provider whose
    /// revocation does not cascade to the family, would sign the user in
    /// again on the next reload).
    pub async fn sign_out(&self, session: Option<&Session>) -> Result<(), LoginError> {
        let client = self.clone();
        let stored = with_lock(&lock_name(&self.settings.client_id), move || async move {
            let stored = client.stored_refresh();
            client.forget_refresh_token();
            client.forget_session_hint();
            // The next sign-in in this browser gets a key of its own.
            DpopKey::discard(&client.settings.client_id).await;
            stored
        })
        .await;
        if let (Some(stored), Some(endpoint)) = (stored, self.metadata.revocation_endpoint.as_deref()) {
            let body = form_encode(&[
                ("token", &stored.refresh_token),
                ("token_type_hint", "refresh_token"),
                ("client_id", &self.settings.client_id),
            ]);
            // Best effort: sign-out goes on even if the provider is unreachable.
            let _ = browser::post_form(endpoint, &body, None).await;
        }
        match session.and_then(|s| end_session_request(&self.metadata, &self.settings, &s.id_token.raw)) {
            Some(request) => browser::submit_form(&request.endpoint, &request.fields),
            None => browser::navigate(&self.settings.post_logout_redirect_uri, HistoryEntry::Keep),
        }
    }

    /// Forgets this browser's session without contacting the provider (another
    /// tab signed out and already did that).
    pub fn forget_local_session(&self) {
        self.forget_refresh_token();
        self.forget_session_hint();
    }
}

/// The refresh-token record stored for `client_id`, if readable.
fn stored_refresh(client_id: &str) -> Option<StoredRefresh> {
    let text = browser::storage_get(StorageArea::Local, &storage_key(client_id))?;
    StoredRefresh::parse(&text)
}

/// Runs `a` and `b` at once and waits for both: two requests whose round
/// trips need not follow one another.
async fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut done_a, mut done_b) = (None, None);
    poll_fn(|cx| {
        if done_a.is_none()
            && let Poll::Ready(value) = a.as_mut().poll(cx)
        {
            done_a = Some(value);
        }
        if done_b.is_none()
            && let Poll::Ready(value) = b.as_mut().poll(cx)
        {
            done_b = Some(value);
        }
        match (done_a.take(), done_b.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            (a, b) => {
                (done_a, done_b) = (a, b);
                Poll::Pending
            }
        }
    })
    .await
}

/// Why a refresh failed: the provider refused the token (sign in again), or
/// something else went wrong (network; try later).
#[derive(Debug, PartialEq)]
enum RefreshFailure {
    Refused(String),
    Other(LoginError),
}

/// What the token endpoint's answer to a refresh means. Only an OAuth
/// refusal of the grant itself ends the session (the token is then
/// forgotten); a server error (5xx) or `429 Too Many Requests` is the
/// provider being unwell, a passing reason like a network failure, so the
/// token is kept and the refresh tried again later (issue 9, item 6: a
/// provider may fail after it has decided, and the retry is honest).
fn refresh_answer(status: u16, body: &str) -> Result<TokenResponse, RefreshFailure> {
    if status == 400 || status == 401 {
        let (code, description) = oauth_error(body);
        if code == "invalid_grant" || code == "invalid_client" || code == "unauthorized_client" {
            return Err(RefreshFailure::Refused(format!("{code} {description}").trim_end().to_owned()));
        }
    }
    if status >= 500 || status == 429 {
        return Err(RefreshFailure::Other(LoginError::Network(format!(
            "the token endpoint answered HTTP {status}; trying again later"
        ))));
    }
    parse_token_response(status, body).map_err(RefreshFailure::Other)
}

/// The token endpoint's successful answer (RFC 6749 §5.1).
#[derive(Debug, PartialEq)]
struct TokenResponse {
    access_token: String,
    id_token: Option<String>,
    refresh_token: Option<String>,
    token_type: String,
    expires_in: Option<u64>,
    /// The key the tokens are bound to ([`OidcClient::bind`]).
    dpop: Option<DpopKey>,
}

impl TokenResponse {
    fn parse(body: &str) -> Result<TokenResponse, JsonError> {
        let answer = json::parse(body)?;
        let fields = Fields::of(&answer)?;
        Ok(TokenResponse {
            access_token: fields.string("access_token")?,
            id_token: fields.optional_string("id_token")?,
            refresh_token: fields.optional_string("refresh_token")?,
            token_type: fields.string("token_type")?,
            expires_in: fields.optional_u64("expires_in")?,
            dpop: None,
        })
    }
}

/// The `error` and `error_description` of an OAuth error body.
fn oauth_error(body: &str) -> (String, String) {
    let error: Value = json::parse(body).unwrap_or(Value::Null);
    let text = |key: &str| error.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
    let code = text("error");
    (if code.is_empty() { "unknown_error".to_owned() } else { code }, text("error_description"))
}

fn parse_token_response(status: u16, body: &str) -> Result<TokenResponse, LoginError> {
    if status != 200 {
        let (code, description) = oauth_error(body);
        return Err(LoginError::TokenExchange(format!("HTTP {status}: {code} {description}").trim_end().to_owned()));
    }
    let tokens = TokenResponse::parse(body)
        .map_err(|e| LoginError::TokenExchange(format!("the response is not a token response: {e}")))?;
    if !tokens.token_type.eq_ignore_ascii_case("bearer") && !tokens.token_type.eq_ignore_ascii_case("dpop") {
        return Err(LoginError::TokenExchange(format!(
            "token type `{}` is neither Bearer nor DPoP",
            tokens.token_type
        )));
    }
    Ok(tokens)
}

fn take_attempt(state: &str) -> Option<Attempt> {
    let key = format!("{ATTEMPT_PREFIX}{state}");
    let record = browser::storage_get(StorageArea::Session, &key)?;
    browser::storage_remove(StorageArea::Session, &key);
    let attempt = Attempt::parse(&record)?;
    (browser::now_seconds() - attempt.created_at <= ATTEMPT_MAX_AGE_SECONDS).then_some(attempt)
}

fn sweep_stale_attempts() {
    let now = browser::now_seconds();
    for key in browser::storage_keys(StorageArea::Session) {
        if !key.starts_with(ATTEMPT_PREFIX) {
            continue;
        }
        let stale = browser::storage_get(StorageArea::Session, &key)
            .and_then(|r| Attempt::parse(&r))
            .is_none_or(|a| now - a.created_at > ATTEMPT_MAX_AGE_SECONDS);
        if stale {
            browser::storage_remove(StorageArea::Session, &key);
        }
    }
}

/// `path` when it is a same-origin absolute path, else `/`: a return path
/// must never lead off-site (no `//host`, no scheme, no backslash tricks).
pub fn safe_return_path(path: &str) -> &str {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        && !path.starts_with(contract::routes::CALLBACK);
    if ok { path } else { "/" }
}

impl LoginError {
    /// Whether this is the provider saying a silent sign-in needs the user.
    pub fn needs_interaction(&self) -> bool {
        matches!(
            self,
            LoginError::Provider {
                error: ProviderError::LoginRequired
                    | ProviderError::ConsentRequired
                    | ProviderError::InteractionRequired,
                ..
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_paths_stay_on_this_origin() {
        for ok in ["/", "/users", "/projects?page=2#x"] {
            assert_eq!(safe_return_path(ok), ok);
        }
        for bad in [
            "",
            "users",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/callback?code=x",
            "/a\nb",
        ] {
            assert_eq!(safe_return_path(bad), "/", "{bad:?}");
        }
    }

    /// A future that is pending `polls` times (waking itself) before it is ready with `value`.
    struct After {
        polls: u32,
        value: &'static str,
    }

    impl Future for After {
        type Output = &'static str;
        fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<&'static str> {
            if self.polls == 0 {
                return Poll::Ready(self.value);
            }
            self.polls -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[test]
    fn both_waits_for_both_and_polls_them_side_by_side() {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut joined = pin!(both(After { polls: 1, value: "a" }, After { polls: 3, value: "b" }));
        let mut polls = 1;
        let result = loop {
            match joined.as_mut().poll(&mut cx) {
                Poll::Ready(result) => break result,
                Poll::Pending => polls += 1,
            }
        };
        assert_eq!(result, ("a", "b"));
        // Side by side: as many polls as the slower one needs, not the sum.
        assert_eq!(polls, 4);
    }

    fn session(received_at: i64, expires_at: i64) -> Session {
        let id_token = IdToken { raw: String::new(), claims: Value::Null, subject: "u".into(), expires_at };
        Session {
            id_token,
            access_token: "a".into(),
            access_token_received_at: received_at,
            access_token_expires_at: expires_at,
            dpop: None,
        }
    }

    #[test]
    fn access_token_lifetimes_are_bounded() {
        const NOW: i64 = 1_800_000_000;
        assert_eq!(access_token_expiry(NOW, Some(3600), 0), NOW + 3600);
        assert_eq!(access_token_expiry(NOW, None, NOW + 600), NOW + 600);
        let day = MAX_ACCESS_TOKEN_LIFETIME_SECONDS as i64;
        for absurd in [u64::MAX, i64::MAX as u64 + 1, 10 * 365 * 86_400] {
            assert_eq!(access_token_expiry(NOW, Some(absurd), 0), NOW + day, "{absurd}");
        }
        assert_eq!(access_token_expiry(NOW, Some(0), 0), NOW);
    }

    #[test]
    fn renewal_never_loops() {
        const NOW: i64 = 1_800_000_000;
        // Ordinary tokens: a minute before expiry, or a quarter of a short lifetime.
        assert_eq!(session(NOW, NOW + 3600).renew_at(), NOW + 3540);
        assert_eq!(session(NOW, NOW + 16).renew_at(), NOW + 12);
        // `expires_in: 0`, an expiry in the past, or one a few seconds out:
        // not before MIN_RENEWAL_DELAY_SECONDS after receipt.
        for expires_at in [NOW, NOW - 100, NOW + 2, i64::MIN] {
            assert_eq!(session(NOW, expires_at).renew_at(), NOW + MIN_RENEWAL_DELAY_SECONDS, "{expires_at}");
        }
        // `u64::MAX` as `expires_in`: a day out, renewed a minute before.
        let far = access_token_expiry(NOW, Some(u64::MAX), 0);
        assert_eq!(session(NOW, far).renew_at(), far - 60);
        assert!(session(NOW, i64::MAX).renew_at() > NOW);
    }

    #[test]
    fn only_a_refusal_of_the_grant_ends_a_session_on_refresh() {
        let ok = r#"{"access_token":"a","id_token":"i","token_type":"Bearer","expires_in":60}"#;
        assert!(refresh_answer(200, ok).is_ok());
        for (status, body) in [
            (400, r#"{"error":"invalid_grant","error_description":"reused"}"#),
            (401, r#"{"error":"invalid_client"}"#),
            (400, r#"{"error":"unauthorized_client"}"#),
        ] {
            assert!(matches!(refresh_answer(status, body), Err(RefreshFailure::Refused(_))), "{status} {body}");
        }
        // The provider unwell: retryable, like a network failure.
        for status in [500, 502, 503, 504, 429] {
            for body in ["", "<html>Bad gateway</html>", r#"{"error":"server_error"}"#, r#"{"error":"invalid_grant"}"#]
            {
                match refresh_answer(status, body) {
                    Err(RefreshFailure::Other(LoginError::Network(why))) => assert!(why.contains(&status.to_string())),
                    other => panic!("{status} {body}: {other:?}"),
                }
            }
        }
        // Other answers are errors of their own, not a refusal of the token.
        for (status, body) in [(400, r#"{"error":"invalid_request"}"#), (200, "not json"), (404, "")] {
            assert!(
                matches!(refresh_answer(status, body), Err(RefreshFailure::Other(LoginError::TokenExchange(_)))),
                "{status} {body}"
            );
        }
    }

    #[test]
    fn attempts_round_trip_and_damaged_ones_are_none() {
        let attempt = Attempt {
            verifier: "v".into(),
            nonce: "n".into(),
            return_to: "/users?page=2".into(),
            prompt: Prompt::None,
            created_at: 1_800_000_000,
        };
        assert_eq!(Attempt::parse(&attempt.to_json()), Some(attempt.clone()));
        let text = attempt.to_json();
        for bad in [
            text.replace("\"none\"", "\"consent\""),
            text.replace("1800000000", "\"soon\""),
            text.replace("\"verifier\"", "\"other\""),
            "[]".into(),
            "{".into(),
        ] {
            assert_eq!(Attempt::parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn token_responses() {
        let ok =
            parse_token_response(200, r#"{"access_token":"a","id_token":"i","token_type":"bearer","expires_in":60}"#);
        assert_eq!(ok.unwrap().expires_in, Some(60));
        let err = parse_token_response(400, r#"{"error":"invalid_grant","error_description":"code used"}"#);
        assert_eq!(err.unwrap_err(), LoginError::TokenExchange("HTTP 400: invalid_grant code used".into()));
        assert!(matches!(parse_token_response(500, "<html>"), Err(LoginError::TokenExchange(_))));
        assert!(matches!(
            parse_token_response(200, r#"{"id_token":"a","token_type":"Bearer"}"#),
            Err(LoginError::TokenExchange(_))
        ));
        assert!(matches!(
            parse_token_response(200, r#"{"access_token":"a","id_token":"i","token_type":"mac"}"#),
            Err(LoginError::TokenExchange(_))
        ));
    }
}
