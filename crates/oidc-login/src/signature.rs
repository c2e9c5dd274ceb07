//! ID-token signature verification (OIDC Core §3.1.3.7 steps 6–8) with
//! WebCrypto, against the provider's published keys.
//!
//! [`ProviderKeys`] holds the provider's key set, fetched from its
//! `jwks_uri` on first use and again when a token names a `kid` the set
//! lacks (the provider rotated its keys): at once, however recently the set
//! was fetched, since a rotation can fall between the preload and the token.
//! Only a refetch that still lacks the key (or fails) holds the next one
//! back for [`REFETCH_INTERVAL_SECONDS`]: the limit is for repeats. A set in
//! hand for [`KEY_SET_MAX_AGE_SECONDS`] is fetched again before it verifies
//! anything more, so a key the provider withdrew stops being trusted within
//! that time, however long the page stays open (the API reloads its keys as
//! often); should that fetch fail, the set in hand is used meanwhile. [`verify_jws`] checks one signature:
//! the JWK is imported with `SubtleCrypto.importKey("jwk", ...)` and the
//! signature over the ASCII bytes of `header.payload` checked with
//! `SubtleCrypto.verify`. No cryptography is done in Rust.
//!
//! Between page loads the key set is remembered in `localStorage` for as
//! long as the provider's `Cache-Control` allows ([`crate::provider_cache`]);
//! a remembered set counts as not fetched yet, so a token naming a `kid` it
//! lacks is looked up at the provider at once, and a remembered set that
//! fails a token is dropped and the provider's own set tried once.
//!
//! Imported `CryptoKey`s are not cached: a token is verified once per
//! sign-in or refresh, and an import costs well under a millisecond, while a
//! cache would make [`ProviderKeys`] hold JavaScript objects (neither `Send`
//! nor `Sync`).

use std::sync::{Arc, Mutex, MutexGuard};

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::LoginError;
use crate::b64;
use crate::browser::{self, Cache, describe, js_object};
use crate::jwks::{Jwk, JwsAlgorithm, JwsHeader, KeyMaterial, KeySelection, KeySet, REFETCH_INTERVAL_SECONDS};
use crate::provider_cache;

fn invalid(why: impl Into<String>) -> LoginError {
    LoginError::InvalidIdToken(why.into())
}

/// The WebCrypto algorithm objects for `alg`: one to import the key with,
/// one to verify with.
fn algorithms(alg: JwsAlgorithm) -> Result<(js_sys::Object, js_sys::Object), LoginError> {
    let s = |text: &str| JsValue::from_str(text);
    let sha256 = || ("hash", s("SHA-256"));
    Ok(match alg {
        JwsAlgorithm::Rs256 => {
            (js_object(&[("name", s("RSASSA-PKCS1-v1_5")), sha256()])?, js_object(&[("name", s("RSASSA-PKCS1-v1_5"))])?)
        }
        JwsAlgorithm::Ps256 => (
            js_object(&[("name", s("RSA-PSS")), sha256()])?,
            // RFC 7518 §3.5: the salt is as long as the hash, 32 bytes.
            js_object(&[("name", s("RSA-PSS")), ("saltLength", JsValue::from_f64(32.0))])?,
        ),
        JwsAlgorithm::Es256 => (
            js_object(&[("name", s("ECDSA")), ("namedCurve", s("P-256"))])?,
            js_object(&[("name", s("ECDSA")), sha256()])?,
        ),
    })
}

/// The key as a JWK object for `importKey`: only its material (the `alg`
/// restriction was enforced when the key was chosen).
fn jwk_object(key: &Jwk) -> Result<js_sys::Object, LoginError> {
    let s = |text: &str| JsValue::from_str(text);
    match &key.material {
        KeyMaterial::Rsa { n, e } => js_object(&[("kty", s("RSA")), ("n", s(n)), ("e", s(e))]),
        KeyMaterial::EcP256 { x, y } => js_object(&[("kty", s("EC")), ("crv", s("P-256")), ("x", s(x)), ("y", s(y))]),
    }
}

