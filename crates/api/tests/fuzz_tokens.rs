//! Property tests of the API's token handling (`cargo xtask fuzz`, target `api-tokens`, and a few cases in
//! every `cargo test`; see `crates/permissions/tests/fuzz/harness.rs`): the issuer's JWKS
//! ([`KeySet::from_jwks`]) and the token verifier ([`Verifier::verify`]) on arbitrary strings and on real tokens
//! with their bytes changed: no panic, no token accepted whose signed bytes were changed, and every refusal one
//! of the [`Rejection`]s; correctly signed tokens with claims of every kind, which pass only when every claim
//! check holds; and `Authorization` headers of every shape through the real router: a 401 or a 400
//! with a challenge, never a 5xx (a panicking handler is a 500).

// Test code: a failed unwrap is a failed test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../permissions/tests/fuzz/harness.rs"]
mod harness;
// The integration tests' fixtures; this binary uses some of them.
#[allow(dead_code)]
#[path = "api/support.rs"]
mod support;

use api::auth::{ALLOWED_ALGORITHMS, AuthError, KeySet, KeyStore, MAX_TOKEN_BYTES, Rejection, Verifier};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use harness::{arb, check};
use jsonwebtoken::Algorithm;
use proptest::prelude::*;
use serde_json::{Value, json};
use support::*;

/// A runtime for the async calls, one per test: the harness calls the property synchronously.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Base64url (no padding) of any bytes, or of bytes of a length a key member might have.
fn b64_member() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..80).prop_map(|bytes| URL_SAFE_NO_PAD.encode(bytes)),
        // RSA moduli about the bounds (2048 and 4096 bits), the top bit set or not.
        (prop::sample::select(vec![255usize, 256, 257, 384, 512, 513]), any::<u8>(), any::<bool>()).prop_map(
            |(len, fill, top)| {
                let mut bytes = vec![fill; len];
                bytes[0] = if top { 0x80 | fill } else { fill & 0x7F };
                URL_SAFE_NO_PAD.encode(bytes)
            }
        ),
        Just("AQAB".to_owned()),
        arb::text(),
    ]
}

/// One entry of a JWKS: a near-valid key of every type, or any JSON.
fn jwk() -> impl Strategy<Value = Value> {
    let pick = |names: &'static [&'static str]| prop::sample::select(names).prop_map(str::to_owned);
    let member = |strategy: BoxedStrategy<String>| prop_oneof![3 => strategy.prop_map(Value::String), 1 => arb::json()];
    let key = (
        pick(&["RSA", "EC", "oct", "OKP", "rsa", ""]),
        prop::option::of(member(pick(&["rsa-1", "ec-1", "k", ""]).boxed())),
        prop::option::of(member(
            pick(&["RS256", "RS384", "PS256", "PS512", "ES256", "ES384", "ES512", "HS256", "none", "RSA-OAEP"]).boxed(),
        )),
        prop::option::of(member(pick(&["sig", "enc", "SIG"]).boxed())),
        prop::option::of(member(pick(&["P-256", "P-384", "P-521", "secp256k1", "Ed25519"]).boxed())),
        prop::collection::vec((pick(&["n", "e", "x", "y", "k", "key_ops"]), member(b64_member().boxed())), 0..5),
    )
        .prop_map(|(kty, kid, alg, use_, crv, material)| {
            let mut key = json!({ "kty": kty });
            for (name, value) in [("kid", kid), ("alg", alg), ("use", use_), ("crv", crv)] {
                if let Some(value) = value {
                    key[name] = value;
                }
            }
            for (name, value) in material {
                key[name] = value;
            }
            key
        });
    prop_oneof![4 => key, 1 => arb::json()]
}

/// The algorithms a token header may name: the accepted ones (`ALLOWED_ALGORITHMS`, so a new one is fuzzed too)
/// and some that are always refused.
fn algorithms() -> Vec<Algorithm> {
    ALLOWED_ALGORITHMS.iter().copied().chain([Algorithm::HS256, Algorithm::EdDSA]).collect()
}

