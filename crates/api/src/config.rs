//! The command line: every setting has a flag and an `API_*` environment
//! variable, validated while parsing so the rest of the crate never
//! re-checks them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use axum::http::HeaderValue;
use clap::Parser;
use contract::wire::RolesManagedBy;
use permissions::ClaimPath;
use url::Url;

use crate::auth::dpop::DEFAULT_NONCE_WINDOW;
use crate::auth::{DEFAULT_FETCH_TIMEOUT, DpopPolicy, Issuer, PublicUrl, TokenTypes, VerifierConfig};

/// The permission-guarded JSON API of the permission SPA.
///
/// Validates the issuer's access tokens (signature, `iss`, `aud`, `exp`,
/// `nbf`) against the keys it discovers at `{issuer}/.well-known/openid-configuration`,
/// and serves `GET /api/v1/projects` (read:project-list), `POST /api/v1/projects`
/// (create:project), `DELETE /api/v1/projects/{id}` (delete:project),
/// `GET /api/v1/users` (read:user-list), `PUT /api/v1/users/{id}/roles`
/// (update:user-roles), `GET /api/v1/me/capabilities` (any valid token) and
/// `GET /healthz`.
///
/// Tokens come as `Authorization: Bearer <token>`, or, when bound to a DPoP
/// key (a `cnf.jkt` claim, RFC 9449), as `Authorization: DPoP <token>` with a
/// `DPoP` proof header signed by that key; a bound token is refused as
/// `Bearer`.
#[derive(Debug, Clone, Parser)]
#[command(name = "api", version)]
pub struct Cli {
    /// The token issuer, exactly as tokens' `iss` spells it: http://127.0.0.1:8081
    /// (dev-idp), https://tenant.auth0.com/ (Auth0, with its trailing slash),
    /// https://host/realms/x (Keycloak).
    #[arg(long, env = "API_ISSUER")]
    pub issuer: Issuer,

    /// The audience tokens must be issued for (one of their `aud` values).
    #[arg(long, env = "API_AUDIENCE", default_value = permissions::names::API_AUDIENCE, value_parser = non_empty)]
    pub audience: String,

    /// The address to listen on.
    #[arg(long, env = "API_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// The SQLite database file, created and migrated if missing (shared with dev-idp).
    #[arg(long, env = "API_DATABASE", default_value = ".dev/app.db")]
    pub database: PathBuf,

    /// Where the permissions are in the access token: a top-level claim
    /// (`permissions` for Auth0 RBAC, `scope` for a space-separated scope
    /// string), or a JSON Pointer when it starts with `/` (`/realm_access/roles`).
    #[arg(long, env = "API_PERMISSIONS_CLAIM", default_value = permissions::names::ACCESS_TOKEN_PERMISSIONS_CLAIM)]
    pub permissions_claim: ClaimPath,

