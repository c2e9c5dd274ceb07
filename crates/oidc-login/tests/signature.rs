//! ID-token signatures in headless Chromium: for each of RS256, PS256 and
//! ES256, key pairs generated and tokens signed with the browser's WebCrypto
//! (see `support`), then verified by the library — and the forgeries and
//! claim violations refused.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::cell::Cell;

use oidc_login::LoginError;
use oidc_login::browser;
use oidc_login::id_token::{self, IdToken};
use oidc_login::jwks::REFETCH_INTERVAL_SECONDS;
use oidc_login::signature::{self, ProviderKeys, verify_id_token_signature, verify_jws};
use serde_json::{Value, json};
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Everything the client does with an ID token: the signature, then the claims.
async fn validate_fully(keys: &ProviderKeys, raw: &str, now: i64) -> Result<IdToken, LoginError> {
    verify_id_token_signature(keys, raw).await?;
    id_token::validate(raw, &expectations(now))
}

/// Keys served from a `data:` URL holding these public JWKs.
fn serving(jwks_of: &[&Value]) -> ProviderKeys {
    ProviderKeys::new(data_url(&jwks(jwks_of)))
}

#[track_caller]
fn fails_with<T: std::fmt::Debug>(result: Result<T, LoginError>, needle: &str) {
    match result {
        Err(LoginError::InvalidIdToken(why)) => assert!(why.contains(needle), "`{why}` lacks `{needle}`"),
        other => panic!("expected an invalid-token error containing `{needle}`, got {other:?}"),
    }
}

