//! `/config.json`: read once at start-up and validated into [`AppConfig`].
//!
//! One build runs against any provider; this file is what differs. A missing
//! or malformed required key is a [`ConfigError`] shown on the
//! `config-error` page, never a blank screen. Unknown keys are ignored.

use std::fmt;

use contract::routes;
use gloo_net::http::Request;
use oidc_login::DpopMode;
use oidc_login::json::{self, Fields, JsonError};
use oidc_login::settings::{DEFAULT_LEEWAY_SECONDS, DEFAULT_SCOPE};
use oidc_login::urls::{check_provider_url, is_same_origin_path};
use oidc_login::{ClientSettings, browser};
use permissions::{ClaimPath, RoleMap};

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct AppConfig {
    /// The login module's settings: issuer, client id, scope, audience,
    /// leeway, and the redirect URIs of this origin.
    pub client: ClientSettings,
    /// Where the user's permissions come from.
    pub capabilities: CapabilitySource,
    /// The API's base path or URL, without a trailing slash (`/api/v1`).
    pub api_base: String,
}

/// Where the capability store reads the user's permissions.
#[derive(Debug, Clone, PartialEq)]
pub enum CapabilitySource {
    /// From the ID token: a permissions claim, a roles claim mapped through
    /// `role_permissions`, or both (their union).
    IdToken { permissions_claim: Option<ClaimPath>, roles: Option<(ClaimPath, RoleMap)> },
    /// From the API (`GET {api_base}/me/capabilities`), which derives them
    /// from the validated access token.
    Api,
}

/// Why the configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The file's keys as written (see `e2e-contract.md`).
#[derive(Debug)]
struct RawConfig {
    issuer: Option<String>,
    client_id: Option<String>,
    scope: Option<String>,
    audience: Option<String>,
    permissions_claim: Option<String>,
    api_base: Option<String>,
    capabilities_source: Option<String>,
    roles_claim: Option<String>,
    role_permissions: Option<serde_json::Value>,
    leeway_seconds: Option<u64>,
    trusted_audiences: Option<Vec<String>>,
    dpop: Option<String>,
}

impl RawConfig {
    /// The keys of the file's text, each of its type (a key set to `null`
    /// counts as absent); unknown keys are ignored.
    fn read(text: &str) -> Result<RawConfig, JsonError> {
        let file = json::parse(text)?;
        let fields = Fields::of(&file)?;
        Ok(RawConfig {
            issuer: fields.optional_string("issuer")?,
            client_id: fields.optional_string("client_id")?,
            scope: fields.optional_string("scope")?,
            audience: fields.optional_string("audience")?,
            permissions_claim: fields.optional_string("permissions_claim")?,
            api_base: fields.optional_string("api_base")?,
            capabilities_source: fields.optional_string("capabilities_source")?,
            roles_claim: fields.optional_string("roles_claim")?,
            role_permissions: fields.optional_value("role_permissions").cloned(),
            leeway_seconds: fields.optional_u64("leeway_seconds")?,
            trusted_audiences: fields.optional_strings("trusted_audiences")?,
            dpop: fields.optional_string("dpop")?,
        })
    }
}

/// The most clock leeway accepted: more would make expiry meaningless.
const MAX_LEEWAY_SECONDS: u64 = 600;

