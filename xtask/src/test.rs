//! `cargo xtask test`: every test layer, cheapest first, stopping at the first failure.
//!
//! Layers: `lint` (rustfmt, clippy for the host and for wasm32), `native` (the workspace's host tests), `wasm`
//! (browser tests of the wasm packages in headless Chromium through wasm-bindgen-test-runner) and `e2e` (the
//! release SPA, dev-idp and api driven through Chromium by the `e2e` crate). A summary with each step's duration
//! closes the run; it goes to stderr so that cargo test's own result lines stay the last lines on stdout.
//!
//! The e2e layer holds the release SPA's first-load bytes to the size budget ([`budget`]) before it tests it, and
//! sets `E2E_REQUIRED=1`, so an e2e test whose prerequisites are missing fails instead of skipping
//! itself as it does under a plain `cargo test`. `cargo xtask screenshots` is the e2e layer narrowed to the
//! screenshot tests, writing into `docs/screenshots` instead of the test artifacts.

use crate::budget;
use crate::dist;
use crate::leaks;
use crate::process::{cargo, display};
use crate::tools::{self, Needs, WASM_TARGET};
use crate::workspace::{self, Metadata};
use anyhow::{Context, Result, bail};
use std::process::Command;
use std::time::{Duration, Instant};

/// Tells the e2e tests that their prerequisites are there, so a missing one is a failure, not a skip.
const E2E_REQUIRED_ENV: &str = "E2E_REQUIRED";
/// Where the e2e screenshot helper writes the README's screenshots (crates/e2e/src/screenshots.rs).
const SCREENSHOTS_DIR_ENV: &str = "E2E_SCREENSHOTS_DIR";
/// The e2e test binary and test-name filter of the README's screenshots (`screenshots_for_<user>`).
const SCREENSHOT_TESTS: (&str, &str) = ("permissions", "screenshots_for_");
/// Where `cargo xtask screenshots` puts them, relative to the workspace root.
const DOCS_SCREENSHOTS: &str = "docs/screenshots";

/// Packages the native layer leaves out: the SPA's tests need a browser, and e2e has its own layer.
const NATIVE_EXCLUDES: &[&str] = &[workspace::SPA_PACKAGE, "e2e"];

/// Seconds wasm-bindgen-test-runner allows the tests (its default of 20 is tight on a busy 2-core machine).
const WASM_TEST_TIMEOUT_SECS: &str = "120";
/// Seconds it allows chromedriver to bind its port (default 5).
const WASM_DRIVER_TIMEOUT_SECS: &str = "30";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Lint,
    Native,
    Wasm,
    E2e,
}

impl Layer {
    const ALL: [Layer; 4] = [Layer::Lint, Layer::Native, Layer::Wasm, Layer::E2e];

    fn parse(name: &str) -> Result<Layer> {
        Ok(match name {
            "lint" => Layer::Lint,
            "native" => Layer::Native,
            "wasm" => Layer::Wasm,
            "e2e" => Layer::E2e,
            other => bail!("unknown test layer {other:?}; the layers are lint, native, wasm and e2e"),
        })
    }

    fn needs(self) -> Needs {
        match self {
            Layer::Lint => Needs { rust_components: true, wasm_target: true, ..Needs::NATIVE },
            Layer::Native => Needs::NATIVE,
            Layer::Wasm => Needs { wasm_target: true, wasm_bindgen: true, browser: true, ..Needs::NATIVE },
            Layer::E2e => Needs { browser: true, ..Needs::SPA_BUILD },
        }
    }
}

/// One step of the run: a command, or a check xtask makes itself.
struct Step {
    name: &'static str,
    action: Action,
}

enum Action {
    Run(Command),
    Check(Box<dyn FnOnce() -> Result<()>>),
}

impl Step {
    fn run(name: &'static str, command: Command) -> Step {
        Step { name, action: Action::Run(command) }
    }
}

