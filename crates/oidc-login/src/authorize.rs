//! The authorization request (RFC 6749 §4.1.1, RFC 7636, OIDC Core §3.1.2.1)
//! and the URL encoding it needs.

use crate::discovery::ProviderMetadata;
use crate::settings::ClientSettings;

/// How the provider may treat the user during a sign-in (the `prompt`
/// parameter, OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prompt {
    /// No `prompt`: the provider shows its page, or signs the user in at
    /// once when it already has a session.
    #[default]
    Default,
    /// `prompt=none`, a silent sign-in: the provider never shows a page and
    /// answers `login_required` when it has no session.
    None,
    /// `prompt=login`: the provider asks for the credentials again, even
    /// with a session.
    Login,
}

impl Prompt {
    /// The `prompt` parameter's value, when one is sent.
    pub fn parameter(self) -> Option<&'static str> {
        match self {
            Prompt::Default => None,
            Prompt::None => Some("none"),
            Prompt::Login => Some("login"),
        }
    }

    /// Whether the user never sees the provider (a silent attempt).
    pub fn is_silent(self) -> bool {
        self == Prompt::None
    }

    /// The name a stored sign-in attempt records (`default`, `none`, `login`).
    pub fn name(self) -> &'static str {
        self.parameter().unwrap_or("default")
    }

    /// The prompt a stored attempt names, if it names one.
    pub fn from_name(name: &str) -> Option<Prompt> {
        [Prompt::Default, Prompt::None, Prompt::Login].into_iter().find(|prompt| prompt.name() == name)
    }
}

/// The per-attempt values of one authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest<'a> {
    /// Opaque, random; ties the callback to this attempt.
    pub state: &'a str,
    /// Random; must come back inside the ID token.
    pub nonce: &'a str,
    /// `BASE64URL(SHA-256(code_verifier))`.
    pub code_challenge: &'a str,
    /// Whether the provider may show its page.
    pub prompt: Prompt,
    /// RFC 9449 §10: the thumbprint of the DPoP key the code is bound to.
    pub dpop_jkt: Option<&'a str>,
}

/// The URL to send the browser to.
pub fn authorization_url(
    metadata: &ProviderMetadata,
    settings: &ClientSettings,
    request: &AuthorizationRequest,
) -> String {
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", &settings.client_id),
        ("redirect_uri", &settings.redirect_uri),
        ("scope", &settings.scope),
        ("state", request.state),
        ("nonce", request.nonce),
        ("code_challenge", request.code_challenge),
        ("code_challenge_method", "S256"),
    ];
    if let Some(audience) = &settings.audience {
        params.push(("audience", audience));
    }
    if let Some(prompt) = request.prompt.parameter() {
        params.push(("prompt", prompt));
    }
    if let Some(jkt) = request.dpop_jkt {
        params.push(("dpop_jkt", jkt));
    }
    let separator = if metadata.authorization_endpoint.contains('?') { '&' } else { '?' };
    format!("{}{separator}{}", metadata.authorization_endpoint, form_encode(&params))
}

/// The end-session request (RP-Initiated Logout 1.0), when the provider has
/// an endpoint: where the browser goes and the form fields it carries.
///
/// The fields travel in the body of a form POST, never in the URL: the ID
/// token sent as `id_token_hint` would otherwise land in the provider's
/// request log, in the browser's history and in any proxy between them. The
/// specification has every provider accept POST as well as GET (§2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndSessionRequest {
    /// The provider's `end_session_endpoint`, as its discovery names it (a
    /// query it carries, such as Azure AD B2C's policy, stays in it).
    pub endpoint: String,
    /// The form fields, in order.
    pub fields: Vec<(&'static str, String)>,
}

/// The end-session request for signing out the session of `id_token_hint`.
pub fn end_session_request(
    metadata: &ProviderMetadata,
    settings: &ClientSettings,
    id_token_hint: &str,
) -> Option<EndSessionRequest> {
    let endpoint = metadata.end_session_endpoint.clone()?;
    let fields = vec![
        ("id_token_hint", id_token_hint.to_owned()),
        ("post_logout_redirect_uri", settings.post_logout_redirect_uri.clone()),
        ("client_id", settings.client_id.clone()),
    ];
    Some(EndSessionRequest { endpoint, fields })
}

/// `application/x-www-form-urlencoded` serialisation, percent-encoding all
/// but RFC 3986's unreserved characters.
pub fn form_encode(params: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (key, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(key, &mut out);
        out.push('=');
        percent_encode_into(value, &mut out);
    }
    out
}

fn percent_encode_into(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0xF)] as char);
        }
    }
}

