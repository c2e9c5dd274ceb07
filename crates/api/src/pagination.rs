//! List pagination, the way GitHub's REST API does it.
//!
//! Requests choose a slice with `?page=` (1-based, default 1) and
//! `?per_page=` (default [`DEFAULT_PER_PAGE`], at most [`MAX_PER_PAGE`], both
//! from `contract::api`); anything else in the query is ignored. A value that
//! is not a plain decimal number, or out of range, is a `400`, never clamped
//! silently: a client asking for 500 rows per page should learn that it gets
//! at most 100.
//!
//! Responses carry the page as a bare JSON array, the size of the whole list
//! in [`TOTAL_COUNT_HEADER`] (`X-Total-Count`), and an RFC 8288 `Link` header whose targets are
//! *relative* references (`</api/v1/projects?page=3&per_page=20>; rel="next"`),
//! resolved by clients against the request URL; that keeps them right behind
//! any proxy, including the SPA's same-origin one. As on GitHub, `first` and
//! `prev` appear only after the first page, `next` and `last` only before the
//! last one, and there is no `Link` header when everything fits one page.

use std::fmt::Write;
use std::sync::LazyLock;

use axum::http::header::{CONTENT_TYPE, LINK};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use contract::api::{DEFAULT_PER_PAGE, MAX_PER_PAGE, TOTAL_COUNT_HEADER};
use serde::Serialize;
use store::{Page, PageRequest};

use crate::error::ApiError;

/// [`TOTAL_COUNT_HEADER`] in lower case, which is how `HeaderName` wants a
/// name at compile time (header names are case-insensitive). Built by a
/// `const fn`, so a name that is not a valid header fails the build rather
/// than a request.
const TOTAL_COUNT_LOWER: [u8; TOTAL_COUNT_HEADER.len()] = ascii_lowercase(TOTAL_COUNT_HEADER);

/// The header carrying the size of the whole list ([`TOTAL_COUNT_HEADER`]).
pub static X_TOTAL_COUNT: HeaderName = HeaderName::from_static(match std::str::from_utf8(&TOTAL_COUNT_LOWER) {
    Ok(name) => name,
    Err(_) => panic!("TOTAL_COUNT_HEADER is ASCII"),
});

/// `text` with ASCII letters in lower case; `N` is its length in bytes.
const fn ascii_lowercase<const N: usize>(text: &str) -> [u8; N] {
    let bytes = text.as_bytes();
    let mut lower = [0; N];
    let mut index = 0;
    while index < N {
        lower[index] = bytes[index].to_ascii_lowercase();
        index += 1;
    }
    lower
}

/// Room made per item before a page is serialised: a demo project takes
/// about 130 bytes of JSON, a user about 120; a longer one costs one regrowth.
const BODY_BYTES_PER_ITEM: usize = 160;

const BAD_PAGE: &str = "page must be a whole number of at least 1";
/// Spells [`MAX_PER_PAGE`], so it is built once from it.
static BAD_PER_PAGE: LazyLock<String> =
    LazyLock::new(|| format!("per_page must be a whole number between 1 and {MAX_PER_PAGE}"));
const BAD_QUERY: &str = "page and per_page may each be given once";

/// The requested slice of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    /// The page number, from 1.
    pub page: u32,
    /// Items per page, 1 to [`MAX_PER_PAGE`].
    pub per_page: u32,
}

impl Default for Pagination {
    fn default() -> Self {
        Pagination { page: 1, per_page: DEFAULT_PER_PAGE }
    }
}