    /// How long one request to the issuer (discovery, or its JWKS) may take
    /// before it is abandoned, in seconds (1 to 120): a request waiting on
    /// that fetch answers after at most this long.
    #[arg(
        long = "issuer-timeout-seconds",
        env = "API_ISSUER_TIMEOUT_SECONDS",
        default_value_t = DEFAULT_FETCH_TIMEOUT.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=120)
    )]
    pub issuer_timeout_seconds: u64,

    /// Clock skew tolerated on `exp` and `nbf`, in seconds (0 to 300).
    #[arg(
        long = "leeway-seconds",
        visible_alias = "leeway",
        env = "API_LEEWAY_SECONDS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(0..=300)
    )]
    pub leeway_seconds: u64,

    /// Origins allowed to call the API cross-origin (repeat the flag, or
    /// separate with commas). CORS is off when none is given: the SPA
    /// normally reaches the API through a same-origin proxy.
    #[arg(long = "cors-origin", env = "API_CORS_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_origins: Vec<HeaderValue>,

    /// Who owns users' roles: `api` (the store; the development provider
    /// reads them from it) or `provider` (Auth0, Keycloak: role edits are
    /// refused here with 409 and the UI shows the controls disabled).
    #[arg(
        long,
        env = "API_ROLES_MANAGED_BY",
        default_value = RolesManagedBy::Api.as_str(),
        value_parser = parse_roles_managed_by
    )]
    pub roles_managed_by: RolesManagedBy,

    /// Accept only access tokens whose header says `typ: at+jwt` (RFC 9068),
    /// the type no ID token has. For providers that set it (the development
    /// provider; Auth0 with the RFC 9068 token profile); Auth0's default
    /// profile and Keycloak write `typ: JWT`, which this refuses.
    #[arg(long, env = "API_STRICT_TOKEN_TYPE")]
    pub strict_token_type: bool,

    /// The client id of the app that signs users in at the issuer (the
    /// SPA's `client_id`; repeat the flag, or separate with commas): a token
    /// whose `aud` names it is an ID token, and is refused even when it also
    /// names the API's audience.
    #[arg(long = "spa-client-id", env = "API_SPA_CLIENT_IDS", value_delimiter = ',', value_parser = non_empty)]
    pub spa_client_ids: Vec<String>,

    /// Refuse bearer tokens: every request must carry a DPoP-bound token
    /// with the DPoP scheme and a proof. Without it, unbound tokens keep
    /// working as `Bearer` (a bound token never does).
    #[arg(long, env = "API_REQUIRE_DPOP")]
    pub require_dpop: bool,

    /// The URL at which clients reach the API's base path, which DPoP
    /// proofs must name (their `htu`): https://app.example.com/api/v1 when a
    /// reverse proxy serves the API under the SPA's origin,
    /// http://127.0.0.1:8080/api/v1 behind `trunk serve`'s proxy. Without it,
    /// the URL is http://{Host header}/api/v1/..., right only for clients
    /// that reach the API directly over plain HTTP (local development):
    /// behind a proxy or TLS, set it. X-Forwarded-* headers are not read.
    ///
    /// Repeat the flag (or separate with commas) when the SPA is served at
    /// several origins: a proof may name any of them.
    #[arg(long = "public-url", env = "API_PUBLIC_URLS", value_delimiter = ',')]
    pub public_urls: Vec<PublicUrl>,

    /// Require a server nonce in every DPoP proof (RFC 9449 §9): a proof
    /// without a current one gets 401 `use_dpop_nonce` with a fresh
    /// `DPoP-Nonce` header, and every response to a DPoP request carries
    /// the current nonce. The nonces' key is random per process, so a
    /// restart (or another replica) costs clients one retry.
    #[arg(long, env = "API_DPOP_NONCE")]
    pub dpop_nonce: bool,
}

impl Cli {
    /// The bound on each request to the issuer.
    pub fn issuer_timeout(&self) -> Duration {
        Duration::from_secs(self.issuer_timeout_seconds)
    }

    /// The token checks these flags ask for.
    pub fn verifier_config(&self) -> VerifierConfig {
        let mut config = VerifierConfig::new(self.issuer.clone(), self.audience.clone());
        config.claim_path = self.permissions_claim.clone();
        config.leeway = Duration::from_secs(self.leeway_seconds);
        config.token_types = if self.strict_token_type { TokenTypes::AccessTokenOnly } else { TokenTypes::AnyJwt };
        config.client_ids = self.spa_client_ids.clone();
        config
    }

    /// How these flags ask DPoP to be treated.
    pub fn dpop_policy(&self) -> DpopPolicy {
        DpopPolicy::default()
            .with_required(self.require_dpop)
            .with_public_urls(self.public_urls.clone())
            .with_nonces(self.dpop_nonce.then(|| dpop::Nonces::random(DEFAULT_NONCE_WINDOW)))
    }
}

/// Who manages roles, spelled as on the wire (`api`, `provider`): the
/// contract's serde spelling is the one definition of the names.
fn parse_roles_managed_by(value: &str) -> Result<RolesManagedBy, String> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| format!("{value:?} is neither `api` nor `provider`"))
}

fn non_empty(value: &str) -> Result<String, &'static str> {
    if value.trim().is_empty() { Err("must not be empty") } else { Ok(value.to_owned()) }
}