/// Decodes a form-encoded query (`a=1&b=x%20y`), `+` as space. Malformed
/// escapes are kept literally rather than refused: the values are compared,
/// never trusted.
pub fn form_decode(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match bytes[i] {
            b'+' => b' ',
            b'%' => {
                // Two hex digits exactly: `from_str_radix` alone would also
                // take a sign, reading `%+0` as a NUL byte.
                let escape = bytes.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit));
                match escape.and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()) {
                    Some(escaped) => {
                        i += 2;
                        escaped
                    }
                    None => b'%',
                }
            }
            other => other,
        };
        out.push(decoded);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata() -> ProviderMetadata {
        ProviderMetadata {
            issuer: "https://t.auth0.com/".into(),
            authorization_endpoint: "https://t.auth0.com/authorize".into(),
            token_endpoint: "https://t.auth0.com/oauth/token".into(),
            jwks_uri: "https://t.auth0.com/.well-known/jwks.json".into(),
            end_session_endpoint: Some("https://t.auth0.com/oidc/logout".into()),
            revocation_endpoint: None,
            code_challenge_methods_supported: None,
            authorization_response_iss_parameter_supported: false,
            dpop_signing_alg_values_supported: None,
        }
    }

    #[test]
    fn the_request_carries_pkce_state_nonce_and_audience() {
        let mut settings = ClientSettings::for_origin("https://app.example", metadata().issuer, "spa".into());
        settings.audience = Some("https://api.example".into());
        let url = authorization_url(
            &metadata(),
            &settings,
            &AuthorizationRequest {
                state: "s1",
                nonce: "n1",
                code_challenge: "c1",
                prompt: Prompt::None,
                dpop_jkt: Some("jkt1"),
            },
        );
        let (base, query) = url.split_once('?').unwrap();
        assert_eq!(base, "https://t.auth0.com/authorize");
        let params = form_decode(query);
        let get = |k: &str| params.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("response_type"), Some("code"));
        assert_eq!(get("client_id"), Some("spa"));
        assert_eq!(get("redirect_uri"), Some("https://app.example/callback"));
        assert_eq!(get("scope"), Some("openid profile email offline_access"));
        assert_eq!(get("state"), Some("s1"));
        assert_eq!(get("nonce"), Some("n1"));
        assert_eq!(get("code_challenge"), Some("c1"));
        assert_eq!(get("code_challenge_method"), Some("S256"));
        assert_eq!(get("audience"), Some("https://api.example"));
        assert_eq!(get("prompt"), Some("none"));
        assert_eq!(get("dpop_jkt"), Some("jkt1"));
    }

    #[test]
    fn each_prompt_reads_back_from_its_name() {
        for prompt in [Prompt::Default, Prompt::None, Prompt::Login] {
            assert_eq!(Prompt::from_name(prompt.name()), Some(prompt));
        }
        assert_eq!(Prompt::None.name(), "none");
        assert_eq!(Prompt::from_name("consent"), None);
    }

    #[test]
    fn each_prompt_is_sent_as_its_parameter() {
        let settings = ClientSettings::for_origin("https://app.example", metadata().issuer, "spa".into());
        for (prompt, expected) in
            [(Prompt::Default, None), (Prompt::None, Some("none")), (Prompt::Login, Some("login"))]
        {
            let request = AuthorizationRequest { state: "s", nonce: "n", code_challenge: "c", prompt, dpop_jkt: None };
            let url = authorization_url(&metadata(), &settings, &request);
            let params = form_decode(url.split_once('?').unwrap().1);
            let sent: Vec<_> = params.iter().filter(|(k, _)| k == "prompt").map(|(_, v)| v.as_str()).collect();
            assert_eq!(sent, expected.into_iter().collect::<Vec<_>>(), "{prompt:?}");
            assert!(!params.iter().any(|(k, _)| k == "dpop_jkt"), "no key, no binding");
        }
        assert!(Prompt::None.is_silent());
        assert!(!Prompt::Default.is_silent() && !Prompt::Login.is_silent());
    }

    #[test]
    fn encoding_round_trips() {
        let tricky = "a b&c=d/é+%";
        let encoded = form_encode(&[("k", tricky)]);
        assert_eq!(encoded, "k=a%20b%26c%3Dd%2F%C3%A9%2B%25");
        assert_eq!(form_decode(&encoded), vec![("k".to_owned(), tricky.to_owned())]);
    }

    #[test]
    fn malformed_escapes_do_not_panic() {
        assert_eq!(
            form_decode("a=%&b=%4&c=%zz&d=%41"),
            vec![
                ("a".into(), "%".into()),
                ("b".into(), "%4".into()),
                ("c".into(), "%zz".into()),
                ("d".into(), "A".into()),
            ]
        );
    }

    #[test]
    fn end_session_carries_the_hint_and_return_uri_in_form_fields_not_in_the_url() {
        let settings = ClientSettings::for_origin("https://app.example", metadata().issuer, "spa".into());
        let request = end_session_request(&metadata(), &settings, "tok").unwrap();
        assert_eq!(request.endpoint, "https://t.auth0.com/oidc/logout");
        assert_eq!(
            request.fields,
            vec![
                ("id_token_hint", "tok".to_owned()),
                ("post_logout_redirect_uri", "https://app.example/".to_owned()),
                ("client_id", "spa".to_owned()),
            ]
        );
        let without = ProviderMetadata { end_session_endpoint: None, ..metadata() };
        assert_eq!(end_session_request(&without, &settings, "tok"), None);
    }
}