impl Pagination {
    /// Reads `page` and `per_page` from a raw query string.
    pub fn from_query(query: Option<&str>) -> Result<Pagination, ApiError> {
        let mut page = None;
        let mut per_page = None;
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let (slot, bad) = match &*name {
                "page" => (&mut page, BAD_PAGE),
                "per_page" => (&mut per_page, BAD_PER_PAGE.as_str()),
                _ => continue,
            };
            if slot.is_some() {
                return Err(ApiError::BadRequest(BAD_QUERY));
            }
            *slot = Some(parse_number(&value).ok_or(ApiError::BadRequest(bad))?);
        }
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        if page == 0 {
            return Err(ApiError::BadRequest(BAD_PAGE));
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(ApiError::BadRequest(BAD_PER_PAGE.as_str()));
        }
        Ok(Pagination { page, per_page })
    }

    /// The store's view of the same slice.
    pub fn request(self) -> PageRequest {
        PageRequest { page: self.page, per_page: self.per_page }
    }

    /// The number of the last page for a list of `total` items (1 for an empty list).
    pub fn last_page(self, total: u64) -> u32 {
        let pages = total.div_ceil(u64::from(self.per_page)).max(1);
        u32::try_from(pages).unwrap_or(u32::MAX)
    }

    /// The `Link` header value for this page of the list at `path`, or
    /// `None` when there is nowhere else to go.
    pub fn link_header(self, path: &str, total: u64) -> Option<HeaderValue> {
        let last = self.last_page(total);
        let mut links = String::new();
        let mut add = |page: u32, rel: &str| {
            if !links.is_empty() {
                links.push_str(", ");
            }
            // Writing into a String cannot fail.
            let _ = write!(links, "<{path}?page={page}&per_page={}>; rel=\"{rel}\"", self.per_page);
        };
        if self.page > 1 {
            add(1, "first");
            // Past the end, "previous" is the last page that has items.
            add((self.page - 1).min(last), "prev");
        }
        if self.page < last {
            add(self.page + 1, "next");
            add(last, "last");
        }
        if links.is_empty() { None } else { HeaderValue::try_from(links).ok() }
    }

    /// The response for one page of the list at `path`: the items as a JSON
    /// array, `X-Total-Count` and `Link`.
    ///
    /// The array is written straight into the body's buffer, sized up front
    /// for a typical page ([`BODY_BYTES_PER_ITEM`]): `axum::Json` starts at
    /// 128 bytes and doubles, which for a page of 20 projects meant five
    /// reallocations and copies per request.
    pub fn respond<T: Serialize>(self, path: &str, page: Page<T>) -> Response {
        let mut body = Vec::with_capacity(2 + page.items.len() * BODY_BYTES_PER_ITEM);
        if let Err(error) = serde_json::to_writer(&mut body, &page.items) {
            // The wire types serialise infallibly; this is a bug, not input.
            tracing::error!("cannot serialise a page of {path}: {error}");
            return ApiError::Internal.into_response();
        }
        let mut response = ([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
        let headers = response.headers_mut();
        headers.insert(X_TOTAL_COUNT.clone(), HeaderValue::from(page.total));
        if let Some(link) = self.link_header(path, page.total) {
            headers.insert(LINK, link);
        }
        response
    }
}

/// A plain decimal number: no sign, no spaces, no exponent, fits a `u32`.
fn parse_number(value: &str) -> Option<u32> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<Pagination, &'static str> {
        Pagination::from_query(Some(query)).map_err(|e| match e {
            ApiError::BadRequest(reason) => reason,
            other => panic!("unexpected {other:?}"),
        })
    }

    #[test]
    fn defaults_and_explicit_values() {
        assert_eq!(Pagination::from_query(None).unwrap(), Pagination { page: 1, per_page: DEFAULT_PER_PAGE });
        assert_eq!(parse("").unwrap(), Pagination { page: 1, per_page: DEFAULT_PER_PAGE });
        assert_eq!(parse("page=3&per_page=100").unwrap(), Pagination { page: 3, per_page: 100 });
        assert_eq!(parse("per_page=1&sort=x&page=%32").unwrap(), Pagination { page: 2, per_page: 1 });
        assert_eq!(parse("page=4294967295").unwrap().page, u32::MAX);
    }

    #[test]
    fn the_limits_are_the_contract_s() {
        assert_eq!(parse(&format!("per_page={MAX_PER_PAGE}")).unwrap().per_page, MAX_PER_PAGE);
        let over = parse(&format!("per_page={}", MAX_PER_PAGE + 1)).unwrap_err();
        assert!(over.ends_with(&format!("between 1 and {MAX_PER_PAGE}")), "{over}");
        assert!(TOTAL_COUNT_HEADER.eq_ignore_ascii_case(X_TOTAL_COUNT.as_str()));
    }

    #[test]
    fn bad_values_are_refused() {
        for (query, reason) in [
            ("page=0", BAD_PAGE),
            ("page=-1", BAD_PAGE),
            ("page=+1", BAD_PAGE),
            ("page=1.5", BAD_PAGE),
            ("page=", BAD_PAGE),
            ("page=abc", BAD_PAGE),
            ("page=4294967296", BAD_PAGE),
            ("page=99999999999999999999999", BAD_PAGE),
            ("page=%FF", BAD_PAGE),
            ("page=%201", BAD_PAGE),
            ("per_page=0", BAD_PER_PAGE.as_str()),
            ("per_page=101", BAD_PER_PAGE.as_str()),
            ("per_page=1e2", BAD_PER_PAGE.as_str()),
            ("page=1&page=2", BAD_QUERY),
        ] {
            assert_eq!(parse(query), Err(reason), "{query}");
        }
    }

    #[test]
    fn links_follow_github() {
        let p = |page| Pagination { page, per_page: 10 };
        let link = |page, total| p(page).link_header("/l", total).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(link(1, 5), None);
        assert_eq!(link(1, 0), None);
        assert_eq!(link(1, 25).unwrap(), r#"</l?page=2&per_page=10>; rel="next", </l?page=3&per_page=10>; rel="last""#);
        assert_eq!(
            link(2, 25).unwrap(),
            r#"</l?page=1&per_page=10>; rel="first", </l?page=1&per_page=10>; rel="prev", </l?page=3&per_page=10>; rel="next", </l?page=3&per_page=10>; rel="last""#
        );
        assert_eq!(
            link(3, 25).unwrap(),
            r#"</l?page=1&per_page=10>; rel="first", </l?page=2&per_page=10>; rel="prev""#
        );
        assert_eq!(
            link(9, 25).unwrap(),
            r#"</l?page=1&per_page=10>; rel="first", </l?page=3&per_page=10>; rel="prev""#
        );
        assert_eq!(p(u32::MAX).last_page(u64::MAX), u32::MAX);
    }
}
