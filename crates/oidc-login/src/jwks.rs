//! The provider's signing keys (a JWK Set, RFC 7517) and the choice of the
//! key that must have signed an ID token (OIDC Core §10.1.1) — pure, no Web
//! APIs, tested natively. The signature itself is checked with WebCrypto in
//! [`crate::signature`].
//!
//! Only what an ID token may be signed with is kept: RSA keys (for RS256 and
//! PS256) and EC P-256 keys (for ES256), meant for signatures. Everything else
//! in the document (encryption keys, other curves, symmetric keys, malformed
//! entries) is skipped, never an error and never a panic.

use serde_json::{Map, Value};

use crate::LoginError;
use crate::b64;
use crate::id_token::MAX_TOKEN_BYTES;
use crate::json;

/// JWKS documents larger than this are refused before parsing.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// At most this many usable keys are kept from one document.
pub const MAX_KEYS: usize = 50;
/// RSA keys with a smaller modulus are skipped (RFC 7518 §3.3 asks for 2048).
pub const MIN_RSA_BITS: usize = 2048;
/// RSA keys with a larger modulus are skipped.
pub const MAX_RSA_BITS: usize = 16384;
/// After a fetch of the key set, another fetch waits at least this long: an
/// unknown `kid` may mean the provider rotated its keys, but it must not make
/// every token trigger a request.
pub const REFETCH_INTERVAL_SECONDS: i64 = 15;

/// The algorithms an ID token may be signed with: exactly
/// [`crate::id_token::ALLOWED_ALGORITHMS`]. Never `none`, never HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PSS with SHA-256 (MGF1 SHA-256, 32-byte salt).
    Ps256,
    /// ECDSA on P-256 with SHA-256; the signature is `r || s`, 64 bytes.
    Es256,
}

impl JwsAlgorithm {
    /// The algorithm a JWS header's `alg` names, if it is allowed.
    pub fn from_name(name: &str) -> Option<JwsAlgorithm> {
        match name {
            "RS256" => Some(JwsAlgorithm::Rs256),
            "PS256" => Some(JwsAlgorithm::Ps256),
            "ES256" => Some(JwsAlgorithm::Es256),
            _ => None,
        }
    }

    /// The `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            JwsAlgorithm::Rs256 => "RS256",
            JwsAlgorithm::Ps256 => "PS256",
            JwsAlgorithm::Es256 => "ES256",
        }
    }
}

/// A public key's material, as base64url text (checked when parsed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// `kty: RSA`: modulus and public exponent.
    Rsa { n: String, e: String },
    /// `kty: EC`, `crv: P-256`: the point's coordinates, 32 bytes each.
    EcP256 { x: String, y: String },
}

/// One usable signature-verification key of the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    pub kid: Option<String>,
    /// The algorithm the provider restricts this key to, when it says.
    pub alg: Option<String>,
    pub material: KeyMaterial,
}

impl Jwk {
    /// Reads one entry of a JWKS' `keys`; `None` when it is not a usable
    /// signing key (wrong type, curve or use, malformed, too small).
    pub fn from_json(value: &Value) -> Option<Jwk> {
        let key = value.as_object()?;
        let kid = optional_string(key, "kid")?;
        let alg = optional_string(key, "alg")?;
        if optional_string(key, "use")?.is_some_and(|use_| use_ != "sig") {
            return None;
        }
        if let Some(ops) = key.get("key_ops") {
            let ops = ops.as_array()?;
            if !ops.iter().any(|op| op.as_str() == Some("verify")) {
                return None;
            }
        }
        let material = match key.get("kty")?.as_str()? {
            "RSA" => {
                let n = key.get("n")?.as_str()?;
                let e = key.get("e")?.as_str()?;
                let n_bytes = b64::decode(n).ok()?;
                let e_bytes = b64::decode(e).ok()?;
                let bits = bit_length(&n_bytes);
                let e_ok = !e_bytes.is_empty() && e_bytes.len() <= 8 && bit_length(&e_bytes) > 1;
                if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) || !e_ok {
                    return None;
                }
                KeyMaterial::Rsa { n: n.to_owned(), e: e.to_owned() }
            }
            "EC" => {
                if key.get("crv")?.as_str()? != "P-256" {
                    return None;
                }
                let x = key.get("x")?.as_str()?;
                let y = key.get("y")?.as_str()?;
                let coordinate_ok = |c: &str| b64::decode(c).is_ok_and(|bytes| bytes.len() == 32);
                if !coordinate_ok(x) || !coordinate_ok(y) {
                    return None;
                }
                KeyMaterial::EcP256 { x: x.to_owned(), y: y.to_owned() }
            }
            _ => return None,
        };
        Some(Jwk { kid, alg, material })
    }

    /// Whether this key may verify a signature made with `alg`: its type
    /// fits the algorithm, and its own `alg`, when present, is `alg`.
    pub fn fits(&self, alg: JwsAlgorithm) -> bool {
        let type_fits = match self.material {
            KeyMaterial::Rsa { .. } => matches!(alg, JwsAlgorithm::Rs256 | JwsAlgorithm::Ps256),
            KeyMaterial::EcP256 { .. } => alg == JwsAlgorithm::Es256,
        };
        type_fits && self.alg.as_deref().is_none_or(|own| own == alg.name())
    }

    fn describe(&self) -> String {
        let kind = match self.material {
            KeyMaterial::Rsa { .. } => "an RSA key",
            KeyMaterial::EcP256 { .. } => "an EC P-256 key",
        };
        match &self.alg {
            Some(alg) => format!("{kind} for {alg}"),
            None => kind.to_owned(),
        }
    }
}