#[test]
fn fuzz_jwks_documents_never_panic_and_select_only_fitting_keys() {
    let document = prop_oneof![
        3 => prop::collection::vec(jwk(), 0..6).prop_map(|keys| json!({ "keys": keys })),
        // A usable key among garbage must survive it.
        2 => prop::collection::vec(jwk(), 0..4).prop_map(|mut keys| {
            keys.push(rsa_1().jwk.clone());
            json!({ "keys": keys })
        }),
        1 => arb::json(),
    ];
    let kid = prop::option::of(prop_oneof![
        prop::sample::select(vec!["rsa-1", "ec-1", "k", ""]).prop_map(str::to_owned),
        arb::text()
    ]);
    check("api::jwks", (document, kid), |(document, kid)| {
        let has_rsa_1 = document["keys"].as_array().is_some_and(|keys| keys.contains(&rsa_1().jwk));
        let Ok(set) = KeySet::from_jwks(&document) else {
            prop_assert!(!has_rsa_1, "a set holding a usable key was refused");
            return Ok(());
        };
        prop_assert!((1..=64).contains(&set.len()));
        if has_rsa_1 {
            prop_assert!(set.select(Some("rsa-1"), Algorithm::RS256).is_ok());
        }
        for alg in algorithms() {
            if let Ok(key) = set.select(kid.as_deref(), alg) {
                prop_assert!(key.fits(alg), "{alg:?} selected a key that does not fit it");
                prop_assert!(ALLOWED_ALGORITHMS.contains(&alg), "{alg:?} found a key");
                if let Some(kid) = &kid {
                    prop_assert_eq!(key.kid(), Some(kid.as_str()));
                }
            }
        }
        Ok(())
    });
}

/// The verifier of the integration tests: the main RSA key and the P-256 key.
fn verifier() -> Verifier {
    Verifier::new(default_config(), KeyStore::fixed(default_keys()))
}

/// Any refusal but one for lack of keys (the keys are fixed), with its rejection.
fn refusal(outcome: Result<impl std::fmt::Debug, AuthError>) -> Result<Rejection, TestCaseError> {
    match outcome {
        Err(AuthError::InvalidToken(rejection)) => {
            prop_assert!(Rejection::ALL.contains(&rejection));
            Ok(rejection)
        }
        other => Err(TestCaseError::fail(format!("expected a rejection, got {other:?}"))),
    }
}

/// Texts shaped like compact JWTs, more or less.
fn token_like() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        "[A-Za-z0-9_-]{0,40}",
        arb::json().prop_map(|v| URL_SAFE_NO_PAD.encode(v.to_string())),
        arb::text().prop_map(|t| URL_SAFE_NO_PAD.encode(t)),
    ];
    let header = (
        prop::sample::select(algorithms()),
        prop::option::of(prop::sample::select(vec!["rsa-1", "ec-1", "x"])),
        arb::json(),
    )
        .prop_map(|(alg, kid, extra)| {
            let mut header = json!({ "alg": alg, "typ": "JWT" });
            if let Some(kid) = kid {
                header["kid"] = json!(kid);
            }
            if let Value::Object(extra) = extra {
                header.as_object_mut().unwrap().extend(extra);
            }
            URL_SAFE_NO_PAD.encode(header.to_string())
        });
    prop_oneof![
        2 => any::<String>(),
        2 => prop::collection::vec(part.clone(), 0..5).prop_map(|parts| parts.join(".")),
        3 => (header, part.clone(), part).prop_map(|(h, c, s)| format!("{h}.{c}.{s}")),
        1 => "[A-Za-z0-9_.=+/~-]{0,64}",
        1 => (0usize..3).prop_map(|extra| "a".repeat(MAX_TOKEN_BYTES + extra)),
    ]
}

#[test]
fn fuzz_the_verifier_refuses_arbitrary_strings_with_a_rejection() {
    let runtime = runtime();
    let verifier = verifier();
    check("api::verify_arbitrary", token_like(), |token| {
        let rejection = refusal(runtime.block_on(verifier.verify(&token)))?;
        if token.len() > MAX_TOKEN_BYTES {
            prop_assert_eq!(rejection, Rejection::TooLarge);
        }
        Ok(())
    });
}

/// How a real token is changed.
#[derive(Debug, Clone)]
enum Mutation {
    /// The byte at this index (modulo the length) of the signed part (`header.payload`) becomes this character.
    Replace(usize, char),
    /// This character is inserted at this index of the signed part.
    Insert(usize, char),
    /// The byte at this index of the signed part is removed.
    Remove(usize),
    /// The claims, decoded, get this member; re-encoded under the same signature.
    Claim(String, Value),
    /// The header, decoded, gets this member; re-encoded under the same signature.
    Header(String, Value),
    /// The byte at this index of the signature part becomes this character.
    Signature(usize, char),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let alphabet: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".chars().collect();
    let char_ = prop_oneof![
        4 => prop::sample::select(alphabet),
        1 => prop::sample::select(vec!['.', '=', '+', '/', ' ', '~']),
        1 => any::<char>(),
    ];
    let member = prop_oneof![
        prop::sample::select(vec!["iss", "aud", "exp", "nbf", "sub", "permissions", "alg", "kid", "typ", "crit"])
            .prop_map(str::to_owned),
        arb::text(),
    ];
    prop_oneof![
        3 => (any::<usize>(), char_.clone()).prop_map(|(i, c)| Mutation::Replace(i, c)),
        1 => (any::<usize>(), char_.clone()).prop_map(|(i, c)| Mutation::Insert(i, c)),
        1 => any::<usize>().prop_map(Mutation::Remove),
        2 => (member.clone(), arb::json()).prop_map(|(m, v)| Mutation::Claim(m, v)),
        1 => (member, arb::json()).prop_map(|(m, v)| Mutation::Header(m, v)),
        2 => (any::<usize>(), char_).prop_map(|(i, c)| Mutation::Signature(i, c)),
    ]
}

