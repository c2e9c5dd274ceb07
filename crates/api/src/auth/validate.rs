//! Access-token validation: from a compact JWT to a [`Principal`].
//!
//! The checks, in order: size; header shape; algorithm on the allow-list;
//! `typ` one of the [`TokenTypes`] configured; no `crit` extensions; a key
//! that fits the algorithm (by `kid`, refetching the key set once if the
//! `kid` is new); the signature; then `nbf` with the leeway, `iss` exactly,
//! `aud` (a string or an array) containing the API's audience, `exp`
//! (required, with the leeway), and none of an ID token's markers.
//!
//! An ID token is signed by the same issuer with the same keys, so its
//! signature proves nothing about its purpose; where the provider puts the
//! API's audience into it too (a Keycloak client whose id is the API's
//! audience), it would pass every check above. What tells it apart is what
//! only ID tokens carry (OpenID Connect Core §2 and §3.1.3.6): `nonce` and
//! `at_hash`, and an `aud` naming the app that signed the user in
//! ([`VerifierConfig::client_ids`]). These are refused in every mode;
//! [`TokenTypes::AccessTokenOnly`] adds RFC 9068's explicit type on top, for
//! providers that set it.
//!
//! `exp` is checked here rather than by `jsonwebtoken`, which reads a
//! NumericDate it cannot parse as a `u64` (`-5`, `1.5e9` written as a float,
//! `"tomorrow"`) as a *missing* claim: a date before 1970 is long past and
//! answered as expired, a value that is no number as an invalid claim
//! (RFC 7519 §2 and §4.1.4), and the cache expires a token by the same
//! reading of the same claim.
//! Only then are the permissions read, through [`permissions::Capabilities`],
//! and the token's binding: a `cnf` claim (RFC 7800) with a `jkt` makes it a
//! DPoP-bound token ([`Principal::jkt`]), good only with a proof by that key
//! (`super::dpop`); a `cnf` of another kind (an mTLS certificate's
//! `x5t#S256`) binds it to something this API cannot check, so it is refused.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header, get_current_timestamp};
use permissions::{Capabilities, ClaimPath, ClaimWarning};
use serde_json::Value;

use super::cache::TokenCache;
use super::issuer::Issuer;
use super::jwk::{ALLOWED_ALGORITHMS, alg_name};
use super::key_set::KeyMiss;
use super::key_store::KeyStore;
use super::rejection::Rejection;

/// Tokens longer than this are refused before any decoding. Generous: an
/// Auth0 token carrying the maximum number of permissions fits easily.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// How many validated tokens the verifier remembers by default.
pub const DEFAULT_TOKEN_CACHE_CAPACITY: usize = 4096;

/// What the verifier checks tokens against.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Tokens' `iss` must equal this exactly.
    pub issuer: Issuer,
    /// Tokens' `aud` must be, or contain, this.
    pub audience: String,
    /// Where the permissions are in the claims.
    pub claim_path: ClaimPath,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// How many validated tokens to remember (`0`: verify every request from scratch).
    pub token_cache_capacity: usize,
    /// Which header `typ` values are taken for an access token.
    pub token_types: TokenTypes,
    /// The OAuth client ids of the apps that sign users in at the issuer
    /// (the SPA's): a token whose `aud` names one was issued to that app,
    /// as an ID token, and is refused.
    pub client_ids: Vec<String>,
}

/// Which JWT `typ` headers the verifier accepts (RFC 8725 §3.11: explicit
/// typing is what keeps one kind of token from passing as another).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenTypes {
    /// `typ` absent, `JWT`, or `at+jwt`: what most providers put on access
    /// tokens (Auth0 and Keycloak write `JWT`), so the default.
    #[default]
    AnyJwt,
    /// `at+jwt` only (RFC 9068 §2.1 and §4), the type no ID token has. For
    /// providers that set it: the development provider, Auth0 with the
    /// RFC 9068 token profile.
    AccessTokenOnly,
}

impl TokenTypes {
    /// Whether a token whose header says `typ` (or nothing) passes.
    /// Media types compare case-insensitively, with or without the
    /// `application/` prefix (RFC 7515 §4.1.9).
    pub fn accepts(self, typ: Option<&str>) -> bool {
        let is = |names: &[&str]| typ.is_some_and(|typ| names.iter().any(|name| typ.eq_ignore_ascii_case(name)));
        let access_token = is(&["at+jwt", "application/at+jwt"]);
        match self {
            TokenTypes::AnyJwt => typ.is_none() || access_token || is(&["JWT"]),
            TokenTypes::AccessTokenOnly => access_token,
        }
    }
}

