//! Property test of `/config.json`'s parser (`AppConfig::parse`), in headless Chromium, since the parser judges
//! URLs with the browser's own parser (`web_sys::Url`) and so has no native seam for `cargo xtask fuzz`.
//!
//! Every case is a configuration an operator or an attacker could serve: the demo file with one key given a value
//! of any JSON type (tricky URLs, claim paths, role maps, huge and negative numbers, nesting), keys added or
//! dropped, or the text itself cut or with bytes changed. The properties: the parser never panics (a panic would
//! leave a blank page; here it fails the test run), and whatever it accepts keeps its invariants — the issuer a
//! provider URL (https, or http on loopback), `api_base` without a trailing slash and either a path on this origin
//! or a provider URL, `openid` among the scopes, the leeway within its bound. A refusal names what is wrong.
//!
//! Each run draws a new seed and logs it, so that a failure can be replayed; `FUZZ_CONFIG_SEED` at
//! build time replays one (`FUZZ_CONFIG_SEED=123 cargo xtask test wasm fuzz_config`).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oidc_login::urls::check_provider_url;
use permission_spa::config::AppConfig;
use serde_json::{Map, Value, json};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Cases per run: a few seconds of a busy 2-core machine.
const CASES: u32 = 3_000;
/// The SPA's origin in every case.
const ORIGIN: &str = "http://127.0.0.1:8080";
/// The most clock leeway the parser may accept (its `MAX_LEEWAY_SECONDS`).
const MAX_LEEWAY_SECONDS: u64 = 600;

/// xorshift64*: small, and enough to spread cases over the generators below.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The keys `/config.json` has (`e2e-contract.md`), and a few it does not.
const KEYS: [&str; 14] = [
    "issuer",
    "client_id",
    "scope",
    "audience",
    "permissions_claim",
    "api_base",
    "capabilities_source",
    "roles_claim",
    "role_permissions",
    "leeway_seconds",
    "trusted_audiences",
    "unknown_key",
    "",
    "issuer\u{0}",
];

/// Strings that have broken URL and claim parsers somewhere.
const STRINGS: [&str; 34] = [
    "",
    " ",
    "https://idp.example/",
    "https://idp.example",
    "http://127.0.0.1:8081",
    "http://127.0.0.1:1@evil.example/",
    "http://localhost.evil.example/",
    "http://[::1]:3000/api/v1",
    "http://0x7f.1/",
    "https://user:pw@idp.example/",
    "javascript:alert(1)",
    "data:text/html,x",
    "//evil.example/api",
    "/\\evil.example",
    "/api/v1/",
    "/",
    "api/v1",
    "HTTPS://IDP.EXAMPLE:443/",
    "https://idp.example/%2e%2e/",
    "https://[::ffff:127.0.0.1]/",
    "https://idp.example/\u{0}",
    "openid",
    "profile email",
    "openid\u{3000}profile",
    "id_token",
    "api",
    "https://example.com/permissions",
    "/a~1b/~0c",
    "/",
    "~2",
    "permissions/",
    "\u{202e}evil",
    "é\u{301}",
    "\"quoted\"",
];

/// Any JSON value, nested at most `depth` deep.
fn value(rng: &mut Rng, depth: u32) -> Value {
    match rng.below(if depth == 0 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => json!(*rng.pick(&[0i64, 1, -1, 59, 600, 601, i64::MAX, i64::MIN])),
        3 => json!(*rng.pick(&[0.5f64, -0.0, 1e300, 600.0])),
        4 => Value::String(rng.pick(&STRINGS).to_string()),
        5 => Value::String(format!("{}{}", rng.pick(&STRINGS), rng.pick(&STRINGS)).repeat(1 + rng.below(3))),
        6 => Value::Array((0..rng.below(4)).map(|_| value(rng, depth - 1)).collect()),
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.below(4) {
                map.insert(rng.pick(&STRINGS).to_string(), value(rng, depth - 1));
            }
            Value::Object(map)
        }
    }
}

