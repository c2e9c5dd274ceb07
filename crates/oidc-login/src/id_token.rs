//! ID-token validation (OIDC Core §3.1.3.7): the claims, and the header's
//! algorithm.
//!
//! The signature (steps 6–8) is verified before these checks, by
//! [`crate::signature`]: [`crate::ProviderKeys::verify`] chooses the key from
//! the provider's JWKS ([`crate::jwks`]) and checks the JWS with WebCrypto
//! (`SubtleCrypto.verify`). [`validate`] itself reads the claims only, so call
//! it on a token whose signature has been verified.

use serde_json::{Map, Value};

use crate::LoginError;
use crate::b64;
use crate::json;

/// The algorithms an ID token may be signed with. Never `none`, and never an
/// HMAC algorithm: a public client has no secret, so an HMAC "signature"
/// could be made by anyone holding the public key.
pub const ALLOWED_ALGORITHMS: [&str; 3] = ["RS256", "PS256", "ES256"];

/// Tokens larger than this are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// What the token must match.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    /// Audiences besides `client_id` that an ID token may also name (OIDC
    /// Core §3.1.3.7, step 3: any other is untrusted); usually none.
    pub trusted_audiences: &'a [String],
    /// The nonce sent with this attempt's authorization request; `None` for
    /// an ID token from a refresh, which carries no new nonce (OIDC Core
    /// §12.2; the refresh path compares it with the original instead).
    pub nonce: Option<&'a str>,
    /// Now, in seconds since the Unix epoch.
    pub now: i64,
    /// Clock skew tolerated on `exp` and `iat`, in seconds.
    pub leeway: i64,
}

/// A validated ID token.
#[derive(Debug, Clone, PartialEq)]
pub struct IdToken {
    /// The compact JWS, kept for `id_token_hint` at sign-out.
    pub raw: String,
    /// All claims, for the application's own claim parsing (permissions).
    pub claims: Value,
    pub subject: String,
    /// `exp`, in seconds since the Unix epoch.
    pub expires_at: i64,
}

impl IdToken {
    /// The name to show for the user: `name`, else `email`, else `sub`.
    pub fn display_name(&self) -> &str {
        display_name(&self.claims, &self.subject)
    }
}

/// The name to show for the user of `claims`: `name`, else `email`, else
/// `subject`.
pub fn display_name<'a>(claims: &'a Value, subject: &'a str) -> &'a str {
    ["name", "email"]
        .iter()
        .find_map(|claim| claims.get(claim).and_then(Value::as_str).filter(|s| !s.trim().is_empty()))
        .unwrap_or(subject)
}

fn invalid(why: impl Into<String>) -> LoginError {
    LoginError::InvalidIdToken(why.into())
}

/// Decodes `raw` and checks every claim rule; returns the token or the first
/// rule it breaks.
pub fn validate(raw: &str, expect: &Expectations) -> Result<IdToken, LoginError> {
    if raw.len() > MAX_TOKEN_BYTES {
        return Err(invalid("it is too large"));
    }
    let mut parts = raw.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("it is not a compact JWS (three dot-separated parts)"));
    };
    if signature.is_empty() {
        return Err(invalid("it is unsigned"));
    }
    let header = decode_object(header, "header")?;
    let alg = header.get("alg").and_then(Value::as_str).ok_or_else(|| invalid("its header names no `alg`"))?;
    if !ALLOWED_ALGORITHMS.contains(&alg) {
        return Err(invalid(format!("algorithm `{alg}` is not allowed (allowed: {})", ALLOWED_ALGORITHMS.join(", "))));
    }
    let claims = decode_object(payload, "payload")?;

    let iss = string_claim(&claims, "iss")?;
    if iss != expect.issuer {
        return Err(invalid(format!("`iss` is `{iss}`, expected `{}`", expect.issuer)));
    }
    let subject = string_claim(&claims, "sub")?.to_owned();
    if subject.is_empty() {
        return Err(invalid("`sub` is empty"));
    }
    check_audience(&claims, expect.client_id, expect.trusted_audiences)?;
    let exp = time_claim(&claims, "exp")?;
    if expect.now >= exp.saturating_add(expect.leeway) {
        return Err(invalid("it has expired (`exp` is in the past)"));
    }
    let iat = time_claim(&claims, "iat")?;
    if iat > expect.now.saturating_add(expect.leeway) {
        return Err(invalid("it was issued in the future (`iat`); check the clocks"));
    }
    if let Some(expected_nonce) = expect.nonce {
        let nonce = string_claim(&claims, "nonce")?;
        if nonce != expected_nonce {
            return Err(invalid("`nonce` does not match this sign-in attempt"));
        }
    }
    Ok(IdToken { raw: raw.to_owned(), claims: Value::Object(claims), subject, expires_at: exp })
}

