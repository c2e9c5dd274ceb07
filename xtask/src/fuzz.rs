//! `cargo xtask fuzz`: the property tests of the parsers that read what the network, the URL and storage hand
//! us, each target for a time budget, with a summary of the cases run, the time taken and the failures.
//!
//! The property tests are the `fuzz_` tests of the targets' test binaries (see
//! `crates/permissions/tests/fuzz/harness.rs`, their shared runner). A plain `cargo test` runs them too, with a
//! few cases each; here each target's budget is shared evenly by its properties and handed to them in
//! `FUZZ_SECONDS`, and they run one at a time so that the figures are each property's own. Every property
//! prints a `fuzz-result` line, which this module collects. A failure fails the run after every target has had
//! its turn; its minimal input is in the output, and `FUZZ_SEED` (passed through) replays it.

use crate::process::{cargo, describe, display};
use crate::tools::{self, Needs};
use crate::workspace;
use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Instant;

/// Seconds each target runs for unless `--seconds` says otherwise.
pub(crate) const DEFAULT_SECONDS: u32 = 60;

/// The prefix of the property tests' names, and the test-name filter that selects them.
const PROPERTY_PREFIX: &str = "fuzz_";

/// The marker of the line each property prints when it is done.
const RESULT_MARKER: &str = "fuzz-result ";

/// One group of property tests: a package's test binaries that hold them.
struct Target {
    name: &'static str,
    what: &'static str,
    package: &'static str,
    /// The cargo options that select the binaries.
    binaries: &'static [&'static str],
}

/// Every target, in the order they run.
const TARGETS: [Target; 4] = [
    Target {
        name: "claims",
        what: "the claim parser: ClaimPath, JSON Pointers, Capabilities::from_claims, RoleMap",
        package: "permissions",
        binaries: &["--test", "fuzz_claims"],
    },
    Target {
        name: "api-tokens",
        what: "the API's JWKS parser, token verifier and Authorization headers",
        package: "api",
        binaries: &["--test", "fuzz_tokens"],
    },
    Target {
        name: "api-inputs",
        what: "the API's query strings, path ids and JSON bodies, through the router",
        package: "api",
        binaries: &["--test", "fuzz_inputs"],
    },
    Target {
        name: "login",
        what: "the login module: callback, form decoding, JWKS, JWS header, ID token, refresh, b64, stored records",
        package: "oidc-login",
        binaries: &["--lib", "--test", "fuzz_login"],
    },
];

/// The names `cargo xtask fuzz` takes for its targets.
pub(crate) fn target_names() -> Vec<&'static str> {
    TARGETS.iter().map(|target| target.name).collect()
}

/// What `cargo xtask fuzz` was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FuzzOptions {
    /// Seconds per target.
    pub(crate) seconds: u32,
    /// The targets to run, by name; all of them when empty.
    pub(crate) targets: Vec<String>,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions { seconds: DEFAULT_SECONDS, targets: Vec::new() }
    }
}

/// One property's `fuzz-result` line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PropertyResult {
    property: String,
    cases: u64,
    millis: u64,
    failures: u64,
    seed: String,
}

impl PropertyResult {
    /// Reads a `fuzz-result property=... cases=... millis=... failures=... seed=...` line, wherever it starts in
    /// `line` (the test harness may have printed on the same line before it).
    fn parse(line: &str) -> Option<PropertyResult> {
        let fields = &line[line.find(RESULT_MARKER)? + RESULT_MARKER.len()..];
        let field = |name: &str| {
            fields.split_whitespace().find_map(|pair| pair.strip_prefix(name)?.strip_prefix('=').map(str::to_owned))
        };
        Some(PropertyResult {
            property: field("property")?,
            cases: field("cases")?.parse().ok()?,
            millis: field("millis")?.parse().ok()?,
            failures: field("failures")?.parse().ok()?,
            seed: field("seed")?,
        })
    }
}

/// What one target's run gave.
struct TargetRun {
    target: &'static Target,
    results: Vec<PropertyResult>,
    /// How the test run ended, when it did not succeed.
    failed: Option<String>,
    seconds: f64,
}

pub(crate) fn run(options: &FuzzOptions, skip_install: bool) -> Result<()> {
    let targets: Vec<&'static Target> = if options.targets.is_empty() {
        TARGETS.iter().collect()
    } else {
        options
            .targets
            .iter()
            .map(|name| {
                TARGETS.iter().find(|target| target.name == name).with_context(|| {
                    format!("unknown fuzz target {name:?}; the targets are {}", target_names().join(", "))
                })
            })
            .collect::<Result<_>>()?
    };
    if !skip_install {
        tools::ensure(Needs::NATIVE)?;
    }

    let mut runs = Vec::new();
    for target in targets {
        println!("\n== fuzz target {}: {} ({} s)", target.name, target.what, options.seconds);
        runs.push(run_target(target, options.seconds)?);
    }
    print_summary(&runs, options.seconds);

    let failed: Vec<&str> =
        runs.iter().filter(|run| run.failed.is_some() || failures(run) > 0).map(|run| run.target.name).collect();
    if !failed.is_empty() {
        bail!("fuzzing found failures in {} (the minimal inputs are above)", failed.join(", "));
    }
    Ok(())
}