/// `Some(None)` when absent, `Some(Some(s))` when a string, `None` (the key
/// is malformed) when anything else.
fn optional_string(key: &Map<String, Value>, name: &str) -> Option<Option<String>> {
    match key.get(name) {
        None => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(_) => None,
    }
}

/// The number of significant bits of a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.iter().position(|&b| b != 0) {
        Some(first) => (bytes.len() - first - 1) * 8 + (8 - bytes[first].leading_zeros() as usize),
        None => 0,
    }
}

/// The usable keys of one JWKS document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySet {
    keys: Vec<Jwk>,
}

/// Which key verifies a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySelection<'a> {
    /// This key, with this algorithm.
    Found { key: &'a Jwk, alg: JwsAlgorithm },
    /// The token names a `kid` the set lacks: the provider may have rotated
    /// its keys, so the caller may fetch them again (rate-limited).
    UnknownKid,
    /// No key may verify this token, and fetching again would not help.
    Refused(String),
}

impl KeySet {
    /// Reads a JWKS document. Unusable entries are skipped; only a document
    /// that is not a JWKS at all is an error.
    pub fn parse(json: &str) -> Result<KeySet, LoginError> {
        let unusable = |why: &str| LoginError::Discovery(format!("the provider's key set (JWKS) {why}"));
        if json.len() > MAX_JWKS_BYTES {
            return Err(unusable("is too large"));
        }
        let document = json::parse(json).map_err(|_| unusable("is not JSON"))?;
        let entries = document.get("keys").and_then(Value::as_array).ok_or_else(|| unusable("has no `keys` list"))?;
        let keys = entries.iter().filter_map(Jwk::from_json).take(MAX_KEYS).collect();
        Ok(KeySet { keys })
    }

    /// The usable keys, in document order.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// The key that must have signed a token whose header names `alg` and
    /// `kid`. With a `kid`, the key with that `kid` (it must fit `alg`);
    /// without one, the only key that fits `alg` — several are ambiguous.
    pub fn select(&self, alg: &str, kid: Option<&str>) -> KeySelection<'_> {
        let Some(algorithm) = JwsAlgorithm::from_name(alg) else {
            return KeySelection::Refused(format!(
                "algorithm `{alg}` is not allowed (allowed: {})",
                crate::id_token::ALLOWED_ALGORITHMS.join(", ")
            ));
        };
        match kid {
            Some(kid) => {
                let named: Vec<&Jwk> = self.keys.iter().filter(|key| key.kid.as_deref() == Some(kid)).collect();
                let fitting: Vec<&Jwk> = named.iter().copied().filter(|key| key.fits(algorithm)).collect();
                match (named.as_slice(), fitting.as_slice()) {
                    ([], _) => KeySelection::UnknownKid,
                    (_, [key]) => KeySelection::Found { key, alg: algorithm },
                    ([key], []) => {
                        KeySelection::Refused(format!("its key `{kid}` is {}, not usable with {alg}", key.describe()))
                    }
                    (_, []) => KeySelection::Refused(format!("no key `{kid}` of the provider is usable with {alg}")),
                    (_, _) => KeySelection::Refused(format!("the provider has several {alg} keys `{kid}`")),
                }
            }
            None => {
                let fitting: Vec<&Jwk> = self.keys.iter().filter(|key| key.fits(algorithm)).collect();
                match fitting.as_slice() {
                    [key] => KeySelection::Found { key, alg: algorithm },
                    [] => KeySelection::Refused(format!("its header names no `kid` and the provider has no {alg} key")),
                    several => KeySelection::Refused(format!(
                        "its header names no `kid` and the provider has {} {alg} keys to choose from",
                        several.len()
                    )),
                }
            }
        }
    }
}

