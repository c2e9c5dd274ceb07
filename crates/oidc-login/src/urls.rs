//! URL rules, checked with the browser's own parser (the WHATWG URL
//! standard, through `web_sys::Url`), so that a check reads a URL exactly as
//! the request or navigation that follows it will: no string rule to be
//! fooled by user info (`http://127.0.0.1:1@evil.example/`), backslashes or
//! odd host spellings.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Whether `url` is acceptable as a provider URL (an issuer, an endpoint, an
/// absolute API base): `https`, or `http` on a loopback host (a development
/// provider); no user name or password, query or fragment. Returns why not,
/// otherwise.
pub fn check_provider_url(url: &str) -> Result<(), String> {
    let not_http = || format!("`{url}` is not an http(s) URL");
    let parsed = web_sys::Url::new(url).map_err(|_| not_http())?;
    let host = parsed.hostname();
    match parsed.protocol().as_str() {
        "https:" => {}
        "http:" if is_loopback(&host) => {}
        "http:" => {
            return Err(format!("`{url}` must use https (plain http is allowed for loopback addresses only)"));
        }
        _ => return Err(not_http()),
    }
    // Chromium percent-encodes what the standard forbids in a host (a space
    // becomes `%20`); no real host name has a `%`.
    if host.is_empty() || host.contains('%') {
        return Err(format!("`{url}` has no valid host"));
    }
    if !parsed.username().is_empty() || !parsed.password().is_empty() {
        return Err(format!("`{url}` must not carry a user name or password"));
    }
    // Checked on the text as well: an empty `?` or `#` parses to nothing.
    if url.contains(['#', '?']) || !parsed.search().is_empty() || !parsed.hash().is_empty() {
        return Err(format!("`{url}` must not carry a query or fragment"));
    }
    Ok(())
}

/// Whether `path` is an absolute path that stays on `origin`
/// (`https://app.example`) once the browser resolves it: `/api/v1` does;
/// `//evil.example` and `/\evil.example` (a backslash counts as a slash) do
/// not.
pub fn is_same_origin_path(path: &str, origin: &str) -> bool {
    let Ok(base) = web_sys::Url::new(origin) else { return false };
    path.starts_with('/')
        && web_sys::Url::new_with_base(path, &base.href()).is_ok_and(|resolved| resolved.origin() == base.origin())
}

/// Whether a host, as the URL parser spells it (lower case, IPv4 in dotted
/// decimal, IPv6 in brackets), is this machine: `localhost`, `127.0.0.0/8`
/// or `[::1]`.
fn is_loopback(host: &str) -> bool {
    if host == "localhost" {
        return true;
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return ip.is_loopback();
    }
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse::<Ipv6Addr>().ok())
        .is_some_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "[::1]"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["evil.example", "127.0.0.1.evil.example", "localhost.evil.example", "[::2]", "::1", "10.0.0.1", ""]
        {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