impl VerifierConfig {
    /// The defaults: Auth0's `permissions` claim and 30 s of leeway.
    pub fn new(issuer: Issuer, audience: impl Into<String>) -> VerifierConfig {
        VerifierConfig {
            issuer,
            audience: audience.into(),
            claim_path: ClaimPath::Claim(permissions::names::ACCESS_TOKEN_PERMISSIONS_CLAIM.to_owned()),
            leeway: Duration::from_secs(30),
            token_cache_capacity: DEFAULT_TOKEN_CACHE_CAPACITY,
            token_types: TokenTypes::default(),
            client_ids: Vec::new(),
        }
    }
}

/// Who a valid token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's `sub`, when it has one.
    pub subject: Option<String>,
    /// The permissions read from the configured claim.
    pub capabilities: Capabilities,
    /// What the claim parser ignored or found missing (deny by default).
    pub warnings: Vec<ClaimWarning>,
    /// The thumbprint of the DPoP key the token is bound to (`cnf.jkt`,
    /// RFC 9449 §6), when it is bound: then it is accepted only with the
    /// DPoP scheme and a proof signed by that key.
    pub jkt: Option<String>,
}

/// Why a token, or the lack of one, was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header at all (RFC 6750 §3.1: no error code then).
    #[error("a bearer token is required")]
    MissingToken,
    /// Credentials of another scheme than `Bearer` or `DPoP` (`Basic ...`): to this
    /// API, no credentials at all, so it answers as to [`AuthError::MissingToken`]
    /// (RFC 6750 §3.1: "attempted using an unsupported authentication
    /// method" gets no error code).
    #[error(
        "an access token is required: this API accepts `Authorization: Bearer <token>` or `Authorization: DPoP <token>`"
    )]
    OtherScheme,
    /// The request itself is malformed, whatever its token (RFC 6750 §3.1
    /// `invalid_request`, answered with 400): only
    /// [`Rejection::SeveralAuthorizationHeaders`] and
    /// [`Rejection::UnreadableAuthorizationHeader`].
    #[error("{}", .0.description())]
    InvalidRequest(Rejection),
    /// The header or the token failed a check.
    #[error("{}", .0.description())]
    InvalidToken(Rejection),
    /// The issuer's keys could not be loaded yet, so no token can be checked.
    #[error("the token issuer's signing keys are not available yet")]
    KeysUnavailable,
}

impl From<Rejection> for AuthError {
    fn from(rejection: Rejection) -> Self {
        AuthError::InvalidToken(rejection)
    }
}

/// Validates access tokens. One per process, shared by all requests.
pub struct Verifier {
    config: VerifierConfig,
    keys: KeyStore,
    /// One validation per allowed algorithm: `jsonwebtoken` wants every
    /// algorithm of a `Validation` to share the key's family.
    validations: Vec<(Algorithm, Validation)>,
    cache: TokenCache,
}

impl Verifier {
    /// A verifier checking tokens against `config` with the keys of `keys`.
    pub fn new(config: VerifierConfig, keys: KeyStore) -> Verifier {
        let validations = ALLOWED_ALGORITHMS
            .iter()
            .map(|&alg| {
                let mut validation = Validation::new(alg);
                validation.leeway = config.leeway.as_secs();
                // `exp` is checked after decoding (see the module doc).
                validation.validate_exp = false;
                validation.validate_nbf = true;
                // Without these, `jsonwebtoken` would skip the `iss` and
                // `aud` checks for tokens that simply omit the claims.
                validation.set_required_spec_claims(&["iss", "aud"]);
                validation.set_issuer(&[config.issuer.as_str()]);
                validation.set_audience(&[config.audience.as_str()]);
                (alg, validation)
            })
            .collect();
        let cache = TokenCache::new(config.token_cache_capacity);
        Verifier { config, keys, validations, cache }
    }

    /// What tokens are checked against.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// The issuer's keys, for the background reload.
    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    /// Checks a compact JWT and returns who it speaks for.
    ///
    /// A token that passed every check is remembered (see `cache`) until its
    /// `exp` plus the leeway, and only while the key set that verified it is
    /// the one in use: a repeat within that window is one hash look-up
    /// instead of a signature check, and any other token, even one differing
    /// in a single byte (another `alg`, `kid`, audience or signature), is
    /// checked from scratch.
    pub async fn verify(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        self.verify_at(token, get_current_timestamp()).await
    }