/// `text` with its character at `index` (modulo its length) replaced by `c`.
fn replace_at(text: &str, index: usize, c: char) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    if !chars.is_empty() {
        let at = index % chars.len();
        chars[at] = c;
    }
    chars.into_iter().collect()
}

/// `text` with `c` inserted before its character at `index` (modulo its length plus one).
fn insert_at(text: &str, index: usize, c: char) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    chars.insert(index % (chars.len() + 1), c);
    chars.into_iter().collect()
}

/// `text` without its character at `index` (modulo its length).
fn remove_at(text: &str, index: usize) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    if !chars.is_empty() {
        chars.remove(index % chars.len());
    }
    chars.into_iter().collect()
}

/// A token part, decoded, with the member `name` set to `value`, encoded again; the part as it was if it no
/// longer decodes to a JSON object (an earlier mutation broke it).
fn with_member(part: &str, name: &str, value: &Value) -> String {
    let decoded = URL_SAFE_NO_PAD.decode(part).ok().and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    match decoded {
        Some(Value::Object(mut members)) => {
            members.insert(name.to_owned(), value.clone());
            URL_SAFE_NO_PAD.encode(Value::Object(members).to_string())
        }
        _ => part.to_owned(),
    }
}

/// `token` changed by `mutation`; a token that is no longer three parts is changed no further.
fn mutate(token: &str, mutation: &Mutation) -> String {
    let Some((signed, signature)) = token.rsplit_once('.') else { return token.to_owned() };
    let Some((header, claims)) = signed.split_once('.') else { return token.to_owned() };
    match mutation {
        Mutation::Replace(i, c) => format!("{}.{signature}", replace_at(signed, *i, *c)),
        Mutation::Insert(i, c) => format!("{}.{signature}", insert_at(signed, *i, *c)),
        Mutation::Remove(i) => format!("{}.{signature}", remove_at(signed, *i)),
        Mutation::Claim(name, value) => format!("{header}.{}.{signature}", with_member(claims, name, value)),
        Mutation::Header(name, value) => format!("{}.{claims}.{signature}", with_member(header, name, value)),
        Mutation::Signature(i, c) => format!("{signed}.{}", replace_at(signature, *i, *c)),
    }
}

#[test]
fn fuzz_the_verifier_accepts_no_token_whose_bytes_were_changed() {
    let runtime = runtime();
    let verifier = verifier();
    let tokens = [
        sign(&claims(ADMIN)),
        sign_with(rsa_1(), Algorithm::PS256, &claims(PROJECT_MANAGER)),
        sign_with(ec_1(), Algorithm::ES256, &claims_as("dev-idp|1", ADMIN)),
    ];
    for token in &tokens {
        runtime.block_on(verifier.verify(token)).expect("the unchanged tokens are valid");
    }
    let strategy = (prop::sample::select(tokens.to_vec()), prop::collection::vec(mutation(), 1..4));
    check("api::verify_mutated", strategy, |(token, mutations)| {
        let changed = mutations.iter().fold(token.clone(), |token, mutation| mutate(&token, mutation));
        prop_assume!(changed != token);
        refusal(runtime.block_on(verifier.verify(&changed)))?;
        Ok(())
    });
}

/// `Authorization` header values: bearer and DPoP tokens of every shape, other schemes, and any visible bytes.
fn authorization() -> impl Strategy<Value = Vec<u8>> {
    let scheme = prop::sample::select(vec!["Bearer ", "bearer   ", "BEARER ", "Basic ", "Bearer", "", "DPoP "]);
    prop_oneof![
        3 => (scheme, token_like()).prop_map(|(scheme, token)| format!("{scheme}{token}").into_bytes()),
        1 => prop::collection::vec(prop_oneof![0x20u8..0x7F, 0x80u8..=0xFF, Just(b'\t')], 0..80),
    ]
}

