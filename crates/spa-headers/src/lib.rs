//! The security headers the built SPA is served with, in one place: a strict Content-Security-Policy computed
//! from the build and its deployment, and the fixed headers beside it. `cargo xtask csp` prints them for a dist
//! (and writes an nginx snippet), the e2e SPA server serves every test under them, and the README explains each.
//!
//! The policy opens nothing by default (`default-src 'none'`) and then exactly what the SPA uses:
//!
//! * `script-src 'self' 'wasm-unsafe-eval'` and the SHA-256 hash of each inline script of `index.html`: the
//!   hashed JS glue and chunks come from the origin, the wasm needs `'wasm-unsafe-eval'` to compile, and trunk's
//!   loader is an inline module script, allowed by its hash rather than by `'unsafe-inline'`. The hashes change
//!   with every build (the loader names the hashed file names), so the policy belongs to one build.
//! * `style-src 'self'` and `img-src 'self'`: the stylesheet and the favicon; no inline style anywhere.
//! * `connect-src 'self'` and the issuer's origin, an absolute `api_base`'s, and any origin given besides (a
//!   provider whose token endpoint or JWKS is elsewhere than its issuer): every `fetch` the SPA makes.
//!   Sign-in is a navigation, which no fetch directive restricts.
//! * `form-action 'self'` and the issuer's origin, and any origin given besides: sign-out is a form POST to the
//!   provider's end-session endpoint (the ID token it carries as a hint stays out of URLs), and the browser
//!   applies `form-action` to the redirect back to the SPA too, hence `'self'`. The SPA's own form is handled in
//!   the page and never submitted.
//! * `base-uri 'none'`, `frame-ancestors 'none'` (no framing, so no clickjacking) and `object-src 'none'`.
//!
//! `cargo xtask dev` serves the same headers through `trunk serve` ([`Policy::for_trunk_serve`], copied into
//! Trunk.toml by [`trunk_serve_toml`] and kept equal to it by a test of xtask's).

mod html;
mod origins;

/// Why no policy could be computed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "index.html has no inline <script type=\"module\">, the loader trunk writes into a build; is it a built \
         dist's index.html?"
    )]
    NoLoader,
    #[error(
        "this index.html still has trunk's `data-trunk` links and no loader: it is the source page, not a build's; \
         build first (`cargo xtask dist`) and point at dist/index.html"
    )]
    SourceIndexHtml,
    #[error("index.html line {line}: the start tag of a <{element}> never ends")]
    UnterminatedTag { element: &'static str, line: usize },
    #[error("index.html line {line}: a <{element}> has no end tag")]
    UnterminatedElement { element: &'static str, line: usize },
    #[error(
        "index.html line {line}: an inline script holds `<!--`, which makes its end depend on the tokenizer's \
         escaped states; it cannot be hashed with certainty"
    )]
    EscapedScript { line: usize },
    #[error("config.json is not JSON: {0}")]
    ConfigNotJson(String),
    #[error("config.json is not a JSON object")]
    ConfigNotObject,
    #[error("config.json: `{0}` {1}")]
    ConfigKey(&'static str, String),
    #[error("`{given}` is not an origin for connect-src: {reason}")]
    NotAnOrigin { given: String, reason: String },
}

/// The header that carries the policy.
pub const CONTENT_SECURITY_POLICY: &str = "Content-Security-Policy";

/// The headers that do not depend on the build, with why each is there:
///
/// * `Referrer-Policy: no-referrer`: no URL of the SPA leaves with a request; the callback URL carries the
///   authorization code and state until the SPA replaces it, and the provider needs no `Referer`. (CORS requests
///   still carry `Origin`.)
/// * `X-Content-Type-Options: nosniff`: a file is only ever run or styled as the type it is served with.
/// * `X-Frame-Options: DENY`: `frame-ancestors 'none'` for browsers that predate it.
pub const FIXED_HEADERS: [(&str, &str); 3] =
    [("Referrer-Policy", "no-referrer"), ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY")];

/// The placeholder `trunk serve` replaces, in each HTML answer and its policy, with a fresh nonce (Trunk.toml's
/// `[build] create_nonce` puts it in a `nonce` attribute on every script trunk writes).
pub const TRUNK_NONCE: &str = "{{NONCE}}";

/// The Content-Security-Policy of one build in one deployment; build it with [`Policy::for_index_html`], then
/// [`Policy::with_config`], [`Policy::with_connect_src`] and [`Policy::with_form_action`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `script-src` sources besides `'self'` and `'wasm-unsafe-eval'`: a `'sha256-…'` per inline script, in
    /// document order (duplicates once), or trunk serve's nonce.
    script_sources: Vec<String>,
    /// Origins besides `'self'` for `connect-src`, in the order given (duplicates once).
    connect_src: Vec<String>,
    /// Origins besides `'self'` for `form-action`: the provider's, where sign-out posts its form.
    form_action: Vec<String>,
}

