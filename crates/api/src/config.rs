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

use crate::auth::{Issuer, VerifierConfig};

/// The permission-guarded JSON API of the permission SPA.
///
/// Validates the issuer's access tokens (signature, `iss`, `aud`, `exp`,
/// `nbf`) against the keys it discovers at `{issuer}/.well-known/openid-configuration`,
/// and serves `GET /api/v1/projects` (read:project-list), `POST /api/v1/projects`
/// (create:project), `DELETE /api/v1/projects/{id}` (delete:project),
/// `GET /api/v1/users` (read:user-list), `PUT /api/v1/users/{id}/roles`
/// (update:user-roles), `GET /api/v1/me/capabilities` (any valid token) and
/// `GET /healthz`.
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
}

impl Cli {
    /// The token checks these flags ask for.
    pub fn verifier_config(&self) -> VerifierConfig {
        let mut config = VerifierConfig::new(self.issuer.clone(), self.audience.clone());
        config.claim_path = self.permissions_claim.clone();
        config.leeway = Duration::from_secs(self.leeway_seconds);
        config
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
        assert!(cli.cors_origins.is_empty());
        assert_eq!(cli.roles_managed_by, RolesManagedBy::Api);
    }

    #[test]
    fn roles_managed_by_reads_the_wire_spelling() {
        for managed_by in [RolesManagedBy::Api, RolesManagedBy::Provider] {
            let flag = format!("--roles-managed-by={}", managed_by.as_str());
            let cli = Cli::try_parse_from(["api", "--issuer", "http://i", &flag]).unwrap();
            assert_eq!(cli.roles_managed_by, managed_by);
        }
        for bad in ["", "API", "idp", "\"api\""] {
            let flag = format!("--roles-managed-by={bad}");
            assert!(Cli::try_parse_from(["api", "--issuer", "http://i", &flag]).is_err(), "{bad:?}");
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
            "--cors-origin=http://localhost:8080/,https://spa.example",
        ])
        .unwrap();
        assert_eq!(cli.permissions_claim, ClaimPath::Pointer("/realm_access/roles".into()));
        assert_eq!(cli.leeway_seconds, 5);
        assert_eq!(cli.cors_origins, ["http://localhost:8080", "https://spa.example"]);
        assert_eq!(cli.verifier_config().leeway, Duration::from_secs(5));
    }

    #[test]
    fn bad_values_are_refused() {
        for args in [
            &["api"][..],
            &["api", "--issuer", "not a url"],
            &["api", "--issuer", "http://i", "--audience", ""],
            &["api", "--issuer", "http://i", "--permissions-claim", ""],
            &["api", "--issuer", "http://i", "--permissions-claim", "/a~2"],
            &["api", "--issuer", "http://i", "--leeway-seconds", "301"],
            &["api", "--issuer", "http://i", "--cors-origin", "http://x.example/path"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }
}
