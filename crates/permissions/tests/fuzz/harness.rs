//! The runner of the property tests that `cargo xtask fuzz` drives, shared by the `fuzz` tests of the
//! permissions, api and oidc-login crates (they include this file with `#[path]`; it lives in a subdirectory of
//! `tests/` so that cargo does not take it for a test binary of its own).
//!
//! Every property test is a `#[test]` whose name starts with `fuzz_` and which hands its strategy and property
//! to [`check`]. Under a plain `cargo test` that runs [`DEFAULT_CASES`] cases (or `FUZZ_CASES`), so the
//! properties are checked on every run at little cost. `cargo xtask fuzz` selects the `fuzz_` tests and sets
//! `FUZZ_SECONDS`: each property then runs batch after batch of fresh cases until its time is spent.
//!
//! Either way the test prints one `fuzz-result` line (the property, the cases run, the time taken, the failures
//! and the seed), which xtask collects into its summary. A failure is shrunk by proptest to a minimal input,
//! printed, and fails the test; `FUZZ_SEED` replays a run. Nothing is written to disk: a failure worth keeping
//! becomes an explicit regression test beside the property.

use std::fmt::Debug;
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngSeed, TestCaseResult, TestError, TestRunner};

/// Seconds each property runs for, when set (`cargo xtask fuzz` sets it).
pub(crate) const SECONDS_ENV: &str = "FUZZ_SECONDS";
/// Cases each property runs without a time budget (default [`DEFAULT_CASES`]).
pub(crate) const CASES_ENV: &str = "FUZZ_CASES";
/// The seed of the random generator, to replay a run; random otherwise.
pub(crate) const SEED_ENV: &str = "FUZZ_SEED";

/// Cases per property under a plain `cargo test`: enough to catch a property broken outright, few enough to
/// keep the test run quick.
pub(crate) const DEFAULT_CASES: u32 = 48;

/// Cases per batch under a time budget: the budget is checked between batches, so a property overruns it by
/// at most one batch.
const BATCH: u32 = 16;

/// Runs `property` on values of `strategy`, for the time or the number of cases the environment asks, and
/// panics with the minimal failing input if any case fails. `name` names the property in the summary.
#[track_caller]
pub(crate) fn check<S>(name: &str, strategy: S, property: impl Fn(S::Value) -> TestCaseResult)
where
    S: Strategy,
    S::Value: Debug,
{
    let budget = env_number::<f64>(SECONDS_ENV).map(Duration::from_secs_f64);
    let cases = env_number::<u32>(CASES_ENV).unwrap_or(DEFAULT_CASES);
    let seed = env_number::<u64>(SEED_ENV).unwrap_or_else(random_seed);
    let config = |cases| Config {
        cases,
        // Regressions are kept as explicit tests, not in files proptest would write into the source tree.
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    };

    // A failing property panics once per step of shrinking, and the panic hook would print each. Under a time
    // budget the tests run one at a time (xtask passes `--test-threads=1`), so the hook is silenced meanwhile:
    // the minimal failure is reported below. Under a plain `cargo test` other tests share the hook; it stays.
    let hook = budget.map(|_| {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        hook
    });

    let started = Instant::now();
    let mut runner = TestRunner::new(config(budget.map_or(cases, |_| BATCH)));
    let mut run = 0u64;
    let outcome = loop {
        let batch = runner.config().cases;
        if let Err(error) = runner.run(&strategy, &property) {
            break Err(error);
        }
        run += u64::from(batch);
        match budget {
            Some(budget) if started.elapsed() < budget => {
                // A runner counts its successes for good, so each batch gets a fresh one, seeded from the last.
                let rng = runner.new_rng();
                runner = TestRunner::new_with_rng(config(BATCH), rng);
            }
            _ => break Ok(()),
        }
    };
    if let Some(hook) = hook {
        std::panic::set_hook(hook);
    }
    let failures = u32::from(outcome.is_err());
    println!(
        "fuzz-result property={name} cases={run} millis={} failures={failures} seed={seed}",
        started.elapsed().as_millis()
    );
    match outcome {
        Ok(()) => {}
        Err(TestError::Fail(reason, input)) => {
            panic!("{name}: fails for {input:#?}\n({reason}; replay with {SEED_ENV}={seed})")
        }
        Err(TestError::Abort(reason)) => panic!("{name}: proptest gave up: {reason} ({SEED_ENV}={seed})"),
    }
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    let text = std::env::var(name).ok()?;
    match text.trim().parse() {
        Ok(number) => Some(number),
        Err(_) => panic!("{name} must be a number, not {text:?}"),
    }
}

/// A seed that differs from run to run, without a generator of its own: the clock's nanoseconds and the
/// process id, mixed.
fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 32);
    // splitmix64's finaliser, so that nearby clocks give unrelated seeds.
    let mut z = mixed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Strategies the fuzz tests share: JSON values of every shape, and texts that mix the names and separators the
/// parsers care about with arbitrary Unicode.
pub(crate) mod arb {
    use proptest::prelude::*;
    use serde_json::{Map, Number, Value};

    /// Any text: arbitrary Unicode, or short words and separators of the kind claims and queries hold.
    pub(crate) fn text() -> impl Strategy<Value = String> + Clone {
        prop_oneof![
            2 => any::<String>(),
            2 => "[a-z:_-]{0,12}",
            1 => prop::sample::select(NAMES).prop_map(str::to_owned),
            1 => "[ \t\n\r\u{b}\u{c}\u{a0}]{0,2}([a-z:~/]{1,8}[ \t\n]{1,3}){0,4}",
            1 => "[~/0-2a]{0,8}",
        ]
    }

    /// Words the parsers treat specially, and a few that merely look like them.
    pub(crate) const NAMES: &[&str] = &[
        "",
        "read:project-list",
        "read:user-list",
        "create:project",
        "delete:project",
        "update:user-roles",
        "READ:PROJECT-LIST",
        "permissions",
        "scope",
        "roles",
        "admin",
        "openid",
        "sub",
        "aud",
        "iss",
        "exp",
        "~",
        "~0",
        "~1",
        "/",
        " ",
        "\u{0}",
        "é",
    ];

    /// A JSON value of any shape, up to a few levels deep.
    pub(crate) fn json() -> impl Strategy<Value = Value> + Clone {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            // NaN and the infinities are no JSON numbers: null stands in for them.
            any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
            text().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((text(), inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }
}