impl Policy {
    /// The policy for a build's `index.html`: the hash of each inline script, and no origin besides the SPA's
    /// own yet. Refuses a page without trunk's loader, so that a wrong file is not taken for a build.
    pub fn for_index_html(index_html: &str) -> Result<Policy, Error> {
        let scripts = html::inline_scripts(index_html)?;
        if !scripts.iter().any(|script| script.is_module) {
            return Err(if index_html.contains("data-trunk") { Error::SourceIndexHtml } else { Error::NoLoader });
        }
        let mut script_sources = Vec::new();
        for script in &scripts {
            push_once(&mut script_sources, script_hash(&script.text));
        }
        Ok(Policy { script_sources, connect_src: Vec::new(), form_action: Vec::new() })
    }

    /// The policy `trunk serve` sends under `cargo xtask dev`: a build's, except in two places. Its inline scripts
    /// (the loader, whose text changes with every rebuild, and trunk's autoreload script, which names the host it
    /// was asked by) are allowed by trunk's per-answer nonce instead of hashes; and `connect-src` allows every port
    /// of 127.0.0.1 instead of the issuer's alone (and `form-action` likewise), because Trunk.toml is fixed while
    /// the stack picks the provider's port (`--idp-port`). The autoreload WebSocket goes to the page's own host and
    /// port, which `'self'` covers.
    pub fn for_trunk_serve() -> Policy {
        Policy {
            script_sources: vec![format!("'nonce-{TRUNK_NONCE}'")],
            connect_src: vec!["http://127.0.0.1:*".into()],
            form_action: vec!["http://127.0.0.1:*".into()],
        }
    }

    /// Adds the origins the SPA fetches from under `config_json` (its `/config.json`): the issuer's, and an
    /// absolute `api_base`'s; and the issuer's to `form-action`, for sign-out.
    pub fn with_config(mut self, config_json: &str) -> Result<Policy, Error> {
        let origins = origins::from_config(config_json)?;
        push_once(&mut self.form_action, origins.issuer.clone());
        for origin in origins.fetched() {
            push_once(&mut self.connect_src, origin);
        }
        Ok(self)
    }

    /// Adds one more origin to `connect-src` (`https://keys.example.com`): for a provider whose token endpoint or
    /// JWKS is not on its issuer's origin.
    pub fn with_connect_src(mut self, origin: &str) -> Result<Policy, Error> {
        push_once(&mut self.connect_src, origins::from_argument(origin)?);
        Ok(self)
    }

    /// Adds one more origin to `form-action` (`https://logout.example.com`): for a provider whose end-session
    /// endpoint is not on its issuer's origin, or that redirects through another origin before it returns.
    pub fn with_form_action(mut self, origin: &str) -> Result<Policy, Error> {
        push_once(&mut self.form_action, origins::from_argument(origin)?);
        Ok(self)
    }

    /// The `script-src` sources besides `'self'` and `'wasm-unsafe-eval'`: the `'sha256-…'` of each inline script.
    pub fn script_sources(&self) -> &[String] {
        &self.script_sources
    }

    /// The origins `connect-src` names besides `'self'`.
    pub fn connect_src(&self) -> &[String] {
        &self.connect_src
    }

    /// The origins `form-action` names besides `'self'`.
    pub fn form_action(&self) -> &[String] {
        &self.form_action
    }

    /// The value of the `Content-Security-Policy` header.
    pub fn content_security_policy(&self) -> String {
        self.directives().join("; ")
    }

    /// The policy's directives, in order.
    pub fn directives(&self) -> Vec<String> {
        let sources = |fixed: &[&str], more: &[String]| {
            fixed.iter().copied().chain(more.iter().map(String::as_str)).collect::<Vec<_>>().join(" ")
        };
        vec![
            "default-src 'none'".to_owned(),
            format!("script-src {}", sources(&["'self'", "'wasm-unsafe-eval'"], &self.script_sources)),
            "style-src 'self'".to_owned(),
            "img-src 'self'".to_owned(),
            format!("connect-src {}", sources(&["'self'"], &self.connect_src)),
            "base-uri 'none'".to_owned(),
            format!("form-action {}", sources(&["'self'"], &self.form_action)),
            "frame-ancestors 'none'".to_owned(),
            "object-src 'none'".to_owned(),
        ]
    }

    /// Every header, the policy first: (name, value).
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![(CONTENT_SECURITY_POLICY, self.content_security_policy())];
        headers.extend(FIXED_HEADERS.iter().map(|&(name, value)| (name, value.to_owned())));
        headers
    }
}

