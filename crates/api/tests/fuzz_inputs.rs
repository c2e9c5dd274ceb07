//! Property tests of the API's request inputs (`cargo xtask fuzz`, target `api-inputs`, and a few cases in
//! every `cargo test`; see `crates/permissions/tests/fuzz/harness.rs`): query strings, path ids and bodies of
//! every shape and content type, through the real router with `oneshot` as the integration tests drive it. The
//! answer is a 2xx, or a 4xx with a JSON error, never a 5xx (a panicking handler is a 500); a list answers a
//! page exactly when `Pagination::from_query` takes its query.

// Test code: a failed unwrap is a failed test, with its location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../permissions/tests/fuzz/harness.rs"]
mod harness;
// The integration tests' fixtures; this binary uses some of them.
#[allow(dead_code)]
#[path = "api/support.rs"]
mod support;

use api::pagination::Pagination;
use axum::http::{Method, StatusCode};
use harness::{arb, check};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::*;

/// A runtime for the async calls, one per test: the harness calls the property synchronously.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Characters a request target's query may hold as they are (RFC 3986 `query`, without `#`).
const QUERY_CHARS: &str = "[A-Za-z0-9=&%+._~!$'()*,;:@/?-]";

/// Between `min` and `max` characters of [`QUERY_CHARS`].
fn query_chars(min: usize, max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("{QUERY_CHARS}{{{min},{max}}}")).expect("a valid regex")
}

/// Query strings: pagination-shaped ones with values of every kind, and any characters a query may hold.
fn query() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        "[0-9]{0,12}",
        "[+-]?[0-9]{1,3}(\\.[0-9])?(e[0-9])?",
        "(%[0-9A-Fa-f]{2}){1,3}",
        Just("4294967295".to_owned()),
        Just("4294967296".to_owned()),
        Just("100".to_owned()),
        Just("101".to_owned()),
        query_chars(0, 6),
    ];
    let name = prop_oneof![
        prop::sample::select(vec!["page", "per_page", "pag%65", "PAGE", "page+", "sort", ""]).prop_map(str::to_owned),
        "[a-z_]{0,8}",
    ];
    let pair = (name, prop::option::of(value)).prop_map(|(name, value)| match value {
        Some(value) => format!("{name}={value}"),
        None => name,
    });
    prop_oneof![
        3 => prop::collection::vec(pair, 0..4).prop_map(|pairs| pairs.join("&")),
        1 => query_chars(0, 40),
    ]
}

#[test]
fn fuzz_list_queries_answer_a_page_or_a_400() {
    let runtime = runtime();
    let app = runtime.block_on(test_app());
    let token = sign(&claims(ADMIN));
    let list = prop::sample::select(vec!["/api/v1/projects", "/api/v1/users"]);
    check("api::list_queries", (list, query()), |(list, query)| {
        let response = runtime.block_on(app.get(&format!("{list}?{query}"), Some(&token)));
        match Pagination::from_query(Some(&query)) {
            Ok(pagination) => {
                prop_assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
                let items = response.body.as_array().expect("a page is a JSON array");
                prop_assert!(items.len() <= pagination.per_page as usize);
            }
            Err(_) => {
                prop_assert_eq!(response.status, StatusCode::BAD_REQUEST, "{:?}", response.body);
                prop_assert_eq!(&response.body["error"], "invalid_request");
            }
        }
        Ok(())
    });
}

/// Request bodies: JSON of every shape, near-valid project and role bodies, and bytes that are no JSON.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let text = prop_oneof![
        3 => arb::text().prop_map(Value::String),
        1 => "[a-z]{60,70}".prop_map(Value::String),
        1 => "[a-z \n]{1990,2010}".prop_map(Value::String),
        1 => arb::json(),
    ];
    let status = prop_oneof![
        prop::sample::select(vec!["planned", "active", "on-hold", "done", "Active", ""]).prop_map(|s| json!(s)),
        arb::json(),
    ];
    let member = |name: &'static str, value: BoxedStrategy<Value>| prop::option::of(value.prop_map(move |v| (name, v)));
    let project = (
        member("name", text.clone().boxed()),
        member("description", text.clone().boxed()),
        member("status", status.boxed()),
        member("extra", arb::json().boxed()),
    )
        .prop_map(|members| {
            let (a, b, c, d) = members;
            Value::Object([a, b, c, d].into_iter().flatten().map(|(n, v)| (n.to_owned(), v)).collect())
        });
    let role = prop_oneof![
        prop::sample::select(vec!["admin", "project-manager", "viewer", "nobody", ""]).prop_map(|s| json!(s)),
        text,
    ];
    let roles = prop::collection::vec(role, 0..4).prop_map(|roles| json!({ "roles": roles }));
    prop_oneof![
        3 => project.prop_map(|v| v.to_string().into_bytes()),
        2 => roles.prop_map(|v| v.to_string().into_bytes()),
        2 => arb::json().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => arb::json().prop_map(|v| {
            // Cut short: no longer JSON.
            let text = v.to_string();
            text.as_bytes()[..text.len() / 2].to_vec()
        }),
        1 => (api::MAX_BODY_BYTES - 8..api::MAX_BODY_BYTES + 8)
            .prop_map(|len| format!("{{\"name\":\"{}\"}}", "x".repeat(len)).into_bytes()),
    ]
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop::option::of(prop::sample::select(vec![
        "application/json",
        "application/json; charset=utf-8",
        "application/problem+json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin1",
        "",
    ]))
}

/// A path segment for `{id}`: numbers of every kind, and any text, percent-encoded.
fn id_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,20}",
        "[+-]?[0-9]{1,3}",
        Just("1".to_owned()),
        Just("2".to_owned()),
        arb::text().prop_map(|text| {
            text.bytes()
                .map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") })
                .collect()
        }),
        "(%[0-9A-Fa-f]{2}){1,4}",
    ]
}

/// What the write routes may answer: success, or a client error with a JSON body.
fn assert_handled(response: &TestResponse) -> Result<(), TestCaseError> {
    prop_assert!(
        response.status.is_success() || response.status.is_client_error(),
        "{} {:?}",
        response.status,
        String::from_utf8_lossy(&response.raw)
    );
    if response.status.is_client_error() {
        prop_assert!(response.body["error"].is_string(), "{:?}", String::from_utf8_lossy(&response.raw));
    }
    Ok(())
}

#[test]
fn fuzz_write_bodies_and_ids_answer_2xx_or_4xx() {
    let runtime = runtime();
    let app = runtime.block_on(test_app());
    let token = sign(&claims_as("dev-idp|1", ADMIN));
    let route = prop_oneof![
        Just((Method::POST, None)),
        id_segment().prop_map(|id| (Method::PUT, Some(id))),
        id_segment().prop_map(|id| (Method::DELETE, Some(id))),
    ];
    check("api::write_bodies", (route, content_type(), body()), |((method, id), content_type, body)| {
        let path = match (&method, id) {
            (&Method::PUT, Some(id)) => format!("/api/v1/users/{id}/roles"),
            (_, Some(id)) => format!("/api/v1/projects/{id}"),
            (_, None) => "/api/v1/projects".to_owned(),
        };
        let response = runtime.block_on(app.with_body(method, &path, Some(&token), content_type, body));
        assert_handled(&response)
    });
}
