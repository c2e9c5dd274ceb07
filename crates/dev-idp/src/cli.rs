//! The command line: flags with environment-variable fallbacks, turned into a
//! validated [`Config`], and the `rotate-key` subcommand.
//!
//! Without a subcommand `dev-idp` serves. `dev-idp rotate-key` adds a signing
//! key to the data directory and exits; `--data-dir` (or `DEV_IDP_DATA_DIR`)
//! names the directory for both, before or after the subcommand.
//!
//! `--listen` takes a loopback address (or `localhost:PORT`) unless
//! `--i-know-this-is-not-for-production` is given (see [`crate::config`]);
//! that flag alone has no environment fallback, so exposing the provider is
//! always visible on its command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Parser, Subcommand};

use crate::config::{Config, ConfigError, Issuer, parse_origins};

/// Parses `--listen`: an IP socket address, or `localhost:PORT`, which is
/// 127.0.0.1:PORT. The name is not looked up, so it cannot resolve to
/// anything but loopback.
fn parse_listen(value: &str) -> Result<SocketAddr, String> {
    if let Ok(address) = value.parse() {
        return Ok(address);
    }
    match value.rsplit_once(':') {
        Some((host, port)) if host.eq_ignore_ascii_case("localhost") => port
            .parse::<u16>()
            .map(|port| SocketAddr::from(([127, 0, 0, 1], port)))
            .map_err(|_| format!("invalid port {port:?}")),
        _ => Err("expected an address such as 127.0.0.1:8081, [::1]:8081 or localhost:8081".into()),
    }
}

/// The SPA origins when none is given: `trunk serve`'s port, reached as
/// `127.0.0.1` or as `localhost` (to a browser, two different origins).
pub const DEFAULT_SPA_ORIGINS: [&str; 2] = ["http://127.0.0.1:8080", "http://localhost:8080"];

/// A development-only OpenID Provider for permission-spa.
///
/// It signs in the demo users of the shared SQLite store without a password
/// and issues RS256 ID and access tokens shaped as Auth0 issues them.
/// Do not expose it beyond your machine.
#[derive(Debug, Parser)]
#[command(name = "dev-idp", version, about, long_about)]
pub struct Cli {
    /// What to do instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on (port 0 picks a free port): a loopback address
    /// (127.0.0.0/8, ::1, or localhost:PORT) unless
    /// --i-know-this-is-not-for-production is given.
    #[arg(long, env = "DEV_IDP_LISTEN", default_value = "127.0.0.1:8081", value_parser = parse_listen)]
    pub listen: SocketAddr,

    /// Allow --listen on a non-loopback address (0.0.0.0, a LAN address):
    /// everyone who can reach it can then sign in as any user, admins
    /// included, without a password. Never in production. (No environment
    /// fallback, on purpose.)
    #[arg(long = "i-know-this-is-not-for-production")]
    pub i_know_this_is_not_for_production: bool,

    /// SQLite database file shared with the API (created and seeded if missing).
    #[arg(long, env = "DEV_IDP_DATABASE", default_value = ".dev/app.db")]
    pub database: PathBuf,

    /// Directory holding the signing keys (the first is created on first start).
    #[arg(long, env = "DEV_IDP_DATA_DIR", default_value = ".dev/dev-idp", global = true)]
    pub data_dir: PathBuf,