impl AppConfig {
    /// Validates the file's text for an app served at `origin`.
    pub fn parse(text: &str, origin: &str) -> Result<AppConfig, ConfigError> {
        let raw = RawConfig::read(text)
            .map_err(|e| ConfigError(format!("/config.json is not a valid configuration object: {e}")))?;
        let required = |value: Option<String>, key: &str| match value {
            Some(v) if !v.trim().is_empty() => Ok(v),
            _ => Err(ConfigError(format!("/config.json has no `{key}`"))),
        };
        let issuer = required(raw.issuer, "issuer")?;
        check_provider_url(&issuer).map_err(|e| ConfigError(format!("`issuer`: {e}")))?;
        let client_id = required(raw.client_id, "client_id")?;
        let claim = |value: Option<String>, key: &str| -> Result<Option<ClaimPath>, ConfigError> {
            value
                .filter(|v| !v.trim().is_empty())
                .map(|v| ClaimPath::parse(&v).map_err(|e| ConfigError(format!("`{key}`: {e}"))))
                .transpose()
        };
        let capabilities = match raw.capabilities_source.as_deref() {
            None | Some("id_token") => {
                let permissions_claim = claim(raw.permissions_claim, "permissions_claim")?;
                let roles = match (claim(raw.roles_claim, "roles_claim")?, raw.role_permissions) {
                    (Some(path), Some(map)) => {
                        Some((path, RoleMap::from_json(&map).map_err(|e| ConfigError(format!("/config.json: {e}")))?))
                    }
                    (Some(_), None) => {
                        return Err(ConfigError("`roles_claim` needs `role_permissions` beside it".into()));
                    }
                    (None, Some(_)) => {
                        return Err(ConfigError("`role_permissions` needs `roles_claim` beside it".into()));
                    }
                    (None, None) => None,
                };
                if permissions_claim.is_none() && roles.is_none() {
                    return Err(ConfigError(
                        "/config.json has no `permissions_claim` (or `roles_claim` with `role_permissions`, or `capabilities_source: \"api\"`)".into(),
                    ));
                }
                CapabilitySource::IdToken { permissions_claim, roles }
            }
            Some("api") => CapabilitySource::Api,
            Some(other) => {
                return Err(ConfigError(format!("`capabilities_source` must be `id_token` or `api`, not `{other}`")));
            }
        };
        let scope = raw.scope.unwrap_or_else(|| DEFAULT_SCOPE.to_owned());
        if !scope.split_ascii_whitespace().any(|s| s == "openid") {
            return Err(ConfigError("`scope` must include `openid`".into()));
        }
        let leeway_seconds = raw.leeway_seconds.unwrap_or(DEFAULT_LEEWAY_SECONDS);
        if leeway_seconds > MAX_LEEWAY_SECONDS {
            return Err(ConfigError(format!("`leeway_seconds` must be at most {MAX_LEEWAY_SECONDS}")));
        }
        let api_base = raw.api_base.unwrap_or_else(|| contract::api::DEFAULT_BASE.to_owned());
        let api_base = api_base.trim_end_matches('/').to_owned();
        // A path must stay on this origin once the browser resolves it (not
        // `//host` nor `/\host`); anything else must be a full URL that
        // passes the provider rules (https, or http on loopback).
        if !is_same_origin_path(&api_base, origin) {
            check_provider_url(&api_base).map_err(|e| ConfigError(format!("`api_base`: {e}")))?;
        }
        let mut client = ClientSettings::for_origin(origin, issuer, client_id);
        client.scope = scope;
        client.audience = raw.audience.filter(|a| !a.is_empty());
        client.leeway_seconds = leeway_seconds;
        client.trusted_audiences = raw.trusted_audiences.unwrap_or_default();
        if let Some(name) = raw.dpop.as_deref() {
            client.dpop = DpopMode::from_name(name)
                .ok_or_else(|| ConfigError(format!("`dpop` must be `auto`, `required` or `off`, not `{name}`")))?;
        }
        if client.trusted_audiences.iter().any(|aud| aud.trim().is_empty()) {
            return Err(ConfigError("`trusted_audiences` must list non-empty audience names".into()));
        }
        Ok(AppConfig { client, capabilities, api_base })
    }

    /// Fetches `/config.json` from this origin and validates it.
    ///
    /// `index.html` preloads the file (`<link rel="preload" as="fetch"
    /// crossorigin>`), so it is on its way while the wasm downloads and
    /// compiles; Chromium hands that answer to this request only if their
    /// credentials modes match, which is why this one is `same-origin`
    /// (the preload's, `crossorigin` meaning anonymous) rather than `omit`.
    /// Its cache mode and headers do not stop the reuse.
    pub async fn load() -> Result<AppConfig, ConfigError> {
        let origin = browser::origin().map_err(|e| ConfigError(e.to_string()))?;
        let url = format!("{origin}{}", routes::CONFIG);
        let fetch_failed = |e: gloo_net::Error| ConfigError(format!("{} could not be fetched: {e}", routes::CONFIG));
        // Revalidated on every start: an operator's edit shows at the next load.
        let response = Request::get(&url)
            .header("Accept", "application/json")
            .header("Cache-Control", "no-cache")
            .cache(web_sys::RequestCache::NoCache)
            .credentials(web_sys::RequestCredentials::SameOrigin)
            .send()
            .await
            .map_err(fetch_failed)?;
        if response.status() != 200 {
            return Err(ConfigError(format!("{} could not be loaded (HTTP {})", routes::CONFIG, response.status())));
        }
        AppConfig::parse(&response.text().await.map_err(fetch_failed)?, &origin)
    }
}
