//! The command line: flags with environment-variable fallbacks, turned into a
//! validated [`Config`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::config::{Config, ConfigError, Issuer, parse_origins};

/// A development-only OpenID Provider for permission-spa.
///
/// It signs in the demo users of the shared SQLite store without a password
/// and issues RS256 ID and access tokens shaped as Auth0 issues them.
/// Do not expose it beyond your machine.
#[derive(Debug, Parser)]
#[command(name = "dev-idp", version, about, long_about)]
pub struct Cli {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "DEV_IDP_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,

    /// SQLite database file shared with the API (created and seeded if missing).
    #[arg(long, env = "DEV_IDP_DATABASE", default_value = ".dev/app.db")]
    pub database: PathBuf,

    /// Directory holding the signing key (created on first start).
    #[arg(long, env = "DEV_IDP_DATA_DIR", default_value = ".dev/dev-idp")]
    pub data_dir: PathBuf,

    /// Origin of the SPA, e.g. http://127.0.0.1:8080 (repeatable; the
    /// environment variable takes a comma-separated list). Each origin
    /// registers the redirect URI {origin}/callback and the post-logout
    /// redirect URI {origin}/, and may call the token endpoint, JWKS and
    /// discovery cross-origin.
    #[arg(
        long = "spa-origin",
        env = "DEV_IDP_SPA_ORIGIN",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:8080"
    )]
    pub spa_origins: Vec<String>,

    /// Issuer identifier (no trailing slash). Defaults to http://{listen address}.
    #[arg(long, env = "DEV_IDP_ISSUER")]
    pub issuer: Option<String>,

    /// Lifetime of access and ID tokens, in seconds (60 to 86400).
    #[arg(long, env = "DEV_IDP_TOKEN_TTL", default_value_t = 3600)]
    pub token_ttl: u64,
}

impl Cli {
    /// Validates the flags into a configuration.
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let issuer = self.issuer.as_deref().map(Issuer::parse).transpose()?;
        let config = Config {
            listen: self.listen,
            database: self.database,
            data_dir: self.data_dir,
            spa_origins: parse_origins(&self.spa_origins)?,
            issuer,
            token_ttl: Duration::from_secs(self.token_ttl),
        };
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_become_a_config() {
        let cli = Cli::try_parse_from([
            "dev-idp",
            "--listen",
            "127.0.0.1:9000",
            "--spa-origin",
            "http://127.0.0.1:3000",
            "--spa-origin",
            "http://localhost:3000,http://127.0.0.1:3000",
            "--token-ttl",
            "300",
        ])
        .unwrap();
        let config = cli.into_config().unwrap();
        assert_eq!(config.listen.port(), 9000);
        let origins: Vec<_> = config.spa_origins.iter().map(|o| o.as_str().to_owned()).collect();
        assert_eq!(origins, ["http://127.0.0.1:3000", "http://localhost:3000"]);
        assert_eq!(config.token_ttl, Duration::from_secs(300));
        assert_eq!(config.issuer_for(config.listen).unwrap().as_str(), "http://127.0.0.1:9000");
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        let cli = Cli::try_parse_from(["dev-idp", "--spa-origin", "http://127.0.0.1:8080/app"]).unwrap();
        assert!(matches!(cli.into_config(), Err(ConfigError::InvalidOrigin { .. })));
        let cli = Cli::try_parse_from(["dev-idp", "--issuer", "http://127.0.0.1:8081/"]).unwrap();
        assert!(matches!(cli.into_config(), Err(ConfigError::InvalidIssuer { .. })));
        let cli = Cli::try_parse_from(["dev-idp", "--token-ttl", "5"]).unwrap();
        assert_eq!(cli.into_config().unwrap_err(), ConfigError::InvalidTokenTtl(5));
    }
}