/// The headers for a build's `index.html` served with `config_json`, plus `extra_connect_src` and
/// `extra_form_action` origins.
pub fn headers(
    index_html: &str,
    config_json: &str,
    extra_connect_src: &[impl AsRef<str>],
    extra_form_action: &[impl AsRef<str>],
) -> Result<Vec<(&'static str, String)>, Error> {
    let mut policy = Policy::for_index_html(index_html)?.with_config(config_json)?;
    for origin in extra_connect_src {
        policy = policy.with_connect_src(origin.as_ref())?;
    }
    for origin in extra_form_action {
        policy = policy.with_form_action(origin.as_ref())?;
    }
    Ok(policy.headers())
}

/// `headers` as nginx `add_header` lines. `always` puts them on error answers too (nginx leaves them off 4xx and
/// 5xx otherwise), and the values are double-quoted because the policy holds single quotes and semicolons.
pub fn nginx_snippet(headers: &[(&str, String)]) -> String {
    headers
        .iter()
        .map(|(name, value)| {
            format!("add_header {name} \"{}\" always;\n", value.replace('\\', "\\\\").replace('"', "\\\""))
        })
        .collect()
}

/// Trunk.toml's `[serve]` lines that make `trunk serve` send `policy` (`csp`, one directive a string; trunk
/// replaces [`TRUNK_NONCE`] in it) and the fixed headers (`headers`).
pub fn trunk_serve_toml(policy: &Policy) -> String {
    let headers: Vec<String> = FIXED_HEADERS.iter().map(|(name, value)| format!("\"{name}\" = \"{value}\"")).collect();
    let directives: String = policy.directives().iter().map(|directive| format!("  \"{directive}\",\n")).collect();
    format!("headers = {{ {} }}\ncsp = [\n{directives}]\n", headers.join(", "))
}

/// The CSP source for an inline script: `'sha256-` + the padded base64 of the SHA-256 of its UTF-8 text + `'`.
fn script_hash(text: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes())))
}

