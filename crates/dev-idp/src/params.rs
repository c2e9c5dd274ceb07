//! Strict parsing of `application/x-www-form-urlencoded` parameters.
//!
//! RFC 6749 §3.1 and §3.2 say request parameters must not be repeated, and a
//! repeated `redirect_uri` or `code` is exactly the kind of ambiguity an
//! attacker likes. Off-the-shelf extractors keep the first or the last value
//! silently, so the endpoints parse with this instead.

use std::collections::BTreeMap;

/// The parameters of one request, each name at most once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Params {
    values: BTreeMap<String, String>,
    repeated: Vec<String>,
}

impl Params {
    /// Parses a query string or form body. Empty values count as absent,
    /// as RFC 6749 §3.1 asks.
    pub(crate) fn parse(input: &[u8]) -> Params {
        let mut params = Params::default();
        for (name, value) in url::form_urlencoded::parse(input) {
            if value.is_empty() {
                continue;
            }
            if params.values.contains_key(name.as_ref()) {
                if !params.repeated.iter().any(|r| r == name.as_ref()) {
                    params.repeated.push(name.into_owned());
                }
            } else {
                params.values.insert(name.into_owned(), value.into_owned());
            }
        }
        params
    }

    /// The value of `name`, if it was sent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Whether `name` was sent more than once.
    pub(crate) fn is_repeated(&self, name: &str) -> bool {
        self.repeated.iter().any(|r| r == name)
    }

    /// The first of `names` that was sent more than once, if any.
    pub(crate) fn first_repeated<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
        names.into_iter().find(|name| self.is_repeated(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_noticed_and_blanks_ignored() {
        let params = Params::parse(b"a=1&b=&c=x%20y&a=2&d=+");
        assert_eq!(params.get("a"), Some("1"));
        assert!(params.is_repeated("a"));
        assert_eq!(params.get("b"), None);
        assert_eq!(params.get("c"), Some("x y"));
        assert_eq!(params.get("d"), Some(" "));
        assert_eq!(params.first_repeated(["c", "a"]), Some("a"));
    }
}