    /// [`Verifier::verify`] with `exp` and the cache reading the clock as
    /// `now` (Unix seconds), so tests can move time past a cached token's
    /// expiry. (`nbf` is checked by `jsonwebtoken`, on the real clock.)
    pub(crate) async fn verify_at(&self, token: &str, now: u64) -> Result<Arc<Principal>, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Rejection::TooLarge.into());
        }
        if let Some(principal) = self.cache.get(token, now, self.keys.generation()) {
            return Ok(principal);
        }

        let header = decode_header(token).map_err(|_| Rejection::NotAJwt)?;
        let alg = header.alg;
        let Some((_, validation)) = self.validations.iter().find(|(a, _)| *a == alg) else {
            return Err(Rejection::UnsupportedAlgorithm.into());
        };
        if !self.config.token_types.accepts(header.typ.as_deref()) {
            return Err(Rejection::UnsupportedType.into());
        }
        if header.crit.is_some() {
            return Err(Rejection::CriticalHeader.into());
        }

        let kid = header.kid.as_deref();
        let mut keys = self.keys.current();
        let key = match keys.select(kid, alg) {
            Ok(key) => key,
            Err(miss) if miss.warrants_refresh() => {
                keys = self.keys.refresh_after(keys.generation(), |set| set.select(kid, alg).is_ok()).await;
                match keys.select(kid, alg) {
                    Ok(key) => key,
                    Err(_) if keys.is_empty() && self.keys.is_remote() => return Err(AuthError::KeysUnavailable),
                    Err(miss) => return Err(miss_rejection(miss).into()),
                }
            }
            Err(miss) => return Err(miss_rejection(miss).into()),
        };

        let claims = decode::<Value>(token, key.decoding_key(), validation)
            .map_err(|error| {
                tracing::debug!(kid = key.kid(), alg = alg_name(alg), "token refused: {error}");
                jwt_rejection(error.kind())
            })?
            .claims;

        // `jsonwebtoken` also accepts an `iss` array containing the issuer;
        // RFC 7519 §4.1.1 makes it a single string, so nothing else passes.
        if claims.get("iss").and_then(Value::as_str) != Some(self.config.issuer.as_str()) {
            return Err(Rejection::WrongIssuer.into());
        }
        let expires = claims.get("exp").ok_or(Rejection::MissingClaim)?;
        let valid_until =
            numeric_date(expires).ok_or(Rejection::InvalidClaim)?.saturating_add(self.config.leeway.as_secs());
        if valid_until < now {
            return Err(Rejection::Expired.into());
        }
        if is_id_token(&claims, &self.config.client_ids) {
            return Err(Rejection::IdToken.into());
        }
        let subject = match claims.get("sub") {
            None => None,
            Some(Value::String(sub)) => Some(sub.clone()),
            Some(_) => return Err(Rejection::InvalidClaim.into()),
        };
        let jkt = match claims.get("cnf") {
            None => None,
            Some(cnf) => match cnf.get("jkt") {
                Some(Value::String(jkt)) if !jkt.is_empty() => Some(jkt.clone()),
                _ => return Err(Rejection::UnsupportedConfirmation.into()),
            },
        };
        let parsed = Capabilities::from_claims(&claims, &self.config.claim_path);
        for warning in &parsed.warnings {
            tracing::debug!(subject = subject.as_deref(), "permissions claim: {warning}");
        }
        let principal =
            Arc::new(Principal { subject, capabilities: parsed.capabilities, warnings: parsed.warnings, jkt });

        self.cache.insert(token, principal.clone(), valid_until, now, keys.generation());
        Ok(principal)
    }
}

/// Whether verified `claims` are an ID token's: they carry `nonce` or
/// `at_hash`, which only ID tokens have, or their `aud` (a string or an
/// array) names one of `client_ids`.
fn is_id_token(claims: &Value, client_ids: &[String]) -> bool {
    if claims.get("nonce").is_some() || claims.get("at_hash").is_some() {
        return true;
    }
    let names_a_client = |aud: &Value| aud.as_str().is_some_and(|aud| client_ids.iter().any(|id| id == aud));
    match claims.get("aud") {
        Some(Value::Array(audiences)) => audiences.iter().any(names_a_client),
        Some(aud) => names_a_client(aud),
        None => false,
    }
}

