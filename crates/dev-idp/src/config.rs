//! The provider's validated configuration.
//!
//! Everything the command line (or a test) can choose lands here, already
//! checked: SPA origins are bare `http(s)://host[:port]` origins, the issuer
//! is an absolute URL without a trailing slash. The rest of the crate never
//! re-validates these values.
//!
//! # Loopback only, unless told otherwise
//!
//! dev-idp signs anyone in as anyone, admins included, without a password.
//! On a loopback address (127.0.0.0/8, ::1; `--listen localhost:PORT`
//! means 127.0.0.1) only this machine reaches it; on any other address,
//! `0.0.0.0` and `::` included, the whole network gets a password-less
//! admin login. So [`check_exposure`] refuses a non-loopback address unless
//! the configuration says [`Config::allow_non_loopback`], which only the
//! command-line flag [`NOT_FOR_PRODUCTION_FLAG`] sets, and [`crate::serve`]
//! then prints [`non_loopback_warning`] on stderr as it starts.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

/// Default lifetime of access and ID tokens.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);
/// Authorization codes are exchanged by the SPA at once; a minute is plenty.
pub const DEFAULT_CODE_TTL: Duration = Duration::from_secs(60);
/// A working day: long enough that silent sign-in keeps working while developing.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// The absolute lifetime of a refresh-token family: a day after sign-in,
/// however often it is rotated, the user signs in again.
pub const DEFAULT_REFRESH_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
/// A refresh token unused for a working day is dead (its family with it).
pub const DEFAULT_REFRESH_IDLE_TTL: Duration = Duration::from_secs(8 * 3600);
/// No reuse interval: any second presentation of a refresh token revokes its family.
pub const DEFAULT_REFRESH_REUSE_INTERVAL: Duration = Duration::ZERO;
/// Refresh-token lifetimes are accepted between a minute and 30 days.
const REFRESH_TTL_RANGE: std::ops::RangeInclusive<u64> = 60..=30 * 24 * 3600;
/// The reuse interval is at most an hour: it exists for responses lost in
/// flight, which is a matter of seconds.
pub const MAX_REFRESH_REUSE_INTERVAL_SECS: u64 = 3600;

/// The flag that lets dev-idp listen on a non-loopback address.
pub const NOT_FOR_PRODUCTION_FLAG: &str = "--i-know-this-is-not-for-production";

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("invalid SPA origin {value:?}: {reason}")]
    InvalidOrigin { value: String, reason: &'static str },
    #[error("at least one SPA origin is required (--spa-origin)")]
    NoOrigins,
    #[error("invalid issuer {value:?}: {reason}")]
    InvalidIssuer { value: String, reason: &'static str },
    #[error(
        "cannot derive an issuer from the listen address {0}: it is not an address a browser can reach; pass --issuer"
    )]
    UnreachableListenAddress(SocketAddr),
    #[error("invalid token lifetime {0} s: it must be between 10 and 86400 seconds")]
    InvalidTokenTtl(u64),
    #[error("invalid refresh-token lifetime {0} s: it must be between 60 and 2592000 seconds (30 days)")]
    InvalidRefreshTokenTtl(u64),
    #[error("invalid refresh-token idle lifetime {0} s: it must be between 60 and 2592000 seconds (30 days)")]
    InvalidRefreshIdleTtl(u64),
    #[error("invalid refresh-token reuse interval {0} s: it must be between 0 and 3600 seconds")]
    InvalidRefreshReuseInterval(u64),
    #[error(
        "refusing to listen on {0}: it is not a loopback address, and dev-idp signs anyone who reaches it in as \
         any user, admins included, without a password. Listen on 127.0.0.1 or ::1 (or localhost), or pass \
         {flag} if you really mean to expose it (never in production)",
        flag = NOT_FOR_PRODUCTION_FLAG
    )]
    NotLoopback(SocketAddr),
}