pub(crate) fn run(layer_names: &[String], skip_install: bool, test_args: &[String]) -> Result<()> {
    let mut layers = Vec::new();
    for name in layer_names {
        let layer = Layer::parse(name)?;
        if !layers.contains(&layer) {
            layers.push(layer);
        }
    }
    if layers.is_empty() {
        layers = Layer::ALL.to_vec();
    }
    // Run in the canonical order whatever order they were named in: cheap checks first.
    layers.sort_by_key(|layer| Layer::ALL.iter().position(|l| l == layer));

    if !skip_install {
        tools::ensure(layers.iter().fold(Needs::NATIVE, |needs, layer| needs.and(layer.needs())))?;
    }
    let metadata = Metadata::load()?;
    let mut steps = Vec::new();
    for layer in &layers {
        steps.extend(steps_for(*layer, &metadata, test_args));
    }
    execute(steps)
}

/// `cargo xtask screenshots`: the e2e layer's builds, then only the screenshot tests, writing into
/// `docs/screenshots`.
pub(crate) fn screenshots(skip_install: bool) -> Result<()> {
    if !skip_install {
        tools::ensure(Layer::E2e.needs())?;
    }
    let metadata = Metadata::load()?;
    let (binary, filter) = SCREENSHOT_TESTS;
    let mut steps = e2e_steps(&metadata, Some(binary), &[filter.to_string()]);
    let target = workspace::root().join(DOCS_SCREENSHOTS);
    if let Some(Step { action: Action::Run(command), .. }) = steps.last_mut() {
        command.env(SCREENSHOTS_DIR_ENV, &target);
    }
    execute(steps)?;
    println!("\nscreenshots written to {}", target.display());
    Ok(())
}

/// The commands of one layer.
fn steps_for(layer: Layer, metadata: &Metadata, test_args: &[String]) -> Vec<Step> {
    let root = workspace::root();
    let cargo_in_root = || {
        let mut command = cargo();
        command.current_dir(&root);
        command
    };
    let with_test_args = |mut command: Command, mut binary_args: Vec<String>| {
        binary_args.extend(test_args.iter().cloned());
        if !binary_args.is_empty() {
            command.arg("--").args(binary_args);
        }
        command
    };
    let package_args =
        |packages: &[String]| packages.iter().flat_map(|p| ["-p".to_string(), p.clone()]).collect::<Vec<_>>();

    match layer {
        Layer::Lint => {
            let mut fmt = cargo_in_root();
            fmt.args(["fmt", "--all", "--check"]);
            let mut clippy = cargo_in_root();
            clippy.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
            let mut clippy_wasm = cargo_in_root();
            clippy_wasm.args(["clippy", "--target", WASM_TARGET]).args(package_args(&metadata.wasm_packages())).args([
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]);
            vec![
                Step::run("rustfmt", fmt),
                Step::run("clippy (host)", clippy),
                Step::run("clippy (wasm32)", clippy_wasm),
            ]
        }
        Layer::Native => {
            let mut test = cargo_in_root();
            test.args(["test", "--workspace"]);
            for package in NATIVE_EXCLUDES {
                test.args(["--exclude", package]);
            }
            vec![Step::run("native tests", with_test_args(test, Vec::new()))]
        }
        Layer::Wasm => {
            let (_, chromedriver) = tools::browser_paths();
            let mut test = cargo_in_root();
            test.args(["test", "--target", WASM_TARGET]).args(package_args(&metadata.wasm_test_packages()));
            test.env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner")
                .env("CHROMEDRIVER", &chromedriver)
                // cargo runs each test binary in its package's directory, so the runner would look for
                // webdriver.json there; this points every package at the root one.
                .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", root.join("webdriver.json"));
            // The runner picks the first driver variable it finds; any other would win over Chromium.
            for other in ["GECKODRIVER", "SAFARIDRIVER", "MSEDGEDRIVER"] {
                test.env_remove(other).env_remove(format!("{other}_REMOTE"));
            }
            test.env_remove("CHROMEDRIVER_REMOTE");
            for (var, default) in [
                ("WASM_BINDGEN_TEST_TIMEOUT", WASM_TEST_TIMEOUT_SECS),
                ("WASM_BINDGEN_TEST_DRIVER_TIMEOUT", WASM_DRIVER_TIMEOUT_SECS),
            ] {
                if std::env::var_os(var).is_none() {
                    test.env(var, default);
                }
            }
            vec![Step::run("wasm tests", with_test_args(test, Vec::new()))]
        }
        Layer::E2e => e2e_steps(metadata, None, test_args),
    }
}

