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

/// The DPoP switches read their variables as booleans, and refuse
/// anything else rather than guess (so a typo cannot silently leave DPoP
/// optional).
#[test]
fn the_dpop_variables_are_booleans() {
    for variable in ["DEV_IDP_DPOP_NONCE", "DEV_IDP_REQUIRE_DPOP"] {
        let output = Command::new(env!("CARGO_BIN_EXE_dev-idp"))
            .env(variable, "sometimes")
            .env("RUST_LOG", "off")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{variable}: {stderr}");
        assert!(stderr.contains("sometimes"), "{variable}: {stderr}");
    }
}

/// Issue 9, item 5: a password-less provider on a non-loopback address is
/// a password-less admin login for the whole network, so the binary
/// refuses one, naming the flag that allows it, before it binds anything.
#[test]
fn a_non_loopback_listen_address_is_refused_without_the_flag() {
    for address in ["0.0.0.0:0", "[::]:0", "192.0.2.1:8081"] {
        let output = Command::new(env!("CARGO_BIN_EXE_dev-idp"))
            .args(["--listen", address])
            .env_remove("DEV_IDP_LISTEN")
            .env("RUST_LOG", "off")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{address}: {stderr}");
        assert!(stderr.contains("not a loopback address"), "{address}: {stderr}");
        assert!(stderr.contains("--i-know-this-is-not-for-production"), "{address}: {stderr}");
    }
}

/// With the flag it starts, and says loudly on stderr what it has done.
#[test]
fn with_the_flag_it_starts_on_a_non_loopback_address_and_warns_on_stderr() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dev-idp"))
        .args(["--listen", "0.0.0.0:0", "--i-know-this-is-not-for-production", "--issuer", "http://127.0.0.1:1"])
        .arg("--database")
        .arg(dir.path().join("app.db"))
        .arg("--data-dir")
        .arg(dir.path().join("idp"))
        .env_remove("DEV_IDP_LISTEN")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, received) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out_lines = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = out_lines.send(("stdout", line));
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(("stderr", line));
        }
    });

    let (mut warned, mut listening, mut seen) = (false, false, Vec::new());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(warned && listening) && Instant::now() < deadline {
        let Ok((stream, line)) = received.recv_timeout(Duration::from_millis(200)) else {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            continue;
        };
        warned |= stream == "stderr" && line.contains("WARNING") && line.contains("NOT a loopback address");
        listening |= line.contains("dev-idp listening on http://0.0.0.0:");
        seen.push(format!("{stream}: {line}"));
    }
    let exited = child.try_wait().unwrap();
    // Our own child: stop it by its handle.
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(exited, None, "it stopped instead of serving: {seen:#?}");
    assert!(warned, "no loud warning on stderr: {seen:#?}");
    assert!(listening, "it did not start listening: {seen:#?}");
    assert!(seen.iter().any(|line| line.contains("WITHOUT A PASSWORD")), "{seen:#?}");
}