fn push_once(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of trunk 0.21's release `index.html` (the loader's text as trunk writes it).
    const BUILT: &str = "<!DOCTYPE html>\n<html><head>\n<script type=\"module\">\nimport init from \"/app.js\";\n\
                         await init();\n</script>\n<link rel=\"stylesheet\" href=\"/main-1.css\"/>\n\
                         <script src=\"/fatal.js\" defer></script>\n</head><body></body></html>\n";
    /// `printf '\nimport init from "/app.js";\nawait init();\n' | openssl dgst -sha256 -binary | base64`
    const LOADER_HASH: &str = "'sha256-+Ng2RsWDsDBYaxNrcMGeKeHLPsoZJoEOaRtsYOR/RRs='";
    const CONFIG: &str = r#"{"issuer": "https://tenant.eu.auth0.com/", "client_id": "spa", "api_base": "/api/v1"}"#;

    #[test]
    fn hashes_are_those_openssl_computes_for_the_same_text() {
        // printf %s 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert_eq!(script_hash("alert(1)"), "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='");
        // printf %s '' | …: the padding is kept.
        assert_eq!(script_hash(""), "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='");
        // printf %s 'é' | …: the text is hashed as UTF-8.
        assert_eq!(script_hash("é"), "'sha256-SplVfkAzw1Od4utlRyAXytX5VX96BiWgnxw/biumnEw='");
        assert_eq!(Policy::for_index_html(BUILT).unwrap().script_sources(), [LOADER_HASH]);
        // Saved with CR LF, the page hashes as the browser reads it: with LF.
        assert_eq!(Policy::for_index_html(&BUILT.replace('\n', "\r\n")).unwrap().script_sources(), [LOADER_HASH]);
    }

    #[test]
    fn the_policy_opens_only_what_the_spa_uses() {
        let policy = Policy::for_index_html(BUILT).unwrap().with_config(CONFIG).unwrap();
        assert_eq!(
            policy.content_security_policy(),
            format!(
                "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' {LOADER_HASH}; style-src 'self'; \
                 img-src 'self'; connect-src 'self' https://tenant.eu.auth0.com; base-uri 'none'; \
                 form-action 'self' https://tenant.eu.auth0.com; frame-ancestors 'none'; object-src 'none'"
            )
        );
    }

    #[test]
    fn connect_src_takes_an_absolute_api_base_and_extra_origins_once_each() {
        let config = r#"{"issuer": "https://idp.example/realms/x", "api_base": "https://api.example/v1"}"#;
        let extra = ["https://keys.example", "https://idp.example"];
        let headers = headers(BUILT, config, &extra, &[] as &[&str]).unwrap();
        assert_eq!(headers[0].0, CONTENT_SECURITY_POLICY);
        assert!(
            headers[0].1.contains("; connect-src 'self' https://idp.example https://api.example https://keys.example;"),
            "{}",
            headers[0].1
        );
        let rest: Vec<(&str, &str)> = headers[1..].iter().map(|(name, value)| (*name, value.as_str())).collect();
        assert_eq!(
            rest,
            [("Referrer-Policy", "no-referrer"), ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY")]
        );
        assert!(matches!(
            super::headers(BUILT, config, &["https://keys.example/jwks"], &[] as &[&str]),
            Err(Error::NotAnOrigin { .. })
        ));
    }

    #[test]
    fn form_action_takes_self_the_issuer_and_extra_origins_but_not_the_api() {
        // Sign-out posts a form to the provider's end-session endpoint, which redirects back to the SPA: the
        // browser checks both against `form-action`. The API is fetched, never posted to by a form.
        let config = r#"{"issuer": "https://idp.example/realms/x", "api_base": "https://api.example/v1"}"#;
        let extra = ["https://logout.example", "https://idp.example"];
        let headers = headers(BUILT, config, &[] as &[&str], &extra).unwrap();
        assert!(
            headers[0].1.contains("; form-action 'self' https://idp.example https://logout.example;"),
            "{}",
            headers[0].1
        );
        assert!(matches!(
            super::headers(BUILT, config, &[] as &[&str], &["https://logout.example/end"]),
            Err(Error::NotAnOrigin { .. })
        ));
        let serve = Policy::for_trunk_serve().content_security_policy();
        assert!(serve.contains("; form-action 'self' http://127.0.0.1:*;"), "{serve}");
    }

    #[test]
    fn every_inline_script_is_hashed_and_duplicates_once() {
        let page = format!("{BUILT}<script>alert(1)</script><script>alert(1)</script>");
        let policy = Policy::for_index_html(&page).unwrap();
        assert_eq!(policy.script_sources(), [LOADER_HASH, "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"]);
    }

    #[test]
    fn a_page_without_the_loader_is_refused_with_a_reason() {
        let source = "<head><link data-trunk rel=\"rust\" /></head>";
        assert!(matches!(Policy::for_index_html(source), Err(Error::SourceIndexHtml)));
        let classic = "<script>fetch('/config.json')</script><script type=module src=/a.js></script>";
        let err = Policy::for_index_html(classic).unwrap_err();
        assert!(matches!(err, Error::NoLoader), "{err}");
        assert!(err.to_string().contains("<script type=\"module\">"), "{err}");
        assert!(matches!(headers(BUILT, "{ not json", &[] as &[&str], &[] as &[&str]), Err(Error::ConfigNotJson(_))));
    }

    #[test]
    fn trunk_serve_gets_the_same_policy_with_its_nonce_and_any_loopback_port() {
        let dev = Policy::for_trunk_serve();
        let build = Policy::for_index_html(BUILT).unwrap().with_config(CONFIG).unwrap();
        let (dev_directives, build_directives) = (dev.directives(), build.directives());
        for (dev, build) in dev_directives.iter().zip(&build_directives) {
            match dev.split_once(' ').map(|(name, _)| name) {
                Some("script-src") => assert_eq!(dev, "script-src 'self' 'wasm-unsafe-eval' 'nonce-{{NONCE}}'"),
                Some("connect-src") => assert_eq!(dev, "connect-src 'self' http://127.0.0.1:*"),
                Some("form-action") => assert_eq!(dev, "form-action 'self' http://127.0.0.1:*"),
                _ => assert_eq!(dev, build),
            }
        }
        assert_eq!(dev_directives.len(), build_directives.len());
        let toml = trunk_serve_toml(&dev);
        assert!(
            toml.starts_with(
                "headers = { \"Referrer-Policy\" = \"no-referrer\", \"X-Content-Type-Options\" = \"nosniff\", \
                 \"X-Frame-Options\" = \"DENY\" }\ncsp = [\n  \"default-src 'none'\",\n  \"script-src 'self' \
                 'wasm-unsafe-eval' 'nonce-{{NONCE}}'\",\n"
            ),
            "{toml}"
        );
        assert!(toml.ends_with("  \"object-src 'none'\",\n]\n"), "{toml}");
    }

    #[test]
    fn the_nginx_snippet_quotes_each_value_and_adds_it_always() {
        let headers = Policy::for_index_html(BUILT).unwrap().with_config(CONFIG).unwrap().headers();
        let snippet = nginx_snippet(&headers);
        let lines: Vec<&str> = snippet.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(
            lines[0].starts_with("add_header Content-Security-Policy \"default-src 'none'; script-src"),
            "{snippet}"
        );
        assert_eq!(lines[1], "add_header Referrer-Policy \"no-referrer\" always;");
        assert!(lines.iter().all(|line| line.ends_with("\" always;")), "{snippet}");
        assert_eq!(nginx_snippet(&[("X", "a\"b".to_owned())]), "add_header X \"a\\\"b\" always;\n");
    }
}