/// Checks the signature of the compact JWS `raw_token` with `key`: the
/// header's `alg` must be allowed and fit the key, and WebCrypto must accept
/// the signature over `header.payload`. Nothing else of the token is read.
pub async fn verify_jws(raw_token: &str, key: &Jwk) -> Result<(), LoginError> {
    let header = JwsHeader::parse(raw_token)?;
    let Some(alg) = JwsAlgorithm::from_name(&header.alg) else {
        return Err(invalid(format!(
            "algorithm `{}` is not allowed (allowed: {})",
            header.alg,
            crate::id_token::ALLOWED_ALGORITHMS.join(", ")
        )));
    };
    if !key.fits(alg) {
        return Err(invalid(format!("its signing key is not usable with {}", alg.name())));
    }
    // `JwsHeader::parse` saw exactly three parts, the last non-empty.
    let Some((signing_input, signature)) = raw_token.rsplit_once('.') else {
        return Err(invalid("it is not a compact JWS (three dot-separated parts)"));
    };
    let signature = b64::decode(signature).map_err(|_| invalid("its signature is not base64url"))?;
    // JWS ES256 signatures are `r || s` (RFC 7518 §3.4), which is also what
    // WebCrypto takes; a DER-encoded signature is a provider bug, refused.
    if alg == JwsAlgorithm::Es256 && signature.len() != 64 {
        return Err(invalid(format!("its ES256 signature is {} bytes long, not 64", signature.len())));
    }

    let subtle = browser::subtle_crypto()?;
    let (import_algorithm, verify_algorithm) = algorithms(alg)?;
    let usages = js_sys::Array::of1(&JsValue::from_str("verify"));
    let kid = key.kid.as_deref().unwrap_or("(no kid)");
    let unusable_key = |e: JsValue| {
        LoginError::Discovery(format!(
            "the provider's key `{kid}` cannot be imported for {}: {}",
            alg.name(),
            describe(e)
        ))
    };
    let promise = subtle
        .import_key_with_object("jwk", &jwk_object(key)?, &import_algorithm, false, &usages)
        .map_err(unusable_key)?;
    let crypto_key: web_sys::CryptoKey = JsFuture::from(promise).await.map_err(unusable_key)?.unchecked_into();

    let verify_failed =
        |e: JsValue| LoginError::Browser(format!("WebCrypto could not verify a signature: {}", describe(e)));
    let promise = subtle
        .verify_with_object_and_u8_array_and_u8_array(
            &verify_algorithm,
            &crypto_key,
            &signature,
            signing_input.as_bytes(),
        )
        .map_err(verify_failed)?;
    let valid = JsFuture::from(promise).await.map_err(verify_failed)?;
    if valid.as_bool() == Some(true) { Ok(()) } else { Err(invalid("the signature is invalid")) }
}

/// Fetches the JWKS document at `jwks_uri` (without cookies), past the
/// browser's HTTP cache, and remembers a usable one for later page loads
/// as long as its `Cache-Control` allows.
pub async fn fetch_jwks(jwks_uri: &str) -> Result<String, LoginError> {
    // A key set cached by the browser would hide a rotation: this is what
    // runs when a token names a key the set in hand lacks.
    let response = browser::get_json(jwks_uri, Cache::Revalidate)
        .await
        .map_err(|e| LoginError::Network(format!("{jwks_uri}: {e}")))?;
    if response.status != 200 {
        return Err(LoginError::Discovery(format!("the key set {jwks_uri} answered HTTP {}", response.status)));
    }
    let reuse = KeySet::parse(&response.body).ok().and(response.reuse_seconds);
    provider_cache::keep(jwks_uri, &response.body, reuse, browser::now_seconds());
    Ok(response.body)
}

/// How long a key set in hand verifies tokens before it is fetched again:
/// a key the provider withdrew from its JWKS is trusted at most this long
/// after this page last saw the set.
pub const KEY_SET_MAX_AGE_SECONDS: i64 = 15 * 60;

/// Where the key set in hand came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum KeysFrom {
    /// Fetched from the provider by this page.
    #[default]
    Provider,
    /// Remembered from an earlier page load ([`crate::provider_cache`]).
    Remembered,
}

