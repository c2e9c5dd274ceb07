//! From a token's `sub` to a user of the store, where there is one: for the
//! API (the owner of a project it creates) and for dev-idp (the sign-in a
//! logout's hint names).
//!
//! Only the development provider's users live in the store, and it names
//! them `dev-idp|<user id>` (see `dev-idp`'s `claims::subject`). Other
//! providers' subjects (`auth0|…`, `google-oauth2|…`, a Keycloak UUID) have
//! no row here: the store keeps no table linking them to users, so a token
//! from them maps to no one. That is the whole mapping; it lives in
//! [`store_user_id`] alone.

use permissions::names::DEV_IDP_SUBJECT_PREFIX;

/// The store's user id a token's `sub` names: `dev-idp|42` is user 42.
/// `None` for any other subject, including a `dev-idp|` one whose rest is
/// not a plain positive decimal number (no sign, no spaces).
///
/// The id is not checked against the store here: a user deleted since the
/// token was issued still maps, and callers decide what an absent user
/// means (`Store::create_project` stores no owner).
pub fn store_user_id(subject: &str) -> Option<i64> {
    let digits = subject.strip_prefix(DEV_IDP_SUBJECT_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok().filter(|id| *id > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_idp_subjects_map_to_user_ids() {
        assert_eq!(store_user_id("dev-idp|1"), Some(1));
        assert_eq!(store_user_id("dev-idp|42"), Some(42));
        assert_eq!(store_user_id("dev-idp|9223372036854775807"), Some(i64::MAX));
    }

    #[test]
    fn other_subjects_map_to_no_one() {
        for subject in [
            "",
            "42",
            "auth0|42",
            "google-oauth2|1234567890",
            "f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
            "dev-idp|",
            "dev-idp|0",
            "dev-idp|-1",
            "dev-idp|+1",
            "dev-idp| 1",
            "dev-idp|1 ",
            "dev-idp|1.0",
            "dev-idp|abc",
            "dev-idp|9223372036854775808",
            "DEV-IDP|1",
            "dev-idp||1",
            "x|dev-idp|1",
        ] {
            assert_eq!(store_user_id(subject), None, "{subject:?}");
        }
    }
}