/// Who can reach the provider, by its listen address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposure {
    /// This machine only.
    Loopback,
    /// Anyone who can route to the address: allowed only with
    /// [`NOT_FOR_PRODUCTION_FLAG`].
    NonLoopback,
}

/// Whether `ip` is a loopback address: 127.0.0.0/8, ::1, or 127.0.0.0/8
/// written as an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`). The
/// unspecified addresses (`0.0.0.0`, `::`) listen on every interface, so
/// they are not.
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// Decides whether the provider may listen on `listen`: a loopback address
/// always, any other only when `allow_non_loopback` (the
/// [`NOT_FOR_PRODUCTION_FLAG`]) says so.
pub fn check_exposure(listen: SocketAddr, allow_non_loopback: bool) -> Result<Exposure, ConfigError> {
    if is_loopback(listen.ip()) {
        Ok(Exposure::Loopback)
    } else if allow_non_loopback {
        Ok(Exposure::NonLoopback)
    } else {
        Err(ConfigError::NotLoopback(listen))
    }
}

/// What dev-idp prints on stderr when it starts on the non-loopback `listen`.
pub fn non_loopback_warning(listen: SocketAddr) -> String {
    let rule = "!".repeat(78);
    format!(
        "{rule}\n\
         !! WARNING: dev-idp is listening on {listen}, which is NOT a loopback address ({NOT_FOR_PRODUCTION_FLAG}).\n\
         !! Anyone who can reach it can sign in as any user, admins included, WITHOUT A PASSWORD.\n\
         !! It is a development tool: never use it in production, nor on a network you do not trust.\n\
         {rule}"
    )
}

/// A web origin (`scheme://host[:port]`) where the SPA is served.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpaOrigin(String);

impl SpaOrigin {
    /// Parses and normalises an origin. A single trailing slash is tolerated
    /// because it is unambiguous; any other path, a query, a fragment or
    /// credentials are refused, since an origin has none of them.
    pub fn parse(value: &str) -> Result<SpaOrigin, ConfigError> {
        let invalid = |reason| ConfigError::InvalidOrigin { value: value.to_owned(), reason };
        let url = Url::parse(value.trim()).map_err(|_| invalid("not an absolute URL such as http://127.0.0.1:8080"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("a host is required"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("an origin has no user name or password"));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("an origin has no path, query or fragment (use e.g. http://127.0.0.1:8080)"));
        }
        // `Origin::ascii_serialization` lower-cases the host and drops a
        // default port, exactly as a browser's `Origin` header spells it.
        Ok(SpaOrigin(url.origin().ascii_serialization()))
    }

    /// The origin as browsers send it in the `Origin` header.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The redirect URI this origin registers: the SPA's callback route on
    /// it ([`contract::routes::redirect_uri`]).
    pub fn redirect_uri(&self) -> String {
        contract::routes::redirect_uri(&self.0)
    }

    /// The post-logout redirect URI this origin registers: the SPA's home
    /// on it ([`contract::routes::post_logout_uri`]).
    pub fn post_logout_redirect_uri(&self) -> String {
        contract::routes::post_logout_uri(&self.0)
    }
}

/// The provider's issuer identifier: an absolute http(s) URL with no query,
/// fragment or trailing slash, so endpoint URLs are `{issuer}{path}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Issuer(String);