/// The scenarios every algorithm must pass.
macro_rules! per_algorithm {
    ($module:ident, $alg:literal) => {
        mod $module {
            use super::*;

            const ALG: &str = $alg;

            #[wasm_bindgen_test]
            async fn a_correctly_signed_token_passes_every_check() {
                let key = TestKey::generate(ALG, "k1").await;
                let now = browser::now_seconds();
                let raw = key.sign(&claims(now)).await;
                // Through the default fetch (a `data:` URL, `credentials: omit`) and clock.
                let keys = serving(&[&key.public_jwk]);
                let token = validate_fully(&keys, &raw, now).await.unwrap();
                assert_eq!(token.subject, "user-1");
                assert_eq!(keys.current().unwrap().keys().len(), 1);
                verify_jws(&raw, &key.library_jwk()).await.unwrap();
            }

            #[wasm_bindgen_test]
            async fn a_flipped_signature_byte_fails() {
                let key = TestKey::generate(ALG, "k1").await;
                let now = browser::now_seconds();
                let raw = key.sign(&claims(now)).await;
                let keys = serving(&[&key.public_jwk]);
                fails_with(validate_fully(&keys, &flip_signature_byte(&raw), now).await, "the signature is invalid");
                // The genuine token still passes with the same keys: only the byte made the difference.
                validate_fully(&keys, &raw, now).await.unwrap();
                // Claims swapped under a genuine signature fail too.
                let (_, signature) = raw.rsplit_once('.').unwrap();
                let header = json!({"alg": ALG, "kid": "k1", "typ": "JWT"});
                let forged_claims = claims_with(now, |c| drop(c.insert("sub".into(), json!("admin"))));
                let forged = format!("{}.{signature}", signing_input(&header, &forged_claims));
                fails_with(validate_fully(&keys, &forged, now).await, "the signature is invalid");
            }

            #[wasm_bindgen_test]
            async fn alg_none_fails() {
                let key = TestKey::generate(ALG, "k1").await;
                let now = browser::now_seconds();
                let keys = serving(&[&key.public_jwk]);
                let header = json!({"alg": "none", "kid": "k1"});
                let unsigned = format!("{}.", signing_input(&header, &claims(now)));
                fails_with(validate_fully(&keys, &unsigned, now).await, "unsigned");
                // Even carrying a signature the key really made over this input.
                let signed = key.sign_with_header(&header, &claims(now)).await;
                fails_with(validate_fully(&keys, &signed, now).await, "`none` is not allowed");
                fails_with(verify_jws(&signed, &key.library_jwk()).await, "`none` is not allowed");
            }

            #[wasm_bindgen_test]
            async fn hmac_with_the_public_key_as_secret_fails() {
                let key = TestKey::generate(ALG, "k1").await;
                let now = browser::now_seconds();
                let keys = serving(&[&key.public_jwk]);
                // The classic confusion: the public key's bytes as the HMAC secret.
                let secrets = [serde_json::to_vec(&key.public_jwk).unwrap(), jwks(&[&key.public_jwk]).into_bytes()];
                for alg in ["HS256", "HS384"] {
                    for secret in &secrets {
                        let input = signing_input(&json!({"alg": alg, "kid": "k1"}), &claims(now));
                        let mac = hmac_sha256(secret, &input).await;
                        let forged = format!("{input}.{}", base64_url(&mac));
                        fails_with(validate_fully(&keys, &forged, now).await, &format!("`{alg}` is not allowed"));
                        fails_with(verify_jws(&forged, &key.library_jwk()).await, "is not allowed");
                    }
                }
            }

            #[wasm_bindgen_test]
            async fn claim_violations_fail_under_a_genuine_signature() {
                let key = TestKey::generate(ALG, "k1").await;
                let now = browser::now_seconds();
                let keys = serving(&[&key.public_jwk]);
                let cases: [(Value, &str); 6] = [
                    (claims_with(now, |c| drop(c.insert("iss".into(), json!("https://evil.example/")))), "`iss`"),
                    (claims_with(now, |c| drop(c.insert("aud".into(), json!("other-client")))), "`aud` does not contain"),
                    (claims_with(now, |c| drop(c.insert("azp".into(), json!("other-client")))), "`azp`"),
                    (
                        claims_with(now, |c| {
                            c.insert("exp".into(), json!(now - 3600));
                            c.insert("iat".into(), json!(now - 7200));
                        }),
                        "expired",
                    ),
                    (claims_with(now, |c| drop(c.remove("iat"))), "`iat` is missing"),
                    (claims_with(now, |c| drop(c.insert("nonce".into(), json!("another-attempt")))), "`nonce`"),
                ];
                for (claims, needle) in cases {
                    let raw = key.sign(&claims).await;
                    // The signature is genuine; the claims are what fails.
                    verify_id_token_signature(&keys, &raw).await.unwrap();
                    fails_with(validate_fully(&keys, &raw, now).await, needle);
                }
            }

            #[wasm_bindgen_test]
            async fn without_kid_only_a_single_key_is_used() {
                let key = TestKey::generate(ALG, "k1").await;
                let other = TestKey::generate(ALG, "k2").await;
                let now = browser::now_seconds();
                let header = json!({"alg": ALG, "typ": "JWT"});
                let raw = key.sign_with_header(&header, &claims(now)).await;
                // One key (published with or without a kid): it is the one.
                validate_fully(&serving(&[&key.public_jwk]), &raw, now).await.unwrap();
                validate_fully(&serving(&[&key.jwk_without_kid()]), &raw, now).await.unwrap();
                // Two suitable keys: ambiguous, refused, even though one would verify.
                let two = serving(&[&key.public_jwk, &other.public_jwk]);
                fails_with(validate_fully(&two, &raw, now).await, &format!("2 {ALG} keys"));
            }

            #[wasm_bindgen_test]
            async fn an_unknown_kid_refetches_once_per_interval() {
                let old = TestKey::generate(ALG, "old").await;
                let new = TestKey::generate(ALG, "new").await;
                let newer = TestKey::generate(ALG, "newer").await;
                let now = browser::now_seconds();
                let before = data_url(&jwks(&[&old.public_jwk]));
                let after = data_url(&jwks(&[&old.public_jwk, &new.public_jwk]));
                let later = data_url(&jwks(&[&old.public_jwk, &new.public_jwk, &newer.public_jwk]));
                let keys = ProviderKeys::new("https://idp.example/.well-known/jwks.json");
                let fetches = Cell::new(0);
                // The provider serves `url` now; every fetch is real (`data:` URLs) and counted.
                let serve = |url: &str| {
                    let url = url.to_owned();
                    let fetches = &fetches;
                    let uri = keys.jwks_uri().to_owned();
                    async move |asked: &str| {
                        assert_eq!(asked, uri);
                        fetches.set(fetches.get() + 1);
                        signature::fetch_jwks(&url).await
                    }
                };
                let t0 = now;
                let by_old = old.sign(&claims(now)).await;
                let by_new = new.sign(&claims(now)).await;
                let by_newer = newer.sign(&claims(now)).await;

                keys.verify_with(&by_old, t0, serve(&before)).await.unwrap();
                assert_eq!(fetches.get(), 1, "the first verification loads the keys");
                keys.verify_with(&by_old, t0 + 1, serve(&before)).await.unwrap();
                assert_eq!(fetches.get(), 1, "known keys are not fetched again");

                // The provider rotates; a token signed with the new key arrives later.
                let t1 = t0 + REFETCH_INTERVAL_SECONDS + 1;
                keys.verify_with(&by_new, t1, serve(&after)).await.unwrap();
                assert_eq!(fetches.get(), 2, "an unknown kid refetches");
                id_token::validate(&by_new, &expectations(now)).unwrap();
                keys.verify_with(&by_new, t1 + 1, serve(&after)).await.unwrap();
                assert_eq!(fetches.get(), 2);

                // Another rotation right after: looked up at once too (issue 9,
                // item 16: only a miss holds the next fetch back).
                keys.verify_with(&by_newer, t1 + 2, serve(&later)).await.unwrap();
                assert_eq!(fetches.get(), 3, "a second unknown kid refetches at once");
                // A kid the provider never published fails after its refetch…
                let stranger = TestKey::generate(ALG, "stranger").await;
                let by_stranger = stranger.sign(&claims(now)).await;
                fails_with(keys.verify_with(&by_stranger, t1 + 3, serve(&later)).await, "does not publish");
                assert_eq!(fetches.get(), 4);
                // …and within the interval after that miss, unknown kids are
                // refused without a fetch.
                fails_with(keys.verify_with(&by_stranger, t1 + 4, serve(&later)).await, "not fetching them again yet");
                assert_eq!(fetches.get(), 4, "rate-limited after a miss: no fetch");
                // After the interval it is looked up again.
                fails_with(
                    keys.verify_with(&by_stranger, t1 + 3 + REFETCH_INTERVAL_SECONDS, serve(&later)).await,
                    "does not publish",
                );
                assert_eq!(fetches.get(), 5);
            }
        }
    };
}