/// What [`ProviderKeys`] remembers.
#[derive(Debug, Default)]
struct KeyCache {
    /// The key set in hand: the last one fetched successfully, or one
    /// remembered from an earlier page load.
    keys: Option<KeySet>,
    /// Where `keys` came from.
    from: KeysFrom,
    /// When the last fetch for an unknown `kid` missed: it did not bring
    /// that key, or failed. The next such fetch waits
    /// [`REFETCH_INTERVAL_SECONDS`] from then; `None` (no miss yet, or keys
    /// remembered from an earlier page load) lets it go at once.
    last_miss_at: Option<i64>,
    /// When `keys` came into this page's hands (fetched, or recalled from an
    /// earlier page load), for [`KEY_SET_MAX_AGE_SECONDS`].
    obtained_at: Option<i64>,
}

impl KeyCache {
    /// Whether the keys in hand may still verify tokens at `now` without a
    /// fetch first. A clock that went backwards makes them stale.
    fn is_fresh(&self, now: i64) -> bool {
        self.keys.is_some() && self.obtained_at.is_some_and(|at| at <= now && now - at < KEY_SET_MAX_AGE_SECONDS)
    }
}

/// The provider's signing keys, fetched from its `jwks_uri` when first
/// needed and again, rate-limited, when a token names an unknown `kid`.
///
/// Cheap to clone (clones share the keys), `Send` and `Sync` (it holds no
/// JavaScript objects). Never holds its lock across an `await`.
#[derive(Debug, Clone)]
pub struct ProviderKeys {
    jwks_uri: Arc<str>,
    cache: Arc<Mutex<KeyCache>>,
}

impl ProviderKeys {
    /// The keys published at `jwks_uri` (the discovery document's). Nothing
    /// is fetched until the first verification.
    pub fn new(jwks_uri: impl Into<String>) -> ProviderKeys {
        ProviderKeys { jwks_uri: Arc::from(jwks_uri.into()), cache: Arc::default() }
    }

    /// Where the keys are fetched from.
    pub fn jwks_uri(&self) -> &str {
        &self.jwks_uri
    }

    /// The key set last fetched, if any.
    pub fn current(&self) -> Option<KeySet> {
        self.lock().keys.clone()
    }

    /// Takes the key set remembered from an earlier page load, if it may
    /// still be used `now` and is a usable JWKS (else it is dropped). Its
    /// keys verify tokens as fetched ones do, but an unknown `kid` is looked
    /// up at the provider at once, and a failed verification drops them.
    pub fn recall(&self, now: i64) {
        let Some(body) = provider_cache::recall(&self.jwks_uri, now) else { return };
        match KeySet::parse(&body) {
            Ok(keys) => {
                let mut cache = self.lock();
                if cache.keys.is_none() {
                    *cache = KeyCache {
                        keys: Some(keys),
                        from: KeysFrom::Remembered,
                        last_miss_at: None,
                        obtained_at: Some(now),
                    };
                }
            }
            Err(_) => provider_cache::forget(&self.jwks_uri),
        }
    }

    /// Drops the key set in hand if it was remembered from an earlier page
    /// load; `true` when it did (the caller drops the stored copy).
    fn forget_remembered(&self) -> bool {
        let mut cache = self.lock();
        if cache.keys.is_none() || cache.from != KeysFrom::Remembered {
            return false;
        }
        *cache = KeyCache::default();
        true
    }

    /// Fetches the key set unless one is in hand, so that the verification
    /// that follows finds it: started beside the token request whose ID
    /// token it will verify, the two round trips overlap. A failure is left
    /// for that verification to meet (it fetches again).
    pub async fn preload(&self) {
        let _ = self.preload_with(browser::now_seconds(), fetch_jwks).await;
    }

    /// [`preload`](Self::preload), with the clock and the fetch supplied.
    /// Stale keys in hand are fetched again too; should that fail, they stay.
    async fn preload_with(
        &self,
        now: i64,
        fetch: impl AsyncFnOnce(&str) -> Result<String, LoginError>,
    ) -> Result<(), LoginError> {
        // A preload wants no particular key, so neither its fetch nor its
        // failure holds back the lookup of a token's unknown `kid`.
        if self.lock().is_fresh(now) {
            return Ok(());
        }
        let keys = KeySet::parse(&fetch(&self.jwks_uri).await?)?;
        self.install(keys, now);
        Ok(())
    }

