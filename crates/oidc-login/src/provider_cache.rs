//! The provider's public documents — discovery and the key set (JWKS) —
//! kept in `localStorage` between page loads for as long as the provider's
//! `Cache-Control: max-age` allows (at most [`MAX_REUSE_SECONDS`]), so a
//! reload asks the provider only for tokens.
//!
//! Only documents anyone may fetch are kept here, never a token. What is
//! read back is checked again as if it had just been fetched (the issuer of
//! discovery, the keys of a JWKS); an entry that is expired, malformed, or
//! fails those checks is dropped and the document fetched again. Key
//! rotation stays safe: a token naming a `kid` the remembered set lacks makes
//! [`crate::signature::ProviderKeys`] ask the provider itself, once, before
//! it fails.

use serde_json::Value;

use crate::browser::{self, StorageArea};
use crate::json::{self, Fields};

/// The longest a document is reused, whatever its `max-age` says: a
/// provider that announces a year still gets asked daily.
pub const MAX_REUSE_SECONDS: i64 = 24 * 3600;

const PREFIX: &str = "oidc-login.provider-cache.";

/// How long an answer may be reused, in seconds, as its `Cache-Control`
/// header says (less its `Age`, when the browser lets us read it): `max-age`,
/// capped at [`MAX_REUSE_SECONDS`]. `None` — do not keep it — without the
/// header or a readable `max-age`, with `no-store` or `no-cache`, or when
/// nothing of the lifetime is left.
pub fn reuse_seconds(cache_control: Option<&str>, age: Option<&str>) -> Option<i64> {
    let mut max_age: Option<i64> = None;
    for directive in cache_control?.split(',') {
        let (name, value) = match directive.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim().trim_matches('"'))),
            None => (directive.trim(), None),
        };
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return None;
        }
        if name.eq_ignore_ascii_case("max-age") {
            // A malformed value makes the whole answer unreusable; of two
            // values (a malformed header too), the shorter wins.
            let seconds = value?.parse::<i64>().ok()?;
            max_age = Some(max_age.map_or(seconds, |earlier| earlier.min(seconds)));
        }
    }
    let age = age.and_then(|age| age.trim().parse::<i64>().ok()).unwrap_or(0).max(0);
    let seconds = max_age?.saturating_sub(age).min(MAX_REUSE_SECONDS);
    (seconds > 0).then_some(seconds)
}

/// One kept document.
#[derive(Debug)]
struct Entry {
    /// Where it was fetched from (also in the storage key; checked again).
    url: String,
    /// When it was fetched, in seconds since the Unix epoch.
    stored_at: i64,
    /// Until when it may be reused.
    expires_at: i64,
    /// The document, as the provider sent it.
    body: String,
}

impl Entry {
    /// The entry as stored.
    fn to_json(&self) -> String {
        json::to_string(&json::object([
            ("url", Value::String(self.url.clone())),
            ("stored_at", Value::from(self.stored_at)),
            ("expires_at", Value::from(self.expires_at)),
            ("body", Value::String(self.body.clone())),
        ]))
    }

    /// A stored entry, if `text` is one.
    fn parse(text: &str) -> Option<Entry> {
        let record = json::parse(text).ok()?;
        let fields = Fields::of(&record).ok()?;
        Some(Entry {
            url: fields.string("url").ok()?,
            stored_at: fields.i64("stored_at").ok()?,
            expires_at: fields.i64("expires_at").ok()?,
            body: fields.string("body").ok()?,
        })
    }
}

/// The `localStorage` key of the document kept for `url`.
pub fn storage_key(url: &str) -> String {
    format!("{PREFIX}{url}")
}

/// The document kept for `url`, if it may still be used `now`. An entry
/// that is expired, malformed, from the future (the clock went back) or
/// longer-lived than allowed is removed.
pub fn recall(url: &str, now: i64) -> Option<String> {
    let key = storage_key(url);
    let text = browser::storage_get(StorageArea::Local, &key)?;
    let usable = Entry::parse(&text).filter(|entry| {
        entry.url == url
            && entry.stored_at <= now
            && now < entry.expires_at
            && entry.expires_at - entry.stored_at <= MAX_REUSE_SECONDS
    });
    if usable.is_none() {
        browser::storage_remove(StorageArea::Local, &key);
    }
    usable.map(|entry| entry.body)
}

/// Keeps `body`, fetched from `url` at `now`, for `reuse` seconds (see
/// [`reuse_seconds`]); with `None`, drops any earlier copy instead. Storage
/// that is full or disabled only means the next load fetches again.
pub fn keep(url: &str, body: &str, reuse: Option<i64>, now: i64) {
    let Some(seconds) = reuse.map(|seconds| seconds.min(MAX_REUSE_SECONDS)).filter(|&seconds| seconds > 0) else {
        forget(url);
        return;
    };
    let entry = Entry { url: url.to_owned(), stored_at: now, expires_at: now + seconds, body: body.to_owned() };
    if browser::storage_set(StorageArea::Local, &storage_key(url), &entry.to_json()).is_err() {
        forget(url);
    }
}

/// Drops the document kept for `url`.
pub fn forget(url: &str) {
    browser::storage_remove(StorageArea::Local, &storage_key(url));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_honoured_and_capped() {
        assert_eq!(reuse_seconds(Some("public, max-age=3600"), None), Some(3600));
        assert_eq!(reuse_seconds(Some("max-age=300"), Some("100")), Some(200));
        assert_eq!(reuse_seconds(Some("Max-Age=\"60\", must-revalidate"), None), Some(60));
        assert_eq!(reuse_seconds(Some("max-age=31536000"), None), Some(MAX_REUSE_SECONDS));
        assert_eq!(reuse_seconds(Some("max-age=60, max-age=10"), None), Some(10));
    }

    #[test]
    fn without_a_usable_lifetime_nothing_is_kept() {
        for header in [None, Some(""), Some("public"), Some("no-store"), Some("max-age=60, no-store")] {
            assert_eq!(reuse_seconds(header, None), None, "{header:?}");
        }
        for header in ["no-cache", "max-age=60, no-cache=\"Set-Cookie\"", "max-age=0", "max-age=-5", "max-age=x"] {
            assert_eq!(reuse_seconds(Some(header), None), None, "{header}");
        }
        assert_eq!(reuse_seconds(Some("max-age=60"), Some("60")), None, "nothing is left of its lifetime");
        assert_eq!(reuse_seconds(Some("max-age=60"), Some("junk")), Some(60), "an unreadable Age is no age");
    }
}