#[test]
fn fuzz_authorization_headers_answer_401_or_400_never_5xx() {
    let runtime = runtime();
    let app = runtime.block_on(test_app());
    let headers = prop::collection::vec(authorization(), 0..3);
    check("api::authorization_headers", headers, |values| {
        let mut request = Request::get("/api/v1/projects");
        for value in &values {
            request = request.header(header::AUTHORIZATION, value.as_slice());
        }
        // Values a header cannot hold never reach the router.
        let Ok(request) = request.body(Body::empty()) else {
            return Ok(());
        };
        let response = runtime.block_on(app.send(request));
        prop_assert!(
            matches!(response.status, StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST),
            "{} {:?}",
            response.status,
            response.body
        );
        // The `DPoP` scheme is answered with a `DPoP` challenge (RFC 9449 §7.1), any other with `Bearer`.
        prop_assert!(
            response
                .header("www-authenticate")
                .is_some_and(|c| c.starts_with("Bearer realm=\"api\"") || c.starts_with("DPoP realm=\"api\""))
        );
        Ok(())
    });
}

/// Claims a correctly signed token may carry: the valid ones, with members replaced by values that break, or
/// nearly break, each check.
fn signed_claims() -> impl Strategy<Value = Value> {
    let now = now();
    let time = prop_oneof![
        (now - 100..now + 100).prop_map(|t| json!(t)),
        prop::sample::select(vec![
            json!(-1),
            json!(0),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(1e300),
            json!(-1e300),
            json!(now as f64 + 0.5),
            json!((now + 600).to_string()),
            json!(null),
            json!([now + 600]),
        ]),
        any::<f64>().prop_map(|f| json!(f)),
    ];
    let member = prop_oneof![
        (Just("exp"), time.clone()),
        (Just("nbf"), time.clone()),
        (Just("iat"), time),
        (
            Just("iss"),
            prop_oneof![Just(json!(ISSUER)), Just(json!([ISSUER])), Just(json!("https://issuer.test/")), arb::json()]
        ),
        (
            Just("aud"),
            prop_oneof![
                Just(json!(AUDIENCE)),
                Just(json!([AUDIENCE, "other"])),
                Just(json!(["other"])),
                Just(json!([AUDIENCE, 5])),
                Just(json!([AUDIENCE, "permission-spa"])),
                arb::json(),
            ]
        ),
        (Just("sub"), prop_oneof![Just(json!("dev-idp|1")), Just(json!("dev-idp|x")), arb::json()]),
        (Just("permissions"), arb::json()),
        (Just("nonce"), arb::json()),
        (Just("at_hash"), arb::json()),
        (Just("azp"), arb::json()),
    ];
    prop::collection::vec((member, any::<bool>()), 0..4).prop_map(|changes| {
        let mut claims = claims(ADMIN);
        for ((name, value), remove) in changes {
            if remove {
                claims.as_object_mut().unwrap().remove(name);
            } else {
                claims[name] = value;
            }
        }
        claims
    })
}

#[test]
fn fuzz_correctly_signed_tokens_pass_only_with_valid_claims() {
    let runtime = runtime();
    let mut config = default_config();
    config.client_ids = vec!["permission-spa".to_owned()];
    let leeway = config.leeway.as_secs() as f64;
    let verifier = Verifier::new(config, KeyStore::fixed(default_keys()));
    check("api::verify_signed_claims", signed_claims(), |claims| {
        let token = sign(&claims);
        let principal = match runtime.block_on(verifier.verify(&token)) {
            Ok(principal) => principal,
            Err(error) => {
                refusal(Err::<(), _>(error))?;
                return Ok(());
            }
        };
        // Passed: every check held.
        prop_assert_eq!(&claims["iss"], &json!(ISSUER));
        let audiences = match &claims["aud"] {
            Value::Array(items) => items.clone(),
            aud => vec![aud.clone()],
        };
        prop_assert!(audiences.contains(&json!(AUDIENCE)));
        prop_assert!(!audiences.contains(&json!("permission-spa")), "an ID token's audience passed");
        prop_assert!(claims.get("nonce").is_none() && claims.get("at_hash").is_none(), "an ID token passed");
        let exp = claims["exp"].as_f64().expect("a numeric exp");
        prop_assert!(exp + leeway + 1.0 >= now() as f64, "an expired token passed: exp {}", exp);
        if let Some(nbf) = claims.get("nbf") {
            let nbf = nbf.as_f64().expect("a numeric nbf");
            prop_assert!(nbf <= now() as f64 + leeway + 1.0, "a token not yet valid passed: nbf {}", nbf);
        }
        prop_assert_eq!(principal.subject.as_ref().map(|s| json!(s)), claims.get("sub").cloned());
        let path = permissions::ClaimPath::parse("permissions").unwrap();
        prop_assert_eq!(&principal.capabilities, &permissions::Capabilities::from_claims(&claims, &path).capabilities);
        Ok(())
    });
}