/// The e2e layer: the release SPA (held to the size budget) and the servers it drives, then the e2e tests (those
/// of `test_binary` only, if given), one at a time, with `test_args` for the test binaries.
fn e2e_steps(metadata: &Metadata, test_binary: Option<&str>, test_args: &[String]) -> Vec<Step> {
    let root = workspace::root();
    // Its own output directory, so a test run never overwrites a developer's dist/.
    let dist = metadata.target_dir.join("e2e-dist");
    let (spa_dist, target_dir) = (dist.clone(), metadata.target_dir.clone());
    let mut servers = cargo();
    servers.current_dir(&root).args(["build", "-p", "api", "-p", "dev-idp"]);
    let (chromium, chromedriver) = tools::browser_paths();
    let mut test = cargo();
    test.current_dir(&root).args(["test", "-p", "e2e"]);
    if let Some(binary) = test_binary {
        test.args(["--test", binary]);
    }
    test.env("E2E_DIST_DIR", &dist)
        .env("E2E_BIN_DIR", metadata.target_dir.join("debug"))
        .env("E2E_CHROMIUM", &chromium)
        .env("CHROMEDRIVER", &chromedriver)
        .env(E2E_REQUIRED_ENV, "1");
    // One at a time: each test starts its own servers and browser, and the machine has few cores.
    test.args(["--", "--test-threads=1"]).args(test_args);
    let budget_dist = dist.clone();
    // Only what this run writes is searched for tokens: older artifacts are some other run's.
    let since = std::time::SystemTime::now();
    let artifacts = e2e::Settings::from_env().artifacts_dir;
    vec![
        Step {
            name: "SPA release build",
            action: Action::Check(Box::new(move || dist::build_release(&spa_dist, &target_dir))),
        },
        Step { name: "size budget", action: Action::Check(Box::new(move || budget::check_dist(&budget_dist))) },
        Step::run("server build", servers),
        Step::run("e2e tests", test),
        Step { name: "no token in logs", action: Action::Check(Box::new(move || leaks::check(&artifacts, since))) },
    ]
}

/// Runs the steps in order until one fails, then prints the summary.
fn execute(steps: Vec<Step>) -> Result<()> {
    let names: Vec<&str> = steps.iter().map(|step| step.name).collect();
    let mut outcomes: Vec<(&str, Duration, bool)> = Vec::new();
    let mut failure = None;
    for step in steps {
        let started = Instant::now();
        let result = match step.action {
            Action::Run(mut command) => {
                let line = display(&command);
                println!("\n==> {}: {line}", step.name);
                command.status().with_context(|| format!("could not start `{line}`")).and_then(|status| {
                    if status.success() {
                        Ok(())
                    } else {
                        bail!("`{line}` failed ({})", crate::process::describe(status))
                    }
                })
            }
            Action::Check(check) => {
                println!("\n==> {}", step.name);
                check()
            }
        };
        let elapsed = started.elapsed();
        outcomes.push((step.name, elapsed, result.is_ok()));
        if let Err(err) = result {
            failure = Some(err.context(format!("step `{}` failed", step.name)));
            break;
        }
    }

    eprintln!("\nsummary:");
    for (name, elapsed, ok) in &outcomes {
        eprintln!("  {:<8} {name:<20} {:>8}", if *ok { "ok" } else { "FAILED" }, format_duration(*elapsed));
    }
    for name in names.iter().skip(outcomes.len()) {
        eprintln!("  {:<8} {name}", "not run");
    }
    let total: Duration = outcomes.iter().map(|(_, elapsed, _)| *elapsed).sum();
    eprintln!("  total {}", format_duration(total));
    match failure {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// `1m 05s` or `12.3s`.
fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs >= 60.0 {
        let whole = duration.as_secs();
        format!("{}m {:02}s", whole / 60, whole % 60)
    } else {
        format!("{secs:.1}s")
    }
}