/// What a compact JWS' protected header says about its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwsHeader {
    /// As written; [`KeySet::select`] refuses anything not allowed.
    pub alg: String,
    pub kid: Option<String>,
}

impl JwsHeader {
    /// Reads the header of a compact JWS (`header.payload.signature`, the
    /// signature non-empty). A `crit` header is refused: this module
    /// understands no JWS extension (RFC 7515 §4.1.11).
    pub fn parse(raw_token: &str) -> Result<JwsHeader, LoginError> {
        let invalid = |why: &str| LoginError::InvalidIdToken(why.to_owned());
        if raw_token.len() > MAX_TOKEN_BYTES {
            return Err(invalid("it is too large"));
        }
        let mut parts = raw_token.split('.');
        let (Some(header), Some(_payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("it is not a compact JWS (three dot-separated parts)"));
        };
        if signature.is_empty() {
            return Err(invalid("it is unsigned"));
        }
        let bytes = b64::decode(header).map_err(|_| invalid("its header is not base64url"))?;
        let text = core::str::from_utf8(&bytes).map_err(|_| invalid("its header is not UTF-8 text"))?;
        let Ok(header) = json::parse_object(text) else {
            return Err(invalid("its header is not a JSON object"));
        };
        let alg = match header.get("alg") {
            Some(Value::String(alg)) => alg.clone(),
            _ => return Err(invalid("its header names no `alg`")),
        };
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(invalid("its header's `kid` is not a string")),
        };
        if header.contains_key("crit") {
            return Err(invalid("its header has critical extensions (`crit`) this client does not understand"));
        }
        Ok(JwsHeader { alg, kid })
    }
}