impl Issuer {
    /// Validates an issuer identifier (OpenID Connect Discovery §3 and RFC 8414 §2).
    pub fn parse(value: &str) -> Result<Issuer, ConfigError> {
        let invalid = |reason| ConfigError::InvalidIssuer { value: value.to_owned(), reason };
        if value.ends_with('/') {
            return Err(invalid("it must not end with a slash (tokens compare `iss` as an exact string)"));
        }
        let url = Url::parse(value).map_err(|_| invalid("not an absolute URL such as http://127.0.0.1:8081"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("a host is required"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("an issuer has no query or fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("an issuer has no user name or password"));
        }
        // Keep the caller's spelling (minus nothing): `iss` is compared as a
        // string by relying parties, so it must be what they were told.
        Ok(Issuer(value.to_owned()))
    }

    /// The default issuer for a listen address: `http://{address}`.
    pub fn from_listen_address(address: SocketAddr) -> Result<Issuer, ConfigError> {
        if address.ip().is_unspecified() || address.port() == 0 {
            return Err(ConfigError::UnreachableListenAddress(address));
        }
        Issuer::parse(&format!("http://{address}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The absolute URL of one of the provider's endpoints.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }

    /// Whether the provider is reached over TLS (its cookies are then `Secure`).
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything needed to start the provider.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen. Port 0 picks a free port (the issuer then follows it).
    pub listen: SocketAddr,
    /// The SQLite file shared with the API.
    pub database: PathBuf,
    /// Where the signing key lives.
    pub data_dir: PathBuf,
    /// The SPA origins: each registers its redirect and post-logout URIs
    /// (see [`SpaOrigin`]) and may call the provider cross-origin.
    pub spa_origins: Vec<SpaOrigin>,
    /// The issuer; `None` means `http://{actual listen address}`.
    pub issuer: Option<Issuer>,
    /// Lifetime of access and ID tokens.
    pub token_ttl: Duration,
    /// Absolute lifetime of a refresh-token family (from sign-in).
    pub refresh_token_ttl: Duration,
    /// How long a refresh token may stay unused.
    pub refresh_idle_ttl: Duration,
    /// For how long after its rotation a refresh token may be presented
    /// again without revoking its family (see [`crate::refresh_tokens`]).
    pub refresh_reuse_interval: Duration,
    /// Whether DPoP proofs at the token endpoint must carry a server nonce
    /// (RFC 9449 §8; `--dpop-nonce`).
    pub dpop_nonce: bool,
    /// Whether a token request without a DPoP proof is refused (`--require-dpop`).
    pub require_dpop: bool,
    /// Whether `listen` may be a non-loopback address (see
    /// [`check_exposure`]); only [`NOT_FOR_PRODUCTION_FLAG`] sets it.
    pub allow_non_loopback: bool,
}

impl Config {
    /// Checks the cross-field rules.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.exposure()?;
        if self.spa_origins.is_empty() {
            return Err(ConfigError::NoOrigins);
        }
        let ttl = self.token_ttl.as_secs();
        // Down to 10 s, so tests and demos can watch several renewals in a minute.
        if !(10..=86_400).contains(&ttl) {
            return Err(ConfigError::InvalidTokenTtl(ttl));
        }
        let refresh_ttl = self.refresh_token_ttl.as_secs();
        if !REFRESH_TTL_RANGE.contains(&refresh_ttl) {
            return Err(ConfigError::InvalidRefreshTokenTtl(refresh_ttl));
        }
        let idle_ttl = self.refresh_idle_ttl.as_secs();
        if !REFRESH_TTL_RANGE.contains(&idle_ttl) {
            return Err(ConfigError::InvalidRefreshIdleTtl(idle_ttl));
        }
        let reuse = self.refresh_reuse_interval.as_secs();
        if reuse > MAX_REFRESH_REUSE_INTERVAL_SECS {
            return Err(ConfigError::InvalidRefreshReuseInterval(reuse));
        }
        Ok(())
    }

    /// Who can reach the provider on [`Config::listen`], if it may listen there.
    pub fn exposure(&self) -> Result<Exposure, ConfigError> {
        check_exposure(self.listen, self.allow_non_loopback)
    }

    /// The issuer to advertise once the listener is bound to `local`.
    pub fn issuer_for(&self, local: SocketAddr) -> Result<Issuer, ConfigError> {
        match &self.issuer {
            Some(issuer) => Ok(issuer.clone()),
            None => Issuer::from_listen_address(local),
        }
    }
}

/// Parses a list of origins, dropping duplicates but keeping their order.
pub fn parse_origins<S: AsRef<str>>(values: &[S]) -> Result<Vec<SpaOrigin>, ConfigError> {
    let mut origins: Vec<SpaOrigin> = Vec::new();
    for value in values {
        let value = value.as_ref().trim();
        if value.is_empty() {
            continue;
        }
        let origin = SpaOrigin::parse(value)?;
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    if origins.is_empty() {
        return Err(ConfigError::NoOrigins);
    }
    Ok(origins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_and_checked() {
        assert_eq!(SpaOrigin::parse("http://127.0.0.1:8080").unwrap().as_str(), "http://127.0.0.1:8080");
        assert_eq!(SpaOrigin::parse("HTTP://LocalHost:8080/").unwrap().as_str(), "http://localhost:8080");
        assert_eq!(SpaOrigin::parse("https://app.example:443").unwrap().as_str(), "https://app.example");
        for bad in ["ftp://x", "http://x/app", "http://x?q", "127.0.0.1:8080", "http://u:p@x", "http://x/#f"] {
            assert!(matches!(SpaOrigin::parse(bad), Err(ConfigError::InvalidOrigin { .. })), "{bad}");
        }
        let origin = SpaOrigin::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(origin.redirect_uri(), "http://127.0.0.1:8080/callback");
        assert_eq!(origin.post_logout_redirect_uri(), "http://127.0.0.1:8080/");
    }

    #[test]
    fn origin_lists_drop_blanks_and_duplicates() {
        let origins = parse_origins(&["http://a:1", " ", "http://a:1/", "http://b:2"]).unwrap();
        assert_eq!(origins.iter().map(SpaOrigin::as_str).collect::<Vec<_>>(), ["http://a:1", "http://b:2"]);
        assert_eq!(parse_origins::<&str>(&[]), Err(ConfigError::NoOrigins));
    }

    #[test]
    fn only_loopback_addresses_are_allowed_without_the_flag() {
        for loopback in ["127.0.0.1:8081", "127.255.0.9:0", "[::1]:8081", "[::ffff:127.0.0.1]:8081"] {
            let address: SocketAddr = loopback.parse().unwrap();
            assert_eq!(check_exposure(address, false), Ok(Exposure::Loopback), "{loopback}");
            assert_eq!(check_exposure(address, true), Ok(Exposure::Loopback), "{loopback}");
        }
        for exposed in
            ["0.0.0.0:8081", "[::]:8081", "192.168.1.20:8081", "10.0.0.1:0", "[2001:db8::1]:80", "[::ffff:10.0.0.1]:1"]
        {
            let address: SocketAddr = exposed.parse().unwrap();
            assert_eq!(check_exposure(address, false), Err(ConfigError::NotLoopback(address)), "{exposed}");
            assert_eq!(check_exposure(address, true), Ok(Exposure::NonLoopback), "{exposed}");
        }
        let message = ConfigError::NotLoopback("0.0.0.0:8081".parse().unwrap()).to_string();
        assert!(message.contains(NOT_FOR_PRODUCTION_FLAG) && message.contains("0.0.0.0:8081"), "{message}");
        let warning = non_loopback_warning("0.0.0.0:8081".parse().unwrap());
        assert!(warning.contains("WARNING") && warning.contains("WITHOUT A PASSWORD"), "{warning}");
    }

    #[test]
    fn issuers_have_no_trailing_slash() {
        assert!(Issuer::parse("http://127.0.0.1:8081").is_ok());
        assert!(Issuer::parse("https://idp.example/tenant").is_ok());
        for bad in ["http://127.0.0.1:8081/", "127.0.0.1:8081", "ftp://x", "http://x?a=b"] {
            assert!(matches!(Issuer::parse(bad), Err(ConfigError::InvalidIssuer { .. })), "{bad}");
        }
        let listen: SocketAddr = "127.0.0.1:8081".parse().unwrap();
        assert_eq!(Issuer::from_listen_address(listen).unwrap().as_str(), "http://127.0.0.1:8081");
        let any: SocketAddr = "0.0.0.0:8081".parse().unwrap();
        assert!(Issuer::from_listen_address(any).is_err());
    }
}