/// A bare web origin (`scheme://host[:port]`), as browsers send it in `Origin`.
fn parse_origin(value: &str) -> Result<HeaderValue, String> {
    let url =
        Url::parse(value.trim()).map_err(|_| format!("{value:?} is not an origin such as http://127.0.0.1:8080"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("{value:?} is not an http(s) origin"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!("{value:?} has a path, query, fragment or user; an origin has none"));
    }
    HeaderValue::try_from(url.origin().ascii_serialization()).map_err(|_| format!("{value:?} is not a valid origin"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let cli = Cli::try_parse_from(["api", "--issuer", "https://t.auth0.com/"]).unwrap();
        assert_eq!(cli.issuer.as_str(), "https://t.auth0.com/");
        assert_eq!(cli.audience, "https://api.permission-spa.example");
        assert_eq!(cli.listen, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(cli.database, PathBuf::from(".dev/app.db"));
        assert_eq!(cli.permissions_claim, ClaimPath::Claim("permissions".into()));
        assert_eq!(cli.leeway_seconds, 30);
        assert_eq!(cli.issuer_timeout(), Duration::from_secs(10));
        assert!(cli.cors_origins.is_empty());
        assert_eq!(cli.roles_managed_by, RolesManagedBy::Api);
        assert!(!cli.strict_token_type);
        assert!(cli.spa_client_ids.is_empty());
        assert_eq!(cli.verifier_config().token_types, TokenTypes::AnyJwt);
        assert!(!cli.require_dpop);
        assert!(cli.public_urls.is_empty());
        assert!(!cli.dpop_nonce);
        let policy = cli.dpop_policy();
        assert!(!policy.required() && policy.nonces().is_none());
    }

    #[test]
    fn roles_managed_by_reads_the_wire_spelling() {
        for managed_by in [RolesManagedBy::Api, RolesManagedBy::Provider] {
            let flag = format!("--roles-managed-by={}", managed_by.as_str());
            let cli = Cli::try_parse_from(["api", "--issuer", "https://i.example", &flag]).unwrap();
            assert_eq!(cli.roles_managed_by, managed_by);
        }
        for bad in ["", "API", "idp", "\"api\""] {
            let flag = format!("--roles-managed-by={bad}");
            assert!(Cli::try_parse_from(["api", "--issuer", "https://i.example", &flag]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_flag() {
        let cli = Cli::try_parse_from([
            "api",
            "--issuer=https://kc.example/realms/x",
            "--audience=aud",
            "--listen=0.0.0.0:9000",
            "--database=/tmp/x.db",
            "--permissions-claim=/realm_access/roles",
            "--leeway=5",
            "--issuer-timeout-seconds=2",
            "--cors-origin=http://localhost:8080/,https://spa.example",
            "--strict-token-type",
            "--spa-client-id=spa,other",
            "--spa-client-id=third",
            "--require-dpop",
            "--public-url=https://app.example.com/api/v1/",
            "--public-url=http://localhost:8080/api/v1",
            "--dpop-nonce",
        ])
        .unwrap();
        assert!(cli.require_dpop);
        assert_eq!(
            cli.public_urls.iter().map(PublicUrl::as_str).collect::<Vec<_>>(),
            ["https://app.example.com/api/v1", "http://localhost:8080/api/v1"]
        );
        let policy = cli.dpop_policy();
        assert!(policy.required() && policy.nonces().is_some());
        assert_eq!(cli.permissions_claim, ClaimPath::Pointer("/realm_access/roles".into()));
        assert_eq!(cli.leeway_seconds, 5);
        assert_eq!(cli.issuer_timeout(), Duration::from_secs(2));
        assert_eq!(cli.cors_origins, ["http://localhost:8080", "https://spa.example"]);
        assert_eq!(cli.verifier_config().leeway, Duration::from_secs(5));
        assert_eq!(cli.verifier_config().token_types, TokenTypes::AccessTokenOnly);
        assert_eq!(cli.verifier_config().client_ids, ["spa", "other", "third"]);
    }

    #[test]
    fn bad_values_are_refused() {
        for args in [
            &["api"][..],
            &["api", "--issuer", "not a url"],
            &["api", "--issuer", "https://i.example", "--audience", ""],
            &["api", "--issuer", "https://i.example", "--permissions-claim", ""],
            &["api", "--issuer", "https://i.example", "--permissions-claim", "/a~2"],
            &["api", "--issuer", "https://i.example", "--leeway-seconds", "301"],
            &["api", "--issuer", "https://i.example", "--issuer-timeout-seconds", "0"],
            &["api", "--issuer", "https://i.example", "--cors-origin", "http://x.example/path"],
            &["api", "--issuer", "https://i.example", "--spa-client-id", ""],
            &["api", "--issuer", "https://i.example", "--strict-token-type=yes"],
            &["api", "--issuer", "https://i.example", "--public-url", "/api/v1"],
            &["api", "--issuer", "https://i.example", "--public-url", "https://app.example.com/api/v1?x"],
            &["api", "--issuer", "https://i.example", "--public-url", "https://app.example.com/api/v1#x"],
            &["api", "--issuer", "https://i.example", "--public-url", "ws://app.example.com/api/v1"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }
}