/// Whether the key set may be fetched now. `loaded`: a key set was fetched
/// successfully before; `last_fetch_at`: when the last fetch (successful or
/// not) started. Before any key set is loaded there is nothing to verify
/// with, so every verification may fetch; afterwards fetches are at least
/// [`REFETCH_INTERVAL_SECONDS`] apart. A clock that went backwards does not
/// lock the keys out.
pub fn may_fetch_keys(loaded: bool, last_fetch_at: Option<i64>, now: i64) -> bool {
    match last_fetch_at {
        _ if !loaded => true,
        None => true,
        Some(at) => now < at || now.saturating_sub(at) >= REFETCH_INTERVAL_SECONDS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A 2048-bit modulus (all 0xC5 bytes: the top bit set) and e = 65537.
    fn rsa(kid: Option<&str>, alg: Option<&str>) -> Value {
        let mut key = json!({"kty": "RSA", "use": "sig", "n": b64::encode([0xC5u8; 256]), "e": "AQAB"});
        if let Some(kid) = kid {
            key["kid"] = json!(kid);
        }
        if let Some(alg) = alg {
            key["alg"] = json!(alg);
        }
        key
    }

    fn ec(kid: Option<&str>) -> Value {
        let mut key = json!({"kty": "EC", "crv": "P-256", "x": b64::encode([1u8; 32]), "y": b64::encode([2u8; 32])});
        if let Some(kid) = kid {
            key["kid"] = json!(kid);
        }
        key
    }

    fn set(keys: &[Value]) -> KeySet {
        KeySet::parse(&json!({ "keys": keys }).to_string()).unwrap()
    }

    fn kids(set: &KeySet) -> Vec<Option<&str>> {
        set.keys().iter().map(|k| k.kid.as_deref()).collect()
    }

    fn found<'a>(selection: KeySelection<'a>) -> (&'a Jwk, JwsAlgorithm) {
        match selection {
            KeySelection::Found { key, alg } => (key, alg),
            other => panic!("expected a key, got {other:?}"),
        }
    }

    fn refused(selection: KeySelection<'_>, needle: &str) {
        match selection {
            KeySelection::Refused(why) => assert!(why.contains(needle), "`{why}` lacks `{needle}`"),
            other => panic!("expected a refusal containing `{needle}`, got {other:?}"),
        }
    }

    #[test]
    fn the_allow_list_matches_the_claim_checks() {
        for name in crate::id_token::ALLOWED_ALGORITHMS {
            assert_eq!(JwsAlgorithm::from_name(name).map(JwsAlgorithm::name), Some(name));
        }
        for name in ["none", "HS256", "HS384", "HS512", "RS384", "RS512", "ES384", "EdDSA", "rs256", ""] {
            assert_eq!(JwsAlgorithm::from_name(name), None, "{name}");
        }
    }

    #[test]
    fn a_good_jwks_keeps_rsa_and_p256_signing_keys() {
        let doc = json!({"keys": [
            rsa(Some("r1"), Some("RS256")),
            ec(Some("e1")),
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": b64::encode([3u8; 32])},
            {"kty": "EC", "kid": "p384", "crv": "P-384", "x": b64::encode([1u8; 48]), "y": b64::encode([2u8; 48])},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": b64::encode([0xC5u8; 256]), "e": "AQAB"},
            {"kty": "RSA", "kid": "wrap", "key_ops": ["wrapKey"], "n": b64::encode([0xC5u8; 256]), "e": "AQAB"},
            {"kty": "RSA", "kid": "ops", "key_ops": ["verify"], "n": b64::encode([0xC5u8; 256]), "e": "AQAB"},
        ], "extra": "ignored"});
        let set = KeySet::parse(&doc.to_string()).unwrap();
        assert_eq!(kids(&set), [Some("r1"), Some("e1"), Some("ops")]);
        let r1 = &set.keys()[0];
        assert_eq!(r1.alg.as_deref(), Some("RS256"));
        assert!(matches!(&r1.material, KeyMaterial::Rsa { e, .. } if e == "AQAB"));
        assert!(matches!(&set.keys()[1].material, KeyMaterial::EcP256 { .. }));
        assert_eq!(set.keys()[1].alg, None);
    }

    #[test]
    fn malformed_documents_are_errors_not_panics() {
        for doc in ["", "not json", "[]", "{}", r#"{"keys": {}}"#, r#"{"keys": "x"}"#, "null", r#"{"keys": null}"#] {
            assert!(matches!(KeySet::parse(doc), Err(LoginError::Discovery(_))), "{doc:?}");
        }
        let huge = format!(r#"{{"keys": [], "pad": "{}"}}"#, "x".repeat(MAX_JWKS_BYTES));
        assert!(matches!(KeySet::parse(&huge), Err(LoginError::Discovery(ref m)) if m.contains("too large")));
    }

    #[test]
    fn malformed_keys_are_skipped() {
        let b64 = |bytes: &[u8]| b64::encode(bytes);
        let bad = json!([
            null, 7, "RSA", [], {},
            {"kty": 5},
            {"kty": "RSA"},
            {"kty": "RSA", "n": b64(&[0xC5; 256])},
            {"kty": "RSA", "n": 12, "e": "AQAB"},
            {"kty": "RSA", "n": "not base64!", "e": "AQAB"},
            {"kty": "RSA", "n": format!("{}==", b64(&[0xC5; 256])), "e": "AQAB"},
            {"kty": "RSA", "n": b64(&[0xC5; 128]), "e": "AQAB"},
            // 2048 bits only by its leading zeros: really 2040 bits.
            {"kty": "RSA", "n": b64(&[&[0u8][..], &[0x7F; 255][..]].concat()), "e": "AQAB"},
            {"kty": "RSA", "n": b64(&[0xC5; 2049]), "e": "AQAB"},
            {"kty": "RSA", "n": b64(&[0xC5; 256]), "e": ""},
            {"kty": "RSA", "n": b64(&[0xC5; 256]), "e": "AQ"},
            {"kty": "RSA", "n": b64(&[0xC5; 256]), "e": b64(&[1; 9])},
            {"kty": "RSA", "n": b64(&[0xC5; 256]), "e": "AQAB", "kid": 1},
            {"kty": "RSA", "n": b64(&[0xC5; 256]), "e": "AQAB", "alg": ["RS256"]},
            {"kty": "RSA", "n": b64(&[0xC5; 256]), "e": "AQAB", "use": 1},
            {"kty": "RSA", "n": b64(&[0xC5; 256]), "e": "AQAB", "key_ops": "verify"},
            {"kty": "EC", "crv": "P-256", "x": b64(&[1; 31]), "y": b64(&[2; 32])},
            {"kty": "EC", "crv": "P-256", "x": b64(&[1; 32])},
            {"kty": "EC", "x": b64(&[1; 32]), "y": b64(&[2; 32])},
            {"kty": "EC", "crv": "P-256", "x": b64(&[1; 32]), "y": b64(&[2; 33])},
        ]);
        let count = bad.as_array().unwrap().len();
        let set = KeySet::parse(&json!({ "keys": bad }).to_string()).unwrap();
        assert_eq!(set.keys(), [], "all {count} entries are unusable");
        // A usable key among them survives.
        let mut mixed = bad.as_array().unwrap().clone();
        mixed.push(rsa(Some("ok"), None));
        assert_eq!(kids(&set_of(mixed)), [Some("ok")]);
    }

    fn set_of(keys: Vec<Value>) -> KeySet {
        KeySet::parse(&json!({ "keys": keys }).to_string()).unwrap()
    }

    #[test]
    fn at_most_max_keys_are_kept() {
        let many: Vec<Value> = (0..MAX_KEYS + 20).map(|i| rsa(Some(&format!("k{i}")), None)).collect();
        let set = set_of(many);
        assert_eq!(set.keys().len(), MAX_KEYS);
        assert_eq!(set.keys()[0].kid.as_deref(), Some("k0"));
    }

    #[test]
    fn selection_by_kid() {
        let set = set(&[rsa(Some("a"), Some("RS256")), rsa(Some("b"), None), ec(Some("c"))]);
        let (key, alg) = found(set.select("RS256", Some("a")));
        assert_eq!((key.kid.as_deref(), alg), (Some("a"), JwsAlgorithm::Rs256));
        let (key, alg) = found(set.select("PS256", Some("b")));
        assert_eq!((key.kid.as_deref(), alg), (Some("b"), JwsAlgorithm::Ps256));
        let (key, alg) = found(set.select("ES256", Some("c")));
        assert_eq!((key.kid.as_deref(), alg), (Some("c"), JwsAlgorithm::Es256));
    }

    #[test]
    fn an_unknown_kid_is_its_own_outcome() {
        let set = set(&[rsa(Some("a"), None), ec(Some("c"))]);
        assert_eq!(set.select("RS256", Some("z")), KeySelection::UnknownKid);
        assert_eq!(set.select("ES256", Some("")), KeySelection::UnknownKid);
        assert_eq!(KeySet::default().select("RS256", Some("a")), KeySelection::UnknownKid);
        // A key without a kid does not answer to one.
        assert_eq!(self::set(&[rsa(None, None)]).select("RS256", Some("a")), KeySelection::UnknownKid);
    }

    #[test]
    fn without_kid_only_a_single_suitable_key_is_used() {
        let one = set(&[rsa(None, None)]);
        assert_eq!(found(one.select("RS256", None)).0.kid, None);
        // The only *suitable* key: the EC key does not compete for RS256.
        let mixed = set(&[ec(Some("c")), rsa(Some("a"), None)]);
        assert_eq!(found(mixed.select("RS256", None)).0.kid.as_deref(), Some("a"));
        assert_eq!(found(mixed.select("ES256", None)).0.kid.as_deref(), Some("c"));
        // A key restricted to RS256 does not compete for PS256.
        let restricted = set(&[rsa(Some("a"), Some("RS256")), rsa(Some("b"), Some("PS256"))]);
        assert_eq!(found(restricted.select("PS256", None)).0.kid.as_deref(), Some("b"));

        refused(set(&[rsa(Some("a"), None), rsa(Some("b"), None)]).select("RS256", None), "2 RS256 keys");
        refused(set(&[rsa(None, None), rsa(None, None)]).select("PS256", None), "2 PS256 keys");
        refused(set(&[rsa(Some("a"), None)]).select("ES256", None), "no ES256 key");
        refused(KeySet::default().select("RS256", None), "no RS256 key");
    }

    #[test]
    fn key_type_and_alg_must_fit_the_header() {
        let set = set(&[rsa(Some("r"), None), rsa(Some("r256"), Some("RS256")), ec(Some("e"))]);
        refused(set.select("ES256", Some("r")), "an RSA key, not usable with ES256");
        refused(set.select("RS256", Some("e")), "an EC P-256 key, not usable with RS256");
        refused(set.select("PS256", Some("e")), "not usable with PS256");
        refused(set.select("PS256", Some("r256")), "an RSA key for RS256, not usable with PS256");
        let ps = self::set(&[rsa(Some("p"), Some("PS256"))]);
        refused(ps.select("RS256", Some("p")), "for PS256, not usable with RS256");
    }

    #[test]
    fn forbidden_algorithms_are_refused_whatever_the_keys() {
        let set = set(&[rsa(Some("a"), None), ec(Some("c")), json!({"kty": "oct", "kid": "h", "k": "c2VjcmV0"})]);
        for alg in ["none", "HS256", "HS384", "HS512", "RS384", "ES512", "None", ""] {
            for kid in [Some("a"), Some("c"), Some("h"), Some("unknown"), None] {
                refused(set.select(alg, kid), "is not allowed");
            }
        }
    }

    #[test]
    fn a_kid_shared_by_keys_of_different_types_resolves_by_type() {
        let set = set(&[rsa(Some("same"), None), ec(Some("same"))]);
        assert!(matches!(found(set.select("ES256", Some("same"))).0.material, KeyMaterial::EcP256 { .. }));
        assert!(matches!(found(set.select("RS256", Some("same"))).0.material, KeyMaterial::Rsa { .. }));
        let twins = self::set(&[rsa(Some("same"), None), rsa(Some("same"), None)]);
        refused(twins.select("RS256", Some("same")), "several RS256 keys `same`");
        let neither = self::set(&[rsa(Some("same"), Some("RS256")), rsa(Some("same"), Some("RS256"))]);
        refused(neither.select("PS256", Some("same")), "no key `same`");
    }

    fn jws(header: Value) -> String {
        format!("{}.e30.c2ln", b64::encode(header.to_string()))
    }

    #[test]
    fn headers() {
        assert_eq!(
            JwsHeader::parse(&jws(json!({"alg": "RS256", "kid": "k", "typ": "JWT"}))).unwrap(),
            JwsHeader { alg: "RS256".into(), kid: Some("k".into()) }
        );
        assert_eq!(
            JwsHeader::parse(&jws(json!({"alg": "none"}))).unwrap(),
            JwsHeader { alg: "none".into(), kid: None }
        );
        let fails = |token: &str, needle: &str| match JwsHeader::parse(token) {
            Err(LoginError::InvalidIdToken(why)) => assert!(why.contains(needle), "`{why}` lacks `{needle}`"),
            other => panic!("{token}: {other:?}"),
        };
        fails(&jws(json!({"kid": "k"})), "no `alg`");
        fails(&jws(json!({"alg": 256})), "no `alg`");
        fails(&jws(json!({"alg": "RS256", "kid": 1})), "`kid` is not a string");
        fails(&jws(json!({"alg": "RS256", "crit": ["b64"], "b64": false})), "`crit`");
        fails(&jws(json!(["alg"])), "not a JSON object");
        fails("!!.e30.c2ln", "not base64url");
        fails(&format!("{}.e30.c2ln", b64::encode([b'{', 0xFF, b'}'])), "header is not UTF-8");
        fails(&jws(json!({"alg": "RS256"})).replace(".c2ln", "."), "unsigned");
        for shape in ["", "a", "a.b", "a.b.c.d", ".."] {
            assert!(JwsHeader::parse(shape).is_err(), "{shape:?}");
        }
        fails(&"a".repeat(MAX_TOKEN_BYTES + 1), "too large");
    }

    #[test]
    fn the_refetch_rate_limit() {
        let t = 1_800_000_000;
        // Nothing loaded yet: always fetch (there is nothing to verify with).
        assert!(may_fetch_keys(false, None, t));
        assert!(may_fetch_keys(false, Some(t), t));
        assert!(may_fetch_keys(false, Some(t - 1), t));
        // Loaded: at most once per interval.
        assert!(may_fetch_keys(true, None, t));
        assert!(!may_fetch_keys(true, Some(t), t));
        assert!(!may_fetch_keys(true, Some(t), t + 1));
        assert!(!may_fetch_keys(true, Some(t), t + REFETCH_INTERVAL_SECONDS - 1));
        assert!(may_fetch_keys(true, Some(t), t + REFETCH_INTERVAL_SECONDS));
        assert!(may_fetch_keys(true, Some(t), t + 3600));
        // The clock went backwards: do not lock the keys out until it catches up.
        assert!(may_fetch_keys(true, Some(t), t - 3600));
        assert!(may_fetch_keys(true, Some(i64::MIN), i64::MAX));
        assert!(!may_fetch_keys(true, Some(i64::MAX), i64::MAX));
    }
}