    /// Puts `keys`, just fetched from the provider at `now`, in hand.
    fn install(&self, keys: KeySet, now: i64) {
        let mut cache = self.lock();
        cache.keys = Some(keys);
        cache.from = KeysFrom::Provider;
        cache.obtained_at = Some(now);
    }

    fn lock(&self) -> MutexGuard<'_, KeyCache> {
        // Nothing panics while the lock is held; a poisoned cache is still sound.
        self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Verifies the signature of the ID token `raw`: chooses its key
    /// (fetching the key set when needed) and checks the signature with
    /// WebCrypto. Call this before the claim checks of
    /// [`crate::id_token::validate`].
    ///
    /// A token from our own token endpoint that names a key we have not seen
    /// is a key rotation, not an attack: the set is fetched again at once.
    /// If that fetch (or an earlier one, moments ago) missed the key, this
    /// waits out the rest of the window (at most [`REFETCH_INTERVAL_SECONDS`])
    /// and tries once more, rather than end a session that is fine: a
    /// provider may publish a key a moment after it starts signing with it. Keys remembered from an earlier page
    /// load that fail the token are dropped first, and the provider's own
    /// set tried.
    pub async fn verify(&self, raw: &str) -> Result<(), LoginError> {
        let mut first = self.verify_with(raw, browser::now_seconds(), fetch_jwks).await;
        if first.is_err() && self.forget_remembered() {
            provider_cache::forget(&self.jwks_uri);
            first = self.verify_with(raw, browser::now_seconds(), fetch_jwks).await;
        }
        if first.is_ok() {
            return first;
        }
        let Some(wait) = self.rate_limited_for(raw, browser::now_seconds()) else { return first };
        browser::sleep_seconds(wait).await;
        self.verify_with(raw, browser::now_seconds(), fetch_jwks).await
    }

    /// How long until the key set may be fetched again, when `raw` names a
    /// key the loaded set lacks and the rate limit is what stands in the way.
    fn rate_limited_for(&self, raw: &str, now: i64) -> Option<i64> {
        let header = JwsHeader::parse(raw).ok()?;
        let cache = self.lock();
        let keys = cache.keys.as_ref()?;
        if !matches!(keys.select(&header.alg, header.kid.as_deref()), KeySelection::UnknownKid) {
            return None;
        }
        let at = cache.last_miss_at?;
        let wait = at + REFETCH_INTERVAL_SECONDS - now;
        (wait > 0).then_some(wait.min(REFETCH_INTERVAL_SECONDS))
    }

    /// [`verify`](Self::verify), with the clock (`now`, seconds since the
    /// epoch) and the way to fetch the JWKS document (given the `jwks_uri`)
    /// supplied by the caller.
    pub async fn verify_with(
        &self,
        raw: &str,
        now: i64,
        fetch: impl AsyncFnOnce(&str) -> Result<String, LoginError>,
    ) -> Result<(), LoginError> {
        let key = self.key_for(raw, now, fetch).await?;
        verify_jws(raw, &key).await
    }

