//! The comparison of a proof's `htu` with the URL of the request.
//!
//! RFC 9449 §4.3 point 9 compares the two "ignoring any query and fragment
//! parts", and recommends syntax- and scheme-based normalisation (RFC 3986
//! §6.2.2 and §6.2.3) first, so that a client writing `HTTPS://Example.com:443/a`
//! and a server seeing `https://example.com/a` agree. [`normalize_htu`] does
//! that with the WHATWG URL parser (the one browsers use to build the URL
//! they sign): scheme and host lowercased, the scheme's default port
//! dropped, an empty path made `/`, dot segments resolved, and the query and
//! fragment cut off. Both sides go through it, so what is compared is two
//! serialisations by the same parser.

use url::Url;

/// A URL [`normalize_htu`] cannot take: not absolute, not `http` or
/// `https`, or with user information (which no request URL carries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an absolute http(s) URL without user information")]
pub struct InvalidUrl;

/// `url` normalised for comparison as an `htu`: lowercase scheme and host,
/// no default port, no query, no fragment.
///
/// Only `http` and `https` are taken: a DPoP proof names an HTTP request,
/// and refusing other schemes keeps odd URLs (`data:`, `file:`) from ever
/// comparing equal to anything.
pub fn normalize_htu(url: &str) -> Result<String, InvalidUrl> {
    let mut parsed = Url::parse(url).map_err(|_| InvalidUrl)?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none_or(str::is_empty)
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(InvalidUrl);
    }
    parsed.set_query(None);
    parsed.set_fragment(None);
    Ok(parsed.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equivalent_spellings_normalise_alike() {
        let canonical = "https://example.com/api/v1/projects";
        for spelling in [
            "https://example.com/api/v1/projects",
            "HTTPS://EXAMPLE.COM/api/v1/projects",
            "https://Example.Com:443/api/v1/projects",
            "https://example.com/api/v1/projects?page=2",
            "https://example.com/api/v1/projects#top",
            "https://example.com/api/v1/projects?page=2#top",
            "https://example.com/api/v1/./projects",
            "https://example.com/api/v1/x/../projects",
        ] {
            assert_eq!(normalize_htu(spelling).as_deref(), Ok(canonical), "{spelling}");
        }
        assert_eq!(normalize_htu("http://127.0.0.1:80").as_deref(), Ok("http://127.0.0.1/"));
        assert_eq!(normalize_htu("http://127.0.0.1:8080/a").as_deref(), Ok("http://127.0.0.1:8080/a"));
        assert_eq!(normalize_htu("http://[::1]:3000/a").as_deref(), Ok("http://[::1]:3000/a"));
    }

    #[test]
    fn differences_that_matter_survive() {
        let base = normalize_htu("https://example.com/api/v1/projects").unwrap();
        for other in [
            "http://example.com/api/v1/projects",
            "https://example.com:8443/api/v1/projects",
            "https://example.org/api/v1/projects",
            "https://example.com/api/v1/projects/",
            "https://example.com/api/v1/Projects",
            "https://example.com/api/v2/projects",
        ] {
            assert_ne!(normalize_htu(other).unwrap(), base, "{other}");
        }
    }

    #[test]
    fn non_http_or_relative_urls_are_refused() {
        for bad in [
            "",
            "/api/v1/projects",
            "example.com/a",
            "ftp://example.com/a",
            "data:text/plain,x",
            "file:///etc/passwd",
            "https://user:pw@example.com/a",
            "https://user@example.com/a",
            "http://",
            "https://exa mple.com/",
        ] {
            assert_eq!(normalize_htu(bad), Err(InvalidUrl), "{bad}");
        }
    }
}