/// `aud` must contain our client id, and nothing but strings; every other
/// audience must be one of `trusted`; with several audiences, `azp` must be
/// present; and when `azp` is present it must be our client id.
fn check_audience(claims: &Map<String, Value>, client_id: &str, trusted: &[String]) -> Result<(), LoginError> {
    let not_strings = || invalid("`aud` is neither a string nor a list of strings");
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        // Every entry counts: `["spa", 5]` is a malformed claim, not one
        // audience (which would also skip the `azp` rule below).
        Some(Value::Array(items)) => items.iter().map(Value::as_str).collect::<Option<_>>().ok_or_else(not_strings)?,
        Some(_) => return Err(not_strings()),
        None => return Err(invalid("the claim `aud` is missing")),
    };
    if !audiences.contains(&client_id) {
        return Err(invalid(format!("`aud` does not contain this client (`{client_id}`)")));
    }
    if let Some(stranger) = audiences.iter().find(|aud| **aud != client_id && !trusted.iter().any(|t| t == *aud)) {
        return Err(invalid(format!(
            "`aud` also names `{stranger}`, an audience this client does not trust (`trusted_audiences` in /config.json)"
        )));
    }
    match claims.get("azp") {
        None if audiences.len() > 1 => Err(invalid("`aud` names several audiences but `azp` is missing")),
        None => Ok(()),
        Some(Value::String(azp)) if azp == client_id => Ok(()),
        Some(_) => Err(invalid(format!("`azp` is not this client (`{client_id}`)"))),
    }
}

fn decode_object(part: &str, what: &str) -> Result<Map<String, Value>, LoginError> {
    let bytes = b64::decode(part).map_err(|_| invalid(format!("its {what} is not base64url")))?;
    let text = core::str::from_utf8(&bytes).map_err(|_| invalid(format!("its {what} is not UTF-8 text")))?;
    json::parse_object(text).map_err(|_| invalid(format!("its {what} is not a JSON object")))
}

fn string_claim<'c>(claims: &'c Map<String, Value>, name: &str) -> Result<&'c str, LoginError> {
    match claims.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(invalid(format!("the claim `{name}` is not a string"))),
        None => Err(invalid(format!("the claim `{name}` is missing"))),
    }
}

