//! The binary's command line as a process sees it: flags and their
//! environment fallbacks.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

/// `DEV_IDP_SPA_ORIGIN` is a comma-separated list: each entry is an origin
/// of its own, validated on its own. (Parsing stops the binary before it
/// serves, so a bad second entry shows the split without a server.)
#[test]
fn the_spa_origin_variable_is_a_comma_separated_list() {
    let output = Command::new(env!("CARGO_BIN_EXE_dev-idp"))
        .env("DEV_IDP_SPA_ORIGIN", "http://localhost:8080, http://127.0.0.1:8080/app")
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("invalid SPA origin \"http://127.0.0.1:8080/app\""), "{stderr}");
}