    /// Origin of the SPA (repeatable; the environment variable takes a
    /// comma-separated list). Each origin registers the redirect URI
    /// {origin}/callback and the post-logout redirect URI {origin}/, and may
    /// call the token and revocation endpoints, the JWKS and discovery
    /// cross-origin. The default covers trunk's port under both names a
    /// browser may use for this machine.
    #[arg(
        long = "spa-origin",
        env = "DEV_IDP_SPA_ORIGIN",
        action = ArgAction::Append,
        value_delimiter = ',',
        default_values_t = DEFAULT_SPA_ORIGINS.map(String::from)
    )]
    pub spa_origins: Vec<String>,

    /// Issuer identifier (no trailing slash). Defaults to http://{listen address}.
    #[arg(long, env = "DEV_IDP_ISSUER")]
    pub issuer: Option<String>,

    /// Lifetime of access and ID tokens, in seconds (10 to 86400).
    #[arg(long, env = "DEV_IDP_TOKEN_TTL", default_value_t = 3600)]
    pub token_ttl: u64,

    /// Absolute lifetime of a refresh token's family, in seconds from the
    /// sign-in (60 to 2592000); rotation does not extend it.
    #[arg(long, env = "DEV_IDP_REFRESH_TOKEN_TTL", default_value_t = 86_400)]
    pub refresh_token_ttl: u64,

    /// How long a refresh token may stay unused, in seconds (60 to 2592000).
    #[arg(long, env = "DEV_IDP_REFRESH_TOKEN_IDLE_TTL", default_value_t = 28_800)]
    pub refresh_token_idle_ttl: u64,

    /// Seconds after its rotation during which a refresh token may be
    /// presented again (0 to 3600). Within them, a re-presented token gets
    /// a new token set (with a new refresh token of the same family) and
    /// nothing is revoked, for a response lost in flight; from then on, or
    /// always with 0, presenting it revokes the whole family.
    #[arg(long, env = "DEV_IDP_REFRESH_REUSE_INTERVAL", default_value_t = 0)]
    pub refresh_reuse_interval: u64,

    /// Require a server nonce in the DPoP proofs (RFC 9449 §8) sent to the
    /// token endpoint. A proof without the current nonce is refused with
    /// `use_dpop_nonce` and a fresh nonce in the `DPoP-Nonce` response
    /// header, and the client retries with it; every token endpoint
    /// response then carries the current nonce. Requests without a proof
    /// are not affected (see --require-dpop). Off by default. The variable
    /// takes true/false, yes/no, on/off or 1/0.
    #[arg(long, env = "DEV_IDP_DPOP_NONCE", value_parser = BoolishValueParser::new())]
    pub dpop_nonce: bool,

    /// Refuse token requests without a DPoP proof (`invalid_dpop_proof`), so
    /// that every access token is DPoP-bound and no refresh token is a bearer
    /// token. Off by default: a request without a proof gets Bearer tokens,
    /// one with a proof DPoP-bound ones. The variable takes true/false,
    /// yes/no, on/off or 1/0.
    #[arg(long, env = "DEV_IDP_REQUIRE_DPOP", value_parser = BoolishValueParser::new())]
    pub require_dpop: bool,
}