fn time_claim(claims: &Map<String, Value>, name: &str) -> Result<i64, LoginError> {
    match claims.get(name) {
        // NumericDate may carry a fraction; whole seconds are enough here.
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .ok_or_else(|| invalid(format!("the claim `{name}` is not a valid time"))),
        Some(_) => Err(invalid(format!("the claim `{name}` is not a number"))),
        None => Err(invalid(format!("the claim `{name}` is missing"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn expect() -> Expectations<'static> {
        Expectations {
            issuer: "https://idp.example/",
            client_id: "spa",
            trusted_audiences: &[],
            nonce: Some("n-1"),
            now: NOW,
            leeway: 60,
        }
    }

    fn claims() -> Value {
        json!({"iss": "https://idp.example/", "sub": "u1", "aud": "spa", "exp": NOW + 600, "iat": NOW, "nonce": "n-1", "name": "Jhon Smith"})
    }

    fn token(header: Value, claims: &Value) -> String {
        let enc = |v: &Value| b64::encode(serde_json::to_vec(v).unwrap());
        format!("{}.{}.c2ln", enc(&header), enc(claims))
    }

    fn with(change: impl FnOnce(&mut Map<String, Value>)) -> Result<IdToken, LoginError> {
        let mut c = claims();
        change(c.as_object_mut().unwrap());
        validate(&token(json!({"alg": "RS256", "kid": "k"}), &c), &expect())
    }

    fn fails_with(result: Result<IdToken, LoginError>, needle: &str) {
        match result {
            Err(LoginError::InvalidIdToken(why)) => assert!(why.contains(needle), "`{why}` lacks `{needle}`"),
            other => panic!("expected an invalid-token error containing `{needle}`, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_token_passes() {
        let t = with(|_| {}).unwrap();
        assert_eq!(t.subject, "u1");
        assert_eq!(t.display_name(), "Jhon Smith");
        assert_eq!(t.expires_at, NOW + 600);
    }

    #[test]
    fn each_claim_rule() {
        fails_with(with(|c| drop(c.insert("iss".into(), json!("https://evil.example/")))), "`iss`");
        fails_with(with(|c| drop(c.remove("iss"))), "`iss` is missing");
        fails_with(with(|c| drop(c.insert("aud".into(), json!("other")))), "`aud` does not contain");
        fails_with(with(|c| drop(c.insert("aud".into(), json!(["spa", "other"])))), "does not trust");
        fails_with(with(|c| drop(c.insert("aud".into(), json!(["spa", 5])))), "list of strings");
        fails_with(with(|c| drop(c.insert("aud".into(), json!(["spa", null])))), "list of strings");
        fails_with(with(|c| drop(c.insert("aud".into(), json!(7)))), "list of strings");
        fails_with(with(|c| drop(c.insert("aud".into(), json!([])))), "`aud` does not contain");
        fails_with(with(|c| drop(c.insert("azp".into(), json!("other")))), "`azp`");
        fails_with(with(|c| drop(c.insert("exp".into(), json!(NOW - 61)))), "expired");
        fails_with(with(|c| drop(c.remove("exp"))), "`exp` is missing");
        fails_with(with(|c| drop(c.remove("iat"))), "`iat` is missing");
        fails_with(with(|c| drop(c.insert("iat".into(), json!(NOW + 600)))), "future");
        fails_with(with(|c| drop(c.insert("nonce".into(), json!("n-2")))), "`nonce`");
        fails_with(with(|c| drop(c.remove("nonce"))), "`nonce` is missing");
        fails_with(with(|c| drop(c.insert("sub".into(), json!(7)))), "`sub` is not a string");
    }

    #[test]
    fn leeway_tolerates_small_skew() {
        assert!(with(|c| drop(c.insert("exp".into(), json!(NOW - 30)))).is_ok());
        assert!(with(|c| drop(c.insert("iat".into(), json!(NOW + 30)))).is_ok());
    }

    #[test]
    fn other_audiences_only_when_trusted_and_with_azp() {
        let trusted = ["api".to_owned()];
        let trusting = Expectations { trusted_audiences: &trusted, ..expect() };
        let with_aud = |aud: Value, azp: Option<&str>| {
            let mut c = claims();
            c["aud"] = aud;
            if let Some(azp) = azp {
                c["azp"] = json!(azp);
            }
            token(json!({"alg": "RS256", "kid": "k"}), &c)
        };
        // Trusted, and named by `azp`: accepted.
        assert!(validate(&with_aud(json!(["spa", "api"]), Some("spa")), &trusting).is_ok());
        assert!(validate(&with_aud(json!(["spa", "spa"]), Some("spa")), &expect()).is_ok());
        // Trusted but without `azp`.
        fails_with(validate(&with_aud(json!(["spa", "api"]), None), &trusting), "`azp` is missing");
        // Not trusted, even with `azp`: the default trusts no one else.
        fails_with(validate(&with_aud(json!(["spa", "api"]), Some("spa")), &expect()), "does not trust");
        fails_with(validate(&with_aud(json!(["spa", "api", "x"]), Some("spa")), &trusting), "`x`");
    }

    #[test]
    fn forbidden_algorithms_and_shapes() {
        fails_with(validate(&token(json!({"alg": "none"}), &claims()), &expect()), "`none` is not allowed");
        fails_with(validate(&token(json!({"alg": "HS256"}), &claims()), &expect()), "`HS256` is not allowed");
        fails_with(validate(&token(json!({}), &claims()), &expect()), "no `alg`");
        let unsigned = token(json!({"alg": "RS256"}), &claims());
        let unsigned = unsigned.rsplit_once('.').unwrap().0.to_owned() + ".";
        fails_with(validate(&unsigned, &expect()), "unsigned");
        for garbage in ["", "a.b", "a.b.c.d", "!!.!!.!!", "e30.bm90IGpzb24.c2ln"] {
            assert!(validate(garbage, &expect()).is_err(), "{garbage}");
        }
        fails_with(validate(&"a".repeat(MAX_TOKEN_BYTES + 1), &expect()), "too large");
        let header = b64::encode(json!({"alg": "RS256"}).to_string());
        let not_text = format!("{header}.{}.c2ln", b64::encode([b'{', 0xFF, b'}']));
        fails_with(validate(&not_text, &expect()), "payload is not UTF-8");
    }

    #[test]
    fn display_name_falls_back_to_email_then_sub() {
        let t = with(|c| drop(c.remove("name"))).unwrap();
        assert_eq!(t.display_name(), "u1");
        let t = with(|c| {
            c.remove("name");
            c.insert("email".into(), json!("j@example.com"));
        })
        .unwrap();
        assert_eq!(t.display_name(), "j@example.com");
    }
}
