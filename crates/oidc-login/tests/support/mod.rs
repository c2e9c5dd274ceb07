//! Test-side signing for `tests/signature.rs`: key pairs generated, and
//! tokens signed, by the browser's own WebCrypto. The library under test
//! only ever sees the public JWKs and the finished tokens.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use oidc_login::id_token::Expectations;
use serde_json::{Value, json};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

pub(crate) const ISSUER: &str = "https://idp.example/";
pub(crate) const CLIENT_ID: &str = "spa";
pub(crate) const NONCE: &str = "nonce-1";

pub(crate) fn subtle() -> web_sys::SubtleCrypto {
    web_sys::window().unwrap().crypto().unwrap().subtle()
}

fn object(entries: &[(&str, JsValue)]) -> js_sys::Object {
    let object = js_sys::Object::new();
    for (name, value) in entries {
        js_sys::Reflect::set(&object, &JsValue::from_str(name), value).unwrap();
    }
    object
}

fn s(text: &str) -> JsValue {
    JsValue::from_str(text)
}

async fn resolve(promise: Result<js_sys::Promise, JsValue>) -> JsValue {
    JsFuture::from(promise.unwrap()).await.unwrap()
}

/// A signing key of the test's "provider".
pub(crate) struct TestKey {
    pub(crate) alg: &'static str,
    pub(crate) kid: String,
    pub(crate) private: web_sys::CryptoKey,
    /// The public key as the provider would publish it (with `kid` and `use`).
    pub(crate) public_jwk: Value,
}

impl TestKey {
    /// A fresh key pair for `alg` (RS256, PS256 or ES256).
    pub(crate) async fn generate(alg: &'static str, kid: &str) -> TestKey {
        let rsa = |name: &str| {
            object(&[
                ("name", s(name)),
                ("modulusLength", JsValue::from_f64(2048.0)),
                ("publicExponent", js_sys::Uint8Array::from(&[1u8, 0, 1][..]).into()),
                ("hash", s("SHA-256")),
            ])
        };
        let algorithm = match alg {
            "RS256" => rsa("RSASSA-PKCS1-v1_5"),
            "PS256" => rsa("RSA-PSS"),
            "ES256" => object(&[("name", s("ECDSA")), ("namedCurve", s("P-256"))]),
            other => panic!("no test keys for {other}"),
        };
        let usages = js_sys::Array::of2(&s("sign"), &s("verify"));
        let pair = resolve(subtle().generate_key_with_object(&algorithm, true, &usages)).await;
        let get = |name: &str| js_sys::Reflect::get(&pair, &s(name)).unwrap().unchecked_into::<web_sys::CryptoKey>();
        let exported = resolve(subtle().export_key("jwk", &get("publicKey"))).await;
        let text = String::from(js_sys::JSON::stringify(&exported).unwrap());
        let mut public_jwk: Value = serde_json::from_str(&text).unwrap();
        public_jwk["kid"] = json!(kid);
        public_jwk["use"] = json!("sig");
        TestKey { alg, kid: kid.to_owned(), private: get("privateKey"), public_jwk }
    }

    /// The public JWK without its `kid`.
    pub(crate) fn jwk_without_kid(&self) -> Value {
        let mut jwk = self.public_jwk.clone();
        jwk.as_object_mut().unwrap().remove("kid");
        jwk
    }

    /// The library's view of this key (as parsed from a JWKS).
    pub(crate) fn library_jwk(&self) -> oidc_login::jwks::Jwk {
        let set = oidc_login::jwks::KeySet::parse(&jwks(&[&self.public_jwk])).unwrap();
        set.keys().first().cloned().expect("the generated key is usable")
    }

    /// Signs `signing_input` with WebCrypto: PKCS#1 v1.5, PSS with a 32-byte
    /// salt, or ECDSA (whose WebCrypto output is already the JWS `r || s`).
    pub(crate) async fn sign_bytes(&self, signing_input: &str) -> Vec<u8> {
        let algorithm = match self.alg {
            "RS256" => object(&[("name", s("RSASSA-PKCS1-v1_5"))]),
            "PS256" => object(&[("name", s("RSA-PSS")), ("saltLength", JsValue::from_f64(32.0))]),
            _ => object(&[("name", s("ECDSA")), ("hash", s("SHA-256"))]),
        };
        let signature =
            resolve(subtle().sign_with_object_and_u8_array(&algorithm, &self.private, signing_input.as_bytes())).await;
        js_sys::Uint8Array::new(&signature).to_vec()
    }

    /// A compact JWS of `claims` with this key's `alg` and `kid`.
    pub(crate) async fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(&json!({"alg": self.alg, "kid": self.kid, "typ": "JWT"}), claims).await
    }

    /// A compact JWS of `claims` under `header`, signed with this key
    /// whatever the header says.
    pub(crate) async fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = signing_input(header, claims);
        let signature = self.sign_bytes(&input).await;
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// `BASE64URL(header) . BASE64URL(claims)`.
pub(crate) fn signing_input(header: &Value, claims: &Value) -> String {
    let enc = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!("{}.{}", enc(header), enc(claims))
}

/// HMAC-SHA256 of `data` keyed with `key`, by WebCrypto.
pub(crate) async fn hmac_sha256(key: &[u8], data: &str) -> Vec<u8> {
    let algorithm = object(&[("name", s("HMAC")), ("hash", s("SHA-256"))]);
    let usages = js_sys::Array::of1(&s("sign"));
    let key_data = js_sys::Uint8Array::from(key);
    let key: web_sys::CryptoKey =
        resolve(subtle().import_key_with_object("raw", &key_data, &algorithm, false, &usages)).await.unchecked_into();
    let mac = resolve(subtle().sign_with_str_and_u8_array("HMAC", &key, data.as_bytes())).await;
    js_sys::Uint8Array::new(&mac).to_vec()
}

/// A JWKS document of these public JWKs.
pub(crate) fn jwks(keys: &[&Value]) -> String {
    json!({ "keys": keys }).to_string()
}

/// A `data:` URL serving `json`, so `fetch` works without a server.
pub(crate) fn data_url(json: &str) -> String {
    format!("data:application/json;base64,{}", STANDARD.encode(json))
}

/// Claims that satisfy [`expectations`] at `now`.
pub(crate) fn claims(now: i64) -> Value {
    json!({
        "iss": ISSUER, "sub": "user-1", "aud": CLIENT_ID, "exp": now + 600, "iat": now,
        "nonce": NONCE, "name": "Test User",
    })
}

/// `claims(now)` with `change` applied.
pub(crate) fn claims_with(now: i64, change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut claims = claims(now);
    change(claims.as_object_mut().unwrap());
    claims
}

pub(crate) fn expectations(now: i64) -> Expectations<'static> {
    Expectations { issuer: ISSUER, client_id: CLIENT_ID, trusted_audiences: &[], nonce: Some(NONCE), now, leeway: 60 }
}

/// `raw` with one byte of its signature flipped.
pub(crate) fn flip_signature_byte(raw: &str) -> String {
    let (input, signature) = raw.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// `raw` with its signature replaced.
pub(crate) fn with_signature(raw: &str, signature: &[u8]) -> String {
    let (input, _) = raw.rsplit_once('.').unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}