/// A NumericDate (RFC 7519 §2: seconds since 1970, possibly fractional) as
/// whole seconds; a date before 1970 reads as 0, which is as past as it
/// gets. `None` for anything that is no finite number.
fn numeric_date(value: &Value) -> Option<u64> {
    if let Some(seconds) = value.as_u64() {
        return Some(seconds);
    }
    if value.as_i64().is_some() {
        // A negative integer: before 1970.
        return Some(0);
    }
    // `as` saturates: a float beyond `u64::MAX` is the far future, one
    // below zero the past.
    value.as_f64().filter(|f| f.is_finite()).map(|f| f.round() as u64)
}

fn miss_rejection(miss: KeyMiss) -> Rejection {
    match miss {
        KeyMiss::UnknownKid | KeyMiss::NoFittingKey => Rejection::UnknownKey,
        KeyMiss::Ambiguous => Rejection::AmbiguousKey,
        KeyMiss::AlgorithmMismatch => Rejection::KeyMismatch,
    }
}

fn jwt_rejection(kind: &ErrorKind) -> Rejection {
    match kind {
        ErrorKind::ExpiredSignature => Rejection::Expired,
        ErrorKind::ImmatureSignature => Rejection::NotYetValid,
        ErrorKind::InvalidIssuer => Rejection::WrongIssuer,
        ErrorKind::InvalidAudience => Rejection::WrongAudience,
        ErrorKind::MissingRequiredClaim(_) => Rejection::MissingClaim,
        ErrorKind::InvalidClaimFormat(_) | ErrorKind::InvalidSubject => Rejection::InvalidClaim,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidKeyFormat | ErrorKind::MissingAlgorithm => {
            Rejection::KeyMismatch
        }
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => Rejection::NotAJwt,
        // Signature failures, and keys the crypto backend refuses (which
        // make every signature under them unverifiable).
        _ => Rejection::BadSignature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_types() {
        for ok in ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"] {
            assert!(TokenTypes::AnyJwt.accepts(Some(ok)), "{ok}");
            assert!(TokenTypes::AccessTokenOnly.accepts(Some(ok)), "{ok}");
        }
        for only_lenient in [None, Some("JWT"), Some("jwt")] {
            assert!(TokenTypes::AnyJwt.accepts(only_lenient), "{only_lenient:?}");
            assert!(!TokenTypes::AccessTokenOnly.accepts(only_lenient), "{only_lenient:?}");
        }
        for bad in ["", "JOSE", "dpop+jwt", "logout+jwt", "application/jwt ", "secevent+jwt", "at+jwt "] {
            assert!(!TokenTypes::AnyJwt.accepts(Some(bad)), "{bad}");
            assert!(!TokenTypes::AccessTokenOnly.accepts(Some(bad)), "{bad}");
        }
    }

    #[test]
    fn id_token_markers() {
        let spa = ["spa".to_owned()];
        let id_token = |claims: serde_json::Value| is_id_token(&claims, &spa);
        assert!(!id_token(serde_json::json!({"aud": "api", "azp": "spa", "sub": "u"})));
        assert!(!id_token(serde_json::json!({"aud": ["api", "other"]})));
        assert!(!id_token(serde_json::json!({})));
        assert!(id_token(serde_json::json!({"aud": "api", "nonce": "n"})));
        assert!(id_token(serde_json::json!({"aud": "api", "nonce": null})));
        assert!(id_token(serde_json::json!({"aud": "api", "at_hash": "h"})));
        assert!(id_token(serde_json::json!({"aud": "spa"})));
        assert!(id_token(serde_json::json!({"aud": ["api", "spa"]})));
        // Client ids compare exactly, as `aud` values do.
        assert!(!id_token(serde_json::json!({"aud": ["SPA", "spa "]})));
        assert!(!is_id_token(&serde_json::json!({"aud": "spa"}), &[]));
    }

    /// A verifier with one fresh P-256 key, 30 s of leeway, and a signer for it.
    struct Fixture {
        verifier: Verifier,
        signing: jsonwebtoken::EncodingKey,
    }

    const ISSUER: &str = "https://issuer.test";
    const AUDIENCE: &str = "https://api.test";
    const LEEWAY: u64 = 30;

    impl Fixture {
        fn new() -> Fixture {
            use base64::Engine;
            use base64::engine::general_purpose::URL_SAFE_NO_PAD;
            use p256::elliptic_curve::sec1::ToEncodedPoint;
            use p256::pkcs8::{EncodePrivateKey, LineEnding};

            let secret = p256::SecretKey::random(&mut rand::thread_rng());
            let pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
            let signing = jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
            let point = secret.public_key().to_encoded_point(false);
            let jwk = serde_json::json!({
                "kty": "EC", "kid": "ec", "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
                "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
            });
            let keys = KeyStore::fixed(crate::auth::KeySet::from_jwks(&serde_json::json!({"keys": [jwk]})).unwrap());
            let mut config = VerifierConfig::new(Issuer::parse(ISSUER).unwrap(), AUDIENCE);
            config.leeway = Duration::from_secs(LEEWAY);
            Fixture { verifier: Verifier::new(config, keys), signing }
        }

        fn token(&self, exp: u64) -> String {
            let mut header = jsonwebtoken::Header::new(Algorithm::ES256);
            header.kid = Some("ec".into());
            let claims = serde_json::json!({
                "iss": ISSUER, "aud": AUDIENCE, "sub": "u", "exp": exp, "permissions": ["read:project-list"],
            });
            jsonwebtoken::encode(&header, &claims, &self.signing).unwrap()
        }
    }

    fn refused(outcome: Result<Arc<Principal>, AuthError>) -> Rejection {
        match outcome {
            Err(AuthError::InvalidToken(rejection)) => rejection,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_repeated_token_is_answered_from_the_cache_until_its_exp_and_leeway() {
        let fixture = Fixture::new();
        let now = get_current_timestamp();
        let exp = now + 100;
        let token = fixture.token(exp);
        let first = fixture.verifier.verify_at(&token, now).await.unwrap();
        assert_eq!(fixture.verifier.cache.hits(), 0, "the first request is verified");
        let again = fixture.verifier.verify_at(&token, exp + LEEWAY).await.unwrap();
        assert_eq!(again, first);
        assert_eq!(fixture.verifier.cache.hits(), 1, "the repeat is answered from the cache");
        // One second later the token is past `exp` plus the leeway: cached
        // or not, it is refused, exactly as a fresh verification refuses it.
        assert_eq!(refused(fixture.verifier.verify_at(&token, exp + LEEWAY + 1).await), Rejection::Expired);
    }

    #[tokio::test]
    async fn a_token_differing_from_a_cached_one_is_verified_afresh() {
        let fixture = Fixture::new();
        let now = get_current_timestamp();
        let token = fixture.token(now + 100);
        fixture.verifier.verify_at(&token, now).await.unwrap();
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let (header, claims) = signed.split_once('.').unwrap();

        // The same header and claims under another signature.
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        let forged = format!("{signed}.{flipped}{}", &signature[1..]);
        assert_eq!(refused(fixture.verifier.verify_at(&forged, now).await), Rejection::BadSignature);
        // Other claims (another audience) under the cached token's signature.
        let other_claims = {
            use base64::Engine;
            use base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
            claims["aud"] = "https://other.test".into();
            URL_SAFE_NO_PAD.encode(claims.to_string())
        };
        let moved = format!("{header}.{other_claims}.{signature}");
        assert_eq!(refused(fixture.verifier.verify_at(&moved, now).await), Rejection::BadSignature);
        // Another algorithm named in the header, over the same claims and signature.
        let es384 = {
            use base64::Engine;
            use base64::engine::general_purpose::URL_SAFE_NO_PAD;
            URL_SAFE_NO_PAD.encode(r#"{"alg":"ES384","kid":"ec","typ":"JWT"}"#)
        };
        let realg = format!("{es384}.{claims}.{signature}");
        assert_eq!(refused(fixture.verifier.verify_at(&realg, now).await), Rejection::KeyMismatch);
        assert_eq!(fixture.verifier.cache.hits(), 0, "none of them was taken for the cached token");
        // And the cached one itself still passes.
        fixture.verifier.verify_at(&token, now).await.unwrap();
        assert_eq!(fixture.verifier.cache.hits(), 1);
    }

    #[test]
    fn numeric_dates() {
        assert_eq!(numeric_date(&serde_json::json!(10)), Some(10));
        assert_eq!(numeric_date(&serde_json::json!(10.6)), Some(11));
        assert_eq!(numeric_date(&serde_json::json!(-1)), Some(0));
        assert_eq!(numeric_date(&serde_json::json!(-1.5)), Some(0));
        assert_eq!(numeric_date(&serde_json::json!(1e300)), Some(u64::MAX));
        assert_eq!(numeric_date(&serde_json::json!("10")), None);
        assert_eq!(numeric_date(&serde_json::json!(null)), None);
        assert_eq!(numeric_date(&serde_json::json!([10])), None);
    }
}