fn failures(run: &TargetRun) -> u64 {
    run.results.iter().map(|result| result.failures).sum()
}

/// The command that runs (or, with `--list`, lists) a target's property tests, one at a time.
fn test_command(target: &Target, libtest_args: &[&str]) -> std::process::Command {
    let mut command = cargo();
    command
        .current_dir(workspace::root())
        .args(["test", "--package", target.package])
        .args(target.binaries)
        .arg("--")
        .arg(PROPERTY_PREFIX)
        .args(libtest_args);
    command
}

/// The names of a target's property tests (building its binaries on the way).
fn list_properties(target: &Target) -> Result<Vec<String>> {
    let mut command = test_command(target, &["--list"]);
    let line = display(&command);
    println!("$ {line}");
    let output = command.stderr(Stdio::inherit()).output().with_context(|| format!("could not start `{line}`"))?;
    if !output.status.success() {
        bail!("`{line}` failed ({})", describe(output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_owned)
        .collect())
}

fn run_target(target: &'static Target, seconds: u32) -> Result<TargetRun> {
    let properties = list_properties(target)?;
    if properties.is_empty() {
        bail!("{} has no `{PROPERTY_PREFIX}` tests", target.name);
    }
    let per_property = f64::from(seconds) / properties.len() as f64;
    println!("{} properties, {per_property:.1} s each", properties.len());

    let mut command = test_command(target, &["--test-threads=1", "--nocapture"]);
    // The budget; no case count (the budget decides), and no backtraces of the failures the runner shrinks.
    command.env("FUZZ_SECONDS", format!("{per_property:.3}")).env_remove("FUZZ_CASES").env("RUST_BACKTRACE", "0");
    let line = display(&command);
    println!("$ FUZZ_SECONDS={per_property:.3} {line}");
    let started = Instant::now();
    let mut child = command.stdout(Stdio::piped()).spawn().with_context(|| format!("could not start `{line}`"))?;
    let mut results = Vec::new();
    let stdout = child.stdout.take().context("the test run's stdout")?;
    for output in BufReader::new(stdout).lines() {
        let output = output.context("reading the test run's output")?;
        println!("{output}");
        results.extend(PropertyResult::parse(&output));
    }
    let status = child.wait().with_context(|| format!("waiting for `{line}`"))?;
    let failed = (!status.success()).then(|| describe(status));
    Ok(TargetRun { target, results, failed, seconds: started.elapsed().as_secs_f64() })
}

fn print_summary(runs: &[TargetRun], seconds: u32) {
    println!("\nfuzz summary ({seconds} s per target, shared by its properties):");
    println!("  {:<11} {:<40} {:>9} {:>8} {:>8}  seed", "target", "property", "cases", "seconds", "failures");
    for run in runs {
        for result in &run.results {
            println!(
                "  {:<11} {:<40} {:>9} {:>8.1} {:>8}  {}",
                run.target.name,
                result.property,
                result.cases,
                result.millis as f64 / 1000.0,
                result.failures,
                result.seed
            );
        }
        let cases: u64 = run.results.iter().map(|result| result.cases).sum();
        let verdict = match (&run.failed, failures(run)) {
            (None, 0) => "ok".to_owned(),
            (None, n) => format!("{n} failed"),
            (Some(how), 0) => format!("the test run failed ({how}) without a failing property: see its output"),
            (Some(_), n) => format!("{n} failed"),
        };
        println!(
            "  {:<11} {:<40} {cases:>9} {:>8.1}           {verdict}\n",
            run.target.name,
            format!("= {} properties", run.results.len()),
            run.seconds
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_are_read_wherever_they_start() {
        let line = ".fuzz-result property=api::jwks cases=4176 millis=8017 failures=0 seed=1688";
        let expected = PropertyResult {
            property: "api::jwks".into(),
            cases: 4176,
            millis: 8017,
            failures: 0,
            seed: "1688".into(),
        };
        assert_eq!(PropertyResult::parse(line), Some(expected));
        assert_eq!(PropertyResult::parse("test fuzz_x ... ok"), None);
        assert_eq!(PropertyResult::parse("fuzz-result property=x cases=many millis=1 failures=0 seed=1"), None);
    }

    #[test]
    fn every_target_has_its_own_name_and_binaries() {
        for (index, target) in TARGETS.iter().enumerate() {
            assert!(TARGETS[..index].iter().all(|other| other.name != target.name), "{}", target.name);
            assert!(
                TARGETS[..index]
                    .iter()
                    .all(|other| (other.package, other.binaries) != (target.package, target.binaries)),
                "{}",
                target.name
            );
        }
    }
}