    /// The key that must have signed `raw`. Fetches the key set when none
    /// is loaded, when the one in hand is older than
    /// [`KEY_SET_MAX_AGE_SECONDS`] (keeping it should the fetch fail), or
    /// when the token's `kid` is unknown and no fetch missed within the
    /// interval ([`crate::jwks::may_fetch_keys`]); at most one fetch. A
    /// fetch that does not bring the key, or fails, is a miss.
    async fn key_for(
        &self,
        raw: &str,
        now: i64,
        fetch: impl AsyncFnOnce(&str) -> Result<String, LoginError>,
    ) -> Result<Jwk, LoginError> {
        let header = JwsHeader::parse(raw)?;
        let kid = header.kid.as_deref();
        let choose = |keys: &KeySet| match keys.select(&header.alg, kid) {
            KeySelection::Found { key, .. } => Ok(Some(key.clone())),
            KeySelection::UnknownKid => Ok(None),
            KeySelection::Refused(why) => Err(invalid(why)),
        };
        let unknown = |detail: &str| {
            invalid(format!(
                "it is signed with the key `{}`, which the provider does not publish{detail}",
                kid.unwrap_or_default()
            ))
        };

        let (may_fetch, stale) = {
            let cache = self.lock();
            let fresh = cache.is_fresh(now);
            if fresh
                && let Some(keys) = &cache.keys
                && let Some(key) = choose(keys)?
            {
                return Ok(key);
            }
            // Stale keys are fetched again whatever the miss cooldown says:
            // that limit is for unknown `kid`s, and this is the upkeep.
            let stale = cache.keys.is_some() && !fresh;
            (stale || crate::jwks::may_fetch_keys(cache.keys.is_some(), cache.last_miss_at, now), stale)
        };
        if !may_fetch {
            return Err(unknown(&format!(
                " (a fetch of its keys less than {REFETCH_INTERVAL_SECONDS} s ago lacked it too; not fetching them again yet)"
            )));
        }
        let keys = match fetch(&self.jwks_uri).await.and_then(|body| KeySet::parse(&body)) {
            Ok(keys) => keys,
            Err(err) => {
                let mut cache = self.lock();
                cache.last_miss_at = Some(now);
                // The provider's key set is out of reach: the stale set is
                // better than failing a token from our own token endpoint.
                if stale
                    && let Some(keys) = &cache.keys
                    && let Some(key) = choose(keys)?
                {
                    return Ok(key);
                }
                return Err(err);
            }
        };
        let chosen = choose(&keys);
        self.install(keys, now);
        if !matches!(chosen, Ok(Some(_))) {
            self.lock().last_miss_at = Some(now);
        }
        chosen?.ok_or_else(|| unknown(""))
    }
}

/// Verifies the ID token's signature against the provider's keys; the
/// claims are checked afterwards by [`crate::id_token::validate`].
pub async fn verify_id_token_signature(keys: &ProviderKeys, raw: &str) -> Result<(), LoginError> {
    keys.verify(raw).await
}

#[cfg(test)]
mod tests {
    //! The key-choice and refetch logic, natively: the fetch is injected and
    //! never reaches WebCrypto (only `verify_jws` does).
    use super::*;
    use serde_json::{Value, json};
    use std::cell::Cell;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    const T0: i64 = 1_800_000_000;