/// The demo configuration (the shape of `public/config.json`), with roles too so that their rules run.
fn base() -> Map<String, Value> {
    let config = json!({
        "issuer": "http://127.0.0.1:8081",
        "client_id": "spa",
        "audience": "permission-api",
        "permissions_claim": "https://permission-spa.example/permissions",
        "api_base": "/api/v1",
        "roles_claim": "https://permission-spa.example/roles",
        "role_permissions": {"admin": ["read:user-list"], "viewer": ["read:project-list"]},
    });
    match config {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

/// One case's text.
fn case(rng: &mut Rng) -> String {
    let mut config = base();
    for _ in 0..1 + rng.below(3) {
        let key = rng.pick(&KEYS).to_string();
        match rng.below(5) {
            0 => {
                config.remove(&key);
            }
            _ => {
                config.insert(key, value(rng, 3));
            }
        }
    }
    let text = Value::Object(config).to_string();
    match rng.below(6) {
        // The text cut short, as a truncated download would leave it.
        0 => text.chars().take(rng.below(text.len() + 1)).collect(),
        // A character changed anywhere.
        1 => {
            let mut chars: Vec<char> = text.chars().collect();
            let at = rng.below(chars.len());
            chars[at] = *rng.pick(&['"', '\\', '{', '}', ',', ':', '\u{0}', '\u{ffff}', 'x', ' ']);
            chars.into_iter().collect()
        }
        // Another top-level value altogether.
        2 if rng.below(4) == 0 => value(rng, 2).to_string(),
        _ => text,
    }
}

/// The invariants of an accepted configuration.
fn check_accepted(config: &AppConfig, text: &str) {
    let client = &config.client;
    assert!(check_provider_url(&client.issuer).is_ok(), "issuer {:?} accepted from {text}", client.issuer);
    assert!(!client.client_id.trim().is_empty(), "an empty client_id accepted from {text}");
    assert!(client.scope.split_ascii_whitespace().any(|s| s == "openid"), "a scope without openid from {text}");
    assert!(client.leeway_seconds <= MAX_LEEWAY_SECONDS, "leeway {} accepted from {text}", client.leeway_seconds);
    assert!(client.trusted_audiences.iter().all(|aud| !aud.trim().is_empty()), "an empty audience from {text}");
    let api_base = &config.api_base;
    assert!(!api_base.ends_with('/'), "api_base {api_base:?} kept its trailing slash from {text}");
    let on_this_origin = api_base.starts_with('/') && !api_base.starts_with("//") && !api_base.contains('\\');
    assert!(
        on_this_origin || api_base.is_empty() || check_provider_url(api_base).is_ok(),
        "api_base {api_base:?} accepted from {text}"
    );
}

/// The run's seed: `FUZZ_CONFIG_SEED` when the build names one, else a new one from the page.
fn seed() -> u64 {
    if let Some(seed) = option_env!("FUZZ_CONFIG_SEED").and_then(|text| text.parse().ok()) {
        return seed;
    }
    let random = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
    (random ^ (js_sys::Date::now() as u64).rotate_left(32)) | 1
}

#[wasm_bindgen_test]
fn fuzz_config_any_served_file_is_a_clear_error_or_a_valid_configuration() {
    let seed = seed();
    // Printed first: a panic in the wasm aborts the run, and the test runner shows what the test logged.
    console_log!("fuzz_config seed={seed} (replay: FUZZ_CONFIG_SEED={seed} cargo xtask test wasm fuzz_config)");
    let mut rng = Rng(seed);
    let (mut accepted, mut refused) = (0u32, 0u32);
    for _ in 0..CASES {
        let text = case(&mut rng);
        match AppConfig::parse(&text, ORIGIN) {
            Ok(config) => {
                check_accepted(&config, &text);
                accepted += 1;
            }
            Err(error) => {
                assert!(!error.to_string().trim().is_empty(), "an empty error for {text} (seed {seed})");
                refused += 1;
            }
        }
    }
    // Both sides were reached, so the properties above were checked on something.
    assert!(accepted > CASES / 20 && refused > CASES / 20, "accepted {accepted}, refused {refused} (seed {seed})");
    console_log!("fuzz-result property=spa::config cases={CASES} failures=0 seed={seed} accepted={accepted}");
}