/// The subcommands.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Add a new signing key to the data directory and print its kid.
    ///
    /// The new key signs every token issued from then on, also by a
    /// dev-idp already serving from the directory: it looks at the
    /// directory on every request, so its next one uses the new key. The previous key stays published in the JWKS until the
    /// tokens it signed have expired (token lifetime plus five minutes), so
    /// nobody is signed out. Key files retired for more than a week are
    /// deleted; the newest key never is.
    RotateKey,
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
            refresh_token_ttl: Duration::from_secs(self.refresh_token_ttl),
            refresh_idle_ttl: Duration::from_secs(self.refresh_token_idle_ttl),
            refresh_reuse_interval: Duration::from_secs(self.refresh_reuse_interval),
            dpop_nonce: self.dpop_nonce,
            require_dpop: self.require_dpop,
            allow_non_loopback: self.i_know_this_is_not_for_production,
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
        assert_eq!(cli.command, None);
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
        let cli = Cli::try_parse_from(["dev-idp", "--refresh-reuse-interval", "3601"]).unwrap();
        assert_eq!(cli.into_config().unwrap_err(), ConfigError::InvalidRefreshReuseInterval(3601));
        let cli = Cli::try_parse_from(["dev-idp", "--refresh-token-ttl", "59"]).unwrap();
        assert_eq!(cli.into_config().unwrap_err(), ConfigError::InvalidRefreshTokenTtl(59));
        let cli = Cli::try_parse_from(["dev-idp", "--refresh-token-idle-ttl", "2592001"]).unwrap();
        assert_eq!(cli.into_config().unwrap_err(), ConfigError::InvalidRefreshIdleTtl(2_592_001));
    }

    #[test]
    fn both_local_names_of_the_spa_are_registered_by_default() {
        let config = Cli::try_parse_from(["dev-idp"]).unwrap().into_config().unwrap();
        let origins: Vec<_> = config.spa_origins.iter().map(|o| o.as_str().to_owned()).collect();
        assert_eq!(origins, DEFAULT_SPA_ORIGINS);
        // Naming one origin replaces the defaults rather than adding to them.
        let cli = Cli::try_parse_from(["dev-idp", "--spa-origin", "http://127.0.0.1:3000"]).unwrap();
        let origins: Vec<_> = cli.into_config().unwrap().spa_origins.iter().map(|o| o.as_str().to_owned()).collect();
        assert_eq!(origins, ["http://127.0.0.1:3000"]);
    }

    #[test]
    fn refresh_flags_have_safe_defaults() {
        let config = Cli::try_parse_from(["dev-idp"]).unwrap().into_config().unwrap();
        assert_eq!(config.refresh_reuse_interval, Duration::ZERO);
        assert_eq!(config.refresh_token_ttl, Duration::from_secs(86_400));
        assert_eq!(config.refresh_idle_ttl, Duration::from_secs(8 * 3600));
        let cli = Cli::try_parse_from(["dev-idp", "--refresh-reuse-interval", "30"]).unwrap();
        assert_eq!(cli.into_config().unwrap().refresh_reuse_interval, Duration::from_secs(30));
    }

    #[test]
    fn dpop_is_optional_and_nonce_free_unless_asked_for() {
        let config = Cli::try_parse_from(["dev-idp"]).unwrap().into_config().unwrap();
        assert!(!config.dpop_nonce && !config.require_dpop);
        let cli = Cli::try_parse_from(["dev-idp", "--dpop-nonce", "--require-dpop"]).unwrap();
        let config = cli.into_config().unwrap();
        assert!(config.dpop_nonce && config.require_dpop);
    }

    #[test]
    fn a_non_loopback_listen_address_needs_the_flag() {
        let cli = Cli::try_parse_from(["dev-idp", "--listen", "0.0.0.0:8081"]).unwrap();
        let error = cli.into_config().unwrap_err();
        assert_eq!(error, ConfigError::NotLoopback("0.0.0.0:8081".parse().unwrap()));
        assert!(error.to_string().contains("--i-know-this-is-not-for-production"), "{error}");

        let cli = Cli::try_parse_from(["dev-idp", "--listen", "0.0.0.0:8081", "--i-know-this-is-not-for-production"]);
        let config = cli.unwrap().into_config().unwrap();
        assert_eq!(config.exposure(), Ok(crate::config::Exposure::NonLoopback));
        assert!(config.allow_non_loopback);

        for (loopback, expected) in
            [("localhost:9000", "127.0.0.1:9000"), ("LOCALHOST:0", "127.0.0.1:0"), ("[::1]:9000", "[::1]:9000")]
        {
            let config = Cli::try_parse_from(["dev-idp", "--listen", loopback]).unwrap().into_config().unwrap();
            assert_eq!(config.listen, expected.parse::<SocketAddr>().unwrap(), "{loopback}");
            assert!(!config.allow_non_loopback);
        }
        for bad in ["localhost", "localhost:port", "example.com:80"] {
            assert!(Cli::try_parse_from(["dev-idp", "--listen", bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn rotate_key_takes_the_data_dir_before_or_after_it() {
        for args in [
            &["dev-idp", "rotate-key", "--data-dir", "/tmp/keys"][..],
            &["dev-idp", "--data-dir", "/tmp/keys", "rotate-key"][..],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert_eq!(cli.command, Some(Command::RotateKey), "{args:?}");
            assert_eq!(cli.data_dir, PathBuf::from("/tmp/keys"), "{args:?}");
        }
        assert!(Cli::try_parse_from(["dev-idp", "rotate-key", "--listen", "127.0.0.1:1"]).is_err());
    }
}