    /// Runs a future that never waits (the injected fetches return at once).
    fn ready<T>(future: impl Future<Output = T>) -> T {
        match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(value) => value,
            Poll::Pending => panic!("the future waited"),
        }
    }

    fn rsa(kid: &str) -> Value {
        json!({"kty": "RSA", "kid": kid, "n": b64::encode([0xC5u8; 256]), "e": "AQAB"})
    }

    fn jwks(kids: &[&str]) -> String {
        json!({ "keys": kids.iter().map(|k| rsa(k)).collect::<Vec<_>>() }).to_string()
    }

    fn token(kid: Option<&str>) -> String {
        let header = match kid {
            Some(kid) => json!({"alg": "RS256", "kid": kid}),
            None => json!({"alg": "RS256"}),
        };
        format!("{}.e30.c2ln", b64::encode(header.to_string()))
    }

    /// Resolves the key of a token signed with `kid` at `now`, serving
    /// `served` if asked to fetch; returns the chosen kid and whether it fetched.
    fn resolve(keys: &ProviderKeys, kid: &str, now: i64, served: &str) -> (Result<Option<String>, LoginError>, bool) {
        let fetched = Cell::new(false);
        let fetch = async |uri: &str| {
            assert_eq!(uri, "https://idp.example/jwks");
            fetched.set(true);
            Ok(served.to_owned())
        };
        let result = ready(keys.key_for(&token(Some(kid)), now, fetch)).map(|key| key.kid);
        (result, fetched.get())
    }

    fn unknown_kid(result: Result<Option<String>, LoginError>, needle: &str) {
        match result {
            Err(LoginError::InvalidIdToken(why)) => {
                assert!(why.contains("does not publish") && why.contains(needle), "`{why}` lacks `{needle}`")
            }
            other => panic!("expected an unknown kid, got {other:?}"),
        }
    }

    #[test]
    fn keys_are_fetched_on_first_use_then_reused() {
        let keys = ProviderKeys::new("https://idp.example/jwks");
        assert_eq!(keys.current(), None);
        assert_eq!(resolve(&keys, "a", T0, &jwks(&["a"])), (Ok(Some("a".into())), true));
        assert_eq!(resolve(&keys, "a", T0 + 1, &jwks(&["a"])), (Ok(Some("a".into())), false));
        // Clones share the keys.
        let clone = keys.clone();
        assert_eq!(resolve(&clone, "a", T0 + 2, &jwks(&["a"])), (Ok(Some("a".into())), false));
        assert_eq!(clone.current().unwrap().keys().len(), 1);
    }

    #[test]
    fn an_unknown_kid_refetches_at_once_and_only_a_miss_holds_the_next_back() {
        let keys = ProviderKeys::new("https://idp.example/jwks");
        assert_eq!(resolve(&keys, "a", T0, &jwks(&["a"])).0, Ok(Some("a".into())));
        // Rotations right after the first fetch, and right after each other:
        // each new key is looked up at once, and found.
        assert_eq!(resolve(&keys, "b", T0 + 1, &jwks(&["a", "b"])), (Ok(Some("b".into())), true));
        assert_eq!(resolve(&keys, "c", T0 + 2, &jwks(&["b", "c"])), (Ok(Some("c".into())), true));
        // A kid the provider does not publish: fetched once, and missed.
        let (result, fetched) = resolve(&keys, "x", T0 + 3, &jwks(&["b", "c"]));
        assert!(fetched);
        unknown_kid(result, "");
        // Another unknown kid within the interval after that miss: refused
        // without a fetch, although the served set would have it.
        let (result, fetched) = resolve(&keys, "d", T0 + 4, &jwks(&["c", "d"]));
        assert!(!fetched);
        unknown_kid(result, "not fetching them again yet");
        // Known keys keep working meanwhile.
        assert_eq!(resolve(&keys, "c", T0 + 5, "unused"), (Ok(Some("c".into())), false));
        // Once the interval after the miss has passed: fetched, and found.
        assert_eq!(
            resolve(&keys, "d", T0 + 3 + REFETCH_INTERVAL_SECONDS, &jwks(&["c", "d"])),
            (Ok(Some("d".into())), true)
        );
    }

    /// Issue 9, item 16: the page preloads the key set while the code
    /// exchange runs; the provider rotates in between, so the token names a
    /// key the preloaded set lacks. It is looked up at once, not after the
    /// refetch interval.
    #[test]
    fn a_key_rotated_in_after_the_preload_is_looked_up_at_once() {
        let keys = ProviderKeys::new("https://idp.example/jwks");
        ready(keys.preload_with(T0, async |_: &str| Ok(jwks(&["old"])))).unwrap();
        assert_eq!(resolve(&keys, "new", T0, &jwks(&["old", "new"])), (Ok(Some("new".into())), true));
        assert_eq!(keys.rate_limited_for(&token(Some("newer")), T0), None, "nothing missed: no wait");
    }

    #[test]
    fn a_refetch_that_still_lacks_the_kid_fails_and_counts() {
        let keys = ProviderKeys::new("https://idp.example/jwks");
        resolve(&keys, "a", T0, &jwks(&["a"])).0.unwrap();
        let (result, fetched) = resolve(&keys, "z", T0 + 100, &jwks(&["a", "b"]));
        assert!(fetched);
        unknown_kid(result, "");
        // The set fetched meanwhile replaced the old one.
        assert_eq!(resolve(&keys, "b", T0 + 101, "unused"), (Ok(Some("b".into())), false));
        let (result, fetched) = resolve(&keys, "z", T0 + 102, &jwks(&["z"]));
        assert!(!fetched);
        unknown_kid(result, "not fetching");
    }

    #[test]
    fn a_failed_fetch_keeps_the_old_keys_and_is_rate_limited() {
        let keys = ProviderKeys::new("https://idp.example/jwks");
        resolve(&keys, "a", T0, &jwks(&["a"])).0.unwrap();
        let (result, fetched) = resolve(&keys, "b", T0 + 100, "<html>oops</html>");
        assert!(fetched);
        assert!(matches!(result, Err(LoginError::Discovery(_))), "{result:?}");
        assert_eq!(resolve(&keys, "a", T0 + 101, "unused"), (Ok(Some("a".into())), false));
        assert!(!resolve(&keys, "b", T0 + 102, &jwks(&["b"])).1);
        // A network error from the fetch is passed on.
        let result = ready(
            keys.key_for(&token(Some("b")), T0 + 200, async |_: &str| Err(LoginError::Network("offline".into()))),
        );
        assert_eq!(result, Err(LoginError::Network("offline".into())));
    }

    #[test]
    fn without_keys_every_verification_may_fetch() {
        let keys = ProviderKeys::new("https://idp.example/jwks");
        let (result, fetched) = resolve(&keys, "a", T0, "not json");
        assert!(fetched && result.is_err());
        // Nothing was ever loaded, so the next attempt fetches again at once.
        assert_eq!(resolve(&keys, "a", T0, &jwks(&["a"])), (Ok(Some("a".into())), true));
    }

    #[test]
    fn refusals_never_fetch() {
        let keys = ProviderKeys::new("https://idp.example/jwks");
        resolve(&keys, "a", T0, &jwks(&["a", "b"])).0.unwrap();
        let never = async |_: &str| -> Result<String, LoginError> { panic!("fetched") };
        // No kid and two suitable keys.
        let result = ready(keys.key_for(&token(None), T0 + 500, never));
        assert!(matches!(result, Err(LoginError::InvalidIdToken(ref m)) if m.contains("2 RS256 keys")), "{result:?}");
        // Forbidden algorithms, whatever the kid.
        for alg in ["none", "HS256", "HS384"] {
            let raw = format!("{}.e30.c2ln", b64::encode(json!({"alg": alg, "kid": "zz"}).to_string()));
            let result = ready(keys.key_for(&raw, T0 + 500, never));
            assert!(
                matches!(result, Err(LoginError::InvalidIdToken(ref m)) if m.contains("not allowed")),
                "{result:?}"
            );
        }
        // Malformed tokens.
        assert!(ready(keys.key_for("a.b", T0 + 500, never)).is_err());
    }

    /// Keys as [`ProviderKeys::recall`] leaves them: remembered from an earlier page load.
    fn remembered(kids: &[&str]) -> ProviderKeys {
        let keys = ProviderKeys::new("https://idp.example/jwks");
        *keys.lock() = KeyCache {
            keys: Some(KeySet::parse(&jwks(kids)).unwrap()),
            from: KeysFrom::Remembered,
            last_miss_at: None,
            obtained_at: Some(T0),
        };
        keys
    }

    #[test]
    fn remembered_keys_verify_without_a_fetch_and_look_up_an_unknown_kid_at_once() {
        let keys = remembered(&["a"]);
        assert_eq!(resolve(&keys, "a", T0, "unused"), (Ok(Some("a".into())), false));
        // The provider rotated since the set was remembered: asked at once, not after the interval.
        assert_eq!(resolve(&keys, "b", T0 + 1, &jwks(&["a", "b"])), (Ok(Some("b".into())), true));
        // From then on the fetched set is in hand, rate-limited as usual.
        let (result, fetched) = resolve(&keys, "c", T0 + 2, &jwks(&["a", "b"]));
        assert!(fetched);
        unknown_kid(result, "");
        let (result, fetched) = resolve(&keys, "c", T0 + 3, &jwks(&["c"]));
        assert!(!fetched);
        unknown_kid(result, "not fetching them again yet");
        assert!(!keys.forget_remembered(), "the keys in hand were fetched, not remembered");
    }

    #[test]
    fn remembered_keys_can_be_dropped_for_the_provider_s_own() {
        let keys = remembered(&["a"]);
        assert!(keys.forget_remembered());
        assert_eq!(keys.current(), None);
        assert!(!keys.forget_remembered(), "nothing is left to drop");
        // The next verification fetches, however recent the last fetch.
        assert_eq!(resolve(&keys, "a", T0, &jwks(&["a"])), (Ok(Some("a".into())), true));
    }

    #[test]
    fn a_preload_fetches_only_without_keys_in_hand() {
        let keys = ProviderKeys::new("https://idp.example/jwks");
        let fetches = Cell::new(0);
        let fetch = async |_: &str| {
            fetches.set(fetches.get() + 1);
            Ok(jwks(&["a"]))
        };
        ready(keys.preload_with(T0, fetch)).unwrap();
        assert_eq!(fetches.get(), 1);
        // The verification that follows finds the key without a fetch.
        assert_eq!(resolve(&keys, "a", T0 + 1, "unused"), (Ok(Some("a".into())), false));
        ready(keys.preload_with(T0 + 100, fetch)).unwrap();
        assert_eq!(fetches.get(), 1, "keys in hand: no fetch");
        // Remembered keys are in hand too.
        ready(remembered(&["a"]).preload_with(T0, fetch)).unwrap();
        assert_eq!(fetches.get(), 1);
        // A failed preload leaves nothing, and the verification fetches again.
        let keys = ProviderKeys::new("https://idp.example/jwks");
        let failed = ready(keys.preload_with(T0, async |_: &str| Err(LoginError::Network("offline".into()))));
        assert_eq!(failed, Err(LoginError::Network("offline".into())));
        assert_eq!(resolve(&keys, "a", T0, &jwks(&["a"])), (Ok(Some("a".into())), true));
    }

    /// Issue 9, item 15: a key the provider withdrew is trusted at most
    /// KEY_SET_MAX_AGE_SECONDS after the page last fetched the set, however
    /// long the page stays open.
    #[test]
    fn a_withdrawn_key_stops_verifying_once_the_set_in_hand_is_stale() {
        let keys = ProviderKeys::new("https://idp.example/jwks");
        assert_eq!(resolve(&keys, "a", T0, &jwks(&["a"])), (Ok(Some("a".into())), true));
        // The provider withdraws `a`; until the set in hand is stale, it still verifies.
        let fresh_until = T0 + KEY_SET_MAX_AGE_SECONDS - 1;
        assert_eq!(resolve(&keys, "a", fresh_until, &jwks(&["b"])), (Ok(Some("a".into())), false));
        // Then the set is fetched again before it verifies anything, and `a` is gone.
        let (result, fetched) = resolve(&keys, "a", T0 + KEY_SET_MAX_AGE_SECONDS, &jwks(&["b"]));
        assert!(fetched);
        unknown_kid(result, "");
        assert_eq!(resolve(&keys, "b", T0 + KEY_SET_MAX_AGE_SECONDS + 1, "unused"), (Ok(Some("b".into())), false));
    }

    #[test]
    fn a_stale_set_is_used_while_the_provider_s_set_is_out_of_reach() {
        let keys = ProviderKeys::new("https://idp.example/jwks");
        resolve(&keys, "a", T0, &jwks(&["a"])).0.unwrap();
        let later = T0 + KEY_SET_MAX_AGE_SECONDS + 100;
        let offline = async |_: &str| Err(LoginError::Network("offline".into()));
        assert_eq!(ready(keys.key_for(&token(Some("a")), later, offline)).map(|k| k.kid), Ok(Some("a".into())));
        // A kid it lacks still fails with the fetch's error.
        let result = ready(keys.key_for(&token(Some("b")), later + 1, offline));
        assert!(result.is_err(), "{result:?}");
        // A clock that went backwards makes the set stale too.
        assert_eq!(resolve(&keys, "a", T0 - 10, &jwks(&["a"])), (Ok(Some("a".into())), true));
    }

    #[test]
    fn a_preload_fetches_a_stale_set_again() {
        let keys = ProviderKeys::new("https://idp.example/jwks");
        ready(keys.preload_with(T0, async |_: &str| Ok(jwks(&["a"])))).unwrap();
        ready(keys.preload_with(T0 + KEY_SET_MAX_AGE_SECONDS, async |_: &str| Ok(jwks(&["b"])))).unwrap();
        assert_eq!(resolve(&keys, "b", T0 + KEY_SET_MAX_AGE_SECONDS + 1, "unused"), (Ok(Some("b".into())), false));
        // A failed preload keeps the stale set.
        let offline = async |_: &str| Err(LoginError::Network("offline".into()));
        assert!(ready(keys.preload_with(T0 + 3 * KEY_SET_MAX_AGE_SECONDS, offline)).is_err());
        assert!(keys.current().is_some());
    }

    #[test]
    fn provider_keys_can_live_in_sync_storage() {
        fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
        assert_send_sync::<ProviderKeys>();
    }
}