per_algorithm!(rs256, "RS256");
per_algorithm!(ps256, "PS256");
per_algorithm!(es256, "ES256");

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[wasm_bindgen_test]
async fn es256_signatures_must_be_raw_r_and_s() {
    let key = TestKey::generate("ES256", "ec").await;
    let now = browser::now_seconds();
    let raw = key.sign(&claims(now)).await;
    let keys = serving(&[&key.public_jwk]);
    let (_, signature) = raw.rsplit_once('.').unwrap();
    let signature = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature).unwrap();
    assert_eq!(signature.len(), 64);
    // A DER-like wrapping of the same r and s, and a truncated signature.
    let mut der = vec![0x30, 0x44, 0x02, 0x20];
    der.extend_from_slice(&signature[..32]);
    der.extend_from_slice(&[0x02, 0x20]);
    der.extend_from_slice(&signature[32..]);
    fails_with(validate_fully(&keys, &with_signature(&raw, &der), now).await, "70 bytes long, not 64");
    fails_with(validate_fully(&keys, &with_signature(&raw, &signature[..63]), now).await, "63 bytes long");
    validate_fully(&keys, &raw, now).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_key_restricted_to_rs256_does_not_verify_ps256() {
    let key = TestKey::generate("PS256", "rsa").await;
    let now = browser::now_seconds();
    let raw = key.sign(&claims(now)).await;
    let mut restricted = key.public_jwk.clone();
    restricted["alg"] = json!("RS256");
    fails_with(validate_fully(&serving(&[&restricted]), &raw, now).await, "for RS256, not usable with PS256");
    // The same key unrestricted verifies it.
    let mut unrestricted = key.public_jwk.clone();
    unrestricted.as_object_mut().unwrap().remove("alg");
    validate_fully(&serving(&[&unrestricted]), &raw, now).await.unwrap();
}

#[wasm_bindgen_test]
async fn an_rsa_key_does_not_verify_es256() {
    let rsa = TestKey::generate("RS256", "shared").await;
    let ec = TestKey::generate("ES256", "shared").await;
    let now = browser::now_seconds();
    let raw = ec.sign(&claims(now)).await;
    fails_with(
        validate_fully(&serving(&[&rsa.public_jwk]), &raw, now).await,
        "an RSA key for RS256, not usable with ES256",
    );
    fails_with(verify_jws(&raw, &rsa.library_jwk()).await, "not usable with ES256");
    // Published side by side under one kid, each verifies its own algorithm.
    let both = serving(&[&rsa.public_jwk, &ec.public_jwk]);
    validate_fully(&both, &raw, now).await.unwrap();
    validate_fully(&both, &rsa.sign(&claims(now)).await, now).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_token_signed_by_another_key_with_the_same_kid_fails() {
    let published = TestKey::generate("RS256", "k1").await;
    let impostor = TestKey::generate("RS256", "k1").await;
    let now = browser::now_seconds();
    let raw = impostor.sign(&claims(now)).await;
    fails_with(validate_fully(&serving(&[&published.public_jwk]), &raw, now).await, "the signature is invalid");
}

#[wasm_bindgen_test]
async fn an_unreachable_key_set_is_a_network_error() {
    let key = TestKey::generate("ES256", "k1").await;
    let raw = key.sign(&claims(browser::now_seconds())).await;
    // Port 9 (discard) on loopback: nothing listens there.
    let keys = ProviderKeys::new("http://127.0.0.1:9/jwks");
    assert!(matches!(keys.verify(&raw).await, Err(LoginError::Network(_))));
    // A key set that is not one.
    let keys = ProviderKeys::new(data_url("<html>not found</html>"));
    assert!(matches!(keys.verify(&raw).await, Err(LoginError::Discovery(_))));
}
