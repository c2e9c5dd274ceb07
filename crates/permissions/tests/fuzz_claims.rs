//! Property tests of the claim parser (`cargo xtask fuzz`, target `claims`, and a few cases in every
//! `cargo test`; see `fuzz/harness.rs`): [`ClaimPath`] and JSON Pointers, [`Capabilities::from_claims`] and
//! [`RoleMap`] on arbitrary JSON. None of them may panic, whatever a token or `/config.json` holds, and what
//! they read must be exactly what the documented shapes allow.
#![cfg(not(target_arch = "wasm32"))]
// Test code: a failed unwrap is a failed test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "fuzz/harness.rs"]
mod harness;

use std::collections::BTreeSet;

use harness::{arb, check};
use permissions::{
    Capabilities, ClaimPath, ClaimPathError, ClaimWarning, MAX_PERMISSION_LEN, MAX_PERMISSIONS, Permission, RoleMap,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// A claim path as an operator might configure one: a name, a pointer (well-formed or not), or any text.
fn raw_path() -> impl Strategy<Value = String> {
    prop_oneof![
        arb::text(),
        prop::collection::vec(arb::text(), 0..4).prop_map(|tokens| tokens.iter().map(|t| format!("/{t}")).collect()),
    ]
}

/// RFC 6901 §3: `~` is written `~0` and `/` is written `~1` inside a reference token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The reference tokens of a pointer: its `/`-separated parts, unescaped (`~1` before `~0`, RFC 6901 §4, so that
/// `~01` reads as `~1`).
fn tokens(pointer: &str) -> Vec<String> {
    pointer.split('/').skip(1).map(|t| t.replace("~1", "/").replace("~0", "~")).collect()
}

/// `value` placed at `path` inside `around` (made an object where it is not), as a provider would nest it.
fn plant(around: Value, tokens: &[String], value: Value) -> Value {
    let Some((first, rest)) = tokens.split_first() else { return value };
    let mut object = match around {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let inner = object.remove(first).unwrap_or(Value::Null);
    object.insert(first.clone(), plant(inner, rest, value));
    Value::Object(object)
}

/// What `from_claims` must read from the value found at the path: the entries of the accepted shapes, then
/// only the non-empty ones of at most [`MAX_PERMISSION_LEN`] bytes, once each, the first [`MAX_PERMISSIONS`].
fn expected_names(found: Option<&Value>) -> Vec<String> {
    let strings = |items: &Vec<Value>| -> Vec<String> {
        items.iter().filter_map(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    };
    let entries: Vec<String> = match found {
        Some(Value::Array(items)) => strings(items),
        Some(Value::String(s)) => s.split_ascii_whitespace().map(str::to_owned).collect(),
        Some(Value::Object(map)) => match map.get("permissions") {
            Some(Value::Array(items)) => strings(items),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    let mut names: Vec<String> = Vec::new();
    for entry in entries.into_iter().filter(|e| e.len() <= MAX_PERMISSION_LEN) {
        if !names.contains(&entry) && names.len() < MAX_PERMISSIONS {
            names.push(entry);
        }
    }
    names
}

fn names(capabilities: &Capabilities) -> BTreeSet<String> {
    capabilities.iter().map(|p| p.as_str().to_owned()).collect()
}

/// Checks that the permissions read at `path` are exactly those [`expected_names`] finds, and that the
/// warnings say whether anything was missing or dropped.
fn assert_reads_exactly(claims: &Value, path: &ClaimPath) -> Result<(), TestCaseError> {
    let parsed = Capabilities::from_claims(claims, path);
    let found = path.lookup(claims);
    let expected = expected_names(found);
    prop_assert_eq!(names(&parsed.capabilities), expected.iter().cloned().collect::<BTreeSet<_>>());
    prop_assert!(parsed.capabilities.len() <= MAX_PERMISSIONS);
    for permission in parsed.capabilities.iter() {
        prop_assert!(!permission.as_str().is_empty() && permission.as_str().len() <= MAX_PERMISSION_LEN);
        prop_assert_eq!(&Permission::parse(permission.as_str()), permission, "a name reads back as itself");
    }
    let missing = parsed.warnings.iter().any(|w| matches!(w, ClaimWarning::Missing { .. }));
    prop_assert_eq!(missing, found.is_none(), "Missing is said exactly when nothing is at the path");
    if parsed.warnings.is_empty() {
        // Nothing ignored: every entry of the claim became a permission.
        prop_assert_eq!(parsed.capabilities.len(), expected.len());
    }
    for warning in &parsed.warnings {
        prop_assert!(!warning.to_string().is_empty());
    }
    Ok(())
}

#[test]
fn fuzz_claim_paths_parse_as_documented_and_round_trip() {
    check("permissions::claim_path_parse", raw_path(), |raw| {
        let parsed = ClaimPath::parse(&raw);
        let bad_escape = raw.starts_with('/') && {
            let mut chars = raw.chars();
            let mut bad = false;
            while let Some(c) = chars.next() {
                bad |= c == '~' && !matches!(chars.next(), Some('0' | '1'));
            }
            bad
        };
        match &parsed {
            Err(ClaimPathError::Empty) => prop_assert!(raw.is_empty()),
            Err(ClaimPathError::BadEscape(echo)) => {
                prop_assert!(bad_escape);
                prop_assert_eq!(echo, &raw);
            }
            Ok(path) => {
                prop_assert!(!raw.is_empty() && !bad_escape);
                prop_assert_eq!(matches!(path, ClaimPath::Pointer(_)), raw.starts_with('/'));
                prop_assert_eq!(path.as_str(), raw.as_str());
                prop_assert_eq!(&ClaimPath::parse(&path.to_string()), &parsed, "Display reads back");
                prop_assert_eq!(&raw.parse::<ClaimPath>(), &parsed, "FromStr agrees");
            }
        }
        // Whatever the path, a lookup on any claims never panics.
        if let Ok(path) = parsed {
            for claims in [json!({}), json!(null), json!([1]), json!({ raw.clone(): 1 })] {
                let _ = path.lookup(&claims);
            }
        }
        Ok(())
    });
}

#[test]
fn fuzz_pointers_reach_the_claim_their_tokens_name() {
    let strategy = (prop::collection::vec(arb::text(), 1..5), arb::json(), arb::json());
    check("permissions::pointer_round_trip", strategy, |(tokens_in, around, leaf)| {
        let pointer: String = tokens_in.iter().map(|t| format!("/{}", escape(t))).collect();
        let path = ClaimPath::parse(&pointer).expect("an escaped pointer parses");
        prop_assert_eq!(path.as_str(), pointer.as_str());
        prop_assert_eq!(&tokens(&pointer), &tokens_in, "unescaping the pointer gives its tokens back");
        let claims = plant(around, &tokens_in, leaf.clone());
        prop_assert_eq!(path.lookup(&claims), Some(&leaf));
        Ok(())
    });
}

#[test]
fn fuzz_from_claims_never_panics_on_arbitrary_claims() {
    check("permissions::from_claims_arbitrary", (arb::json(), raw_path()), |(claims, raw)| {
        if let Ok(path) = ClaimPath::parse(&raw) {
            assert_reads_exactly(&claims, &path)?;
        }
        Ok(())
    });
}

/// A permissions claim in one of the accepted shapes (or a near miss), with entries of every kind.
fn claim_value() -> impl Strategy<Value = Value> {
    let entry = prop_oneof![
        4 => arb::text().prop_map(Value::String),
        1 => "[a-z]{120,136}".prop_map(Value::String),
        1 => arb::json(),
    ];
    let list = prop::collection::vec(entry, 0..12);
    prop_oneof![
        3 => list.clone().prop_map(Value::Array),
        2 => prop::collection::vec(arb::text(), 0..8).prop_map(|words| Value::String(words.join(" "))),
        2 => list.prop_map(|items| json!({ "permissions": items })),
        1 => arb::json(),
        // Past the bound, with duplicates.
        1 => (0usize..MAX_PERMISSIONS + 40)
            .prop_map(|n| Value::Array((0..n).map(|i| json!(format!("p:{}", i % (MAX_PERMISSIONS + 7)))).collect())),
    ]
}

#[test]
fn fuzz_from_claims_reads_exactly_the_well_formed_names_present() {
    let strategy = (arb::json(), prop::collection::vec(arb::text(), 1..4), any::<bool>(), claim_value());
    check("permissions::from_claims_planted", strategy, |(around, tokens_in, as_pointer, value)| {
        let claims = plant(around, &tokens_in, value);
        let raw = if as_pointer || tokens_in.len() > 1 || tokens_in[0].starts_with('/') {
            tokens_in.iter().map(|t| format!("/{}", escape(t))).collect()
        } else {
            tokens_in[0].clone()
        };
        match ClaimPath::parse(&raw) {
            Ok(path) => assert_reads_exactly(&claims, &path),
            // Only an empty top-level name is refused.
            Err(error) => {
                prop_assert_eq!(error, ClaimPathError::Empty);
                Ok(())
            }
        }
    });
}

#[test]
fn fuzz_role_maps_never_panic_and_grant_only_what_they_map() {
    let map = prop_oneof![
        arb::json(),
        prop::collection::vec((arb::text(), prop::collection::vec(arb::text(), 0..4)), 0..5)
            .prop_map(|roles| Value::Object(roles.into_iter().map(|(role, ps)| (role, json!(ps))).collect())),
    ];
    let strategy = (map, prop::collection::vec(arb::text(), 0..6), arb::json());
    check("permissions::role_map", strategy, |(map, roles, around)| {
        let Ok(role_map) = RoleMap::from_json(&map) else {
            return Ok(());
        };
        // Accepted: an object of lists of non-empty strings, and nothing else.
        let object = map.as_object().expect("only an object is a role map");
        let mut granted_anywhere = BTreeSet::new();
        for permissions in object.values() {
            for permission in permissions.as_array().expect("only lists are accepted") {
                let name = permission.as_str().expect("only names are accepted");
                prop_assert!(!name.is_empty());
                granted_anywhere.insert(name.to_owned());
            }
        }
        let claims = plant(around, &["realm_access".into(), "roles".into()], json!(roles));
        let parsed = role_map.capabilities(&claims, &ClaimPath::parse("/realm_access/roles").unwrap());
        let expected: BTreeSet<String> = expected_names(Some(&json!(roles)))
            .iter()
            .filter_map(|role| object.get(role))
            .flat_map(|ps| ps.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned))
            .collect();
        prop_assert_eq!(names(&parsed.capabilities), expected.clone());
        prop_assert!(expected.is_subset(&granted_anywhere));
        Ok(())
    });
}
