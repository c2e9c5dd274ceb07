//! Where the harness finds what it drives: the built SPA, the server binaries, the browser, and where it
//! leaves logs and screenshots. Everything has a default that fits `cargo xtask test e2e` in this workspace,
//! and an environment variable to override it.
//!
//! It also decides whether the end-to-end tests can run at all ([`Settings::skip_unless_ready`]): a plain
//! `cargo test --workspace`, a Rust developer's first habit, has built neither the SPA nor installed ChromeDriver,
//! so the tests then skip themselves with a message naming `cargo xtask test e2e`. xtask sets [`ENV_REQUIRED`],
//! so in CI a missing prerequisite fails the test instead.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Directory of the built SPA (`index.html` and its assets). Default: `<target>/e2e-dist`, where `<target>` is
/// `$CARGO_TARGET_DIR` or `<workspace>/target`.
pub const ENV_DIST_DIR: &str = "E2E_DIST_DIR";
/// Directory holding the `api` and `dev-idp` binaries. Default: `<target>/debug`.
pub const ENV_BIN_DIR: &str = "E2E_BIN_DIR";
/// The chromedriver binary. Default: `/usr/bin/chromedriver` (the same variable wasm-bindgen-test-runner reads).
pub const ENV_CHROMEDRIVER: &str = "CHROMEDRIVER";
/// The Chromium binary chromedriver starts. Default: `/usr/bin/chromium`.
pub const ENV_CHROMIUM: &str = "E2E_CHROMIUM";
/// Seconds a browser helper waits for a hook before failing. Default: 20.
pub const ENV_TIMEOUT_SECS: &str = "E2E_TIMEOUT_SECS";
/// Directory for per-test logs and failure screenshots. Default: `<workspace>/target/e2e-artifacts`.
pub const ENV_ARTIFACTS_DIR: &str = "E2E_ARTIFACTS_DIR";

/// Set to `1` by `cargo xtask test e2e`: the prerequisites must be there, so none is a reason to skip.
pub const ENV_REQUIRED: &str = "E2E_REQUIRED";

/// The harness's view of its environment, read once per harness. Relative paths are relative to the workspace.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The built SPA ([`ENV_DIST_DIR`]).
    pub dist_dir: PathBuf,
    /// Where the `api` and `dev-idp` binaries are ([`ENV_BIN_DIR`]).
    pub bin_dir: PathBuf,
    /// The chromedriver binary ([`ENV_CHROMEDRIVER`]).
    pub chromedriver: PathBuf,
    /// The Chromium binary ([`ENV_CHROMIUM`]).
    pub chromium: PathBuf,
    /// How long a browser helper waits ([`ENV_TIMEOUT_SECS`]).
    pub timeout: Duration,
    /// Where each test's logs and failure screenshots go ([`ENV_ARTIFACTS_DIR`]), one directory per test.
    pub artifacts_dir: PathBuf,
}

impl Settings {
    /// Reads the settings from the environment, falling back to the workspace defaults.
    pub fn from_env() -> Self {
        let root = workspace_root();
        // cargo runs test binaries in the package's directory, so a relative path is taken from the workspace
        // root, where whoever set it most likely stood.
        let path = |var: &str, default: PathBuf| std::env::var_os(var).map(|value| root.join(value)).unwrap_or(default);
        // Where cargo builds (the binaries, and the SPA `cargo xtask test e2e` builds): CARGO_TARGET_DIR if set.
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |dir| root.join(dir));
        let timeout_secs =
            std::env::var(ENV_TIMEOUT_SECS).ok().and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(20);
        Settings {
            dist_dir: path(ENV_DIST_DIR, target.join("e2e-dist")),
            bin_dir: path(ENV_BIN_DIR, target.join("debug")),
            chromedriver: path(ENV_CHROMEDRIVER, PathBuf::from("/usr/bin/chromedriver")),
            chromium: path(ENV_CHROMIUM, PathBuf::from("/usr/bin/chromium")),
            timeout: Duration::from_secs(timeout_secs),
            artifacts_dir: path(ENV_ARTIFACTS_DIR, root.join("target/e2e-artifacts")),
        }
    }
}

/// What a test needs from the machine before it can run; see [`Settings::skip_unless_ready`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs<'a> {
    /// A built SPA in this directory (its `index.html`).
    pub built_spa: Option<&'a Path>,
    /// The `api` and `dev-idp` binaries in [`Settings::bin_dir`].
    pub servers: bool,
    /// Chromium and chromedriver.
    pub browser: bool,
    /// trunk on `PATH` or in cargo's bin directory, for a test that runs `cargo xtask dev`.
    pub trunk: bool,
}

impl Settings {
    /// What of `needs` this machine lacks, one sentence each; empty when the test can run.
    pub fn missing(&self, needs: &Needs) -> Vec<String> {
        let mut missing = Vec::new();
        if let Some(dist) = needs.built_spa
            && !dist.join("index.html").is_file()
        {
            missing.push(format!("no built SPA at {} ({ENV_DIST_DIR})", dist.display()));
        }
        if needs.servers {
            for binary in ["api", "dev-idp"] {
                let path = self.bin_dir.join(binary);
                if !path.is_file() {
                    missing.push(format!("no {binary} binary at {} ({ENV_BIN_DIR})", path.display()));
                }
            }
        }
        if needs.browser {
            for (path, var) in [(&self.chromedriver, ENV_CHROMEDRIVER), (&self.chromium, ENV_CHROMIUM)] {
                if !path.is_file() {
                    missing.push(format!("no {} ({var})", path.display()));
                }
            }
        }
        if needs.trunk && find_program("trunk").is_none() {
            missing.push("no trunk on PATH or in cargo's bin directory".to_string());
        }
        missing
    }

    /// Ends the test binary successfully, saying why and naming the command that runs it, when the machine
    /// lacks something in `needs` — unless [`ENV_REQUIRED`] is `1`, in which case the test goes on and fails
    /// where the missing piece is used, with that step's own message.
    ///
    /// Every test of a binary needs the same things, so the first test to find one missing ends them all; the
    /// message goes straight to stderr, past libtest's output capture.
    pub fn skip_unless_ready(&self, needs: &Needs) {
        if std::env::var(ENV_REQUIRED).is_ok_and(|value| value.trim() == "1") {
            return;
        }
        let missing = self.missing(needs);
        if missing.is_empty() {
            return;
        }
        let binary = current_test_name().split('/').next().unwrap_or("e2e").to_string();
        let message = format!(
            "\nskipping the end-to-end tests in {binary}: {}.\nThey drive the built SPA, the servers and headless \
             Chromium; run them with `cargo xtask test e2e` (or `cargo xtask test` for every layer), which installs \
             and builds what they need. Set {ENV_REQUIRED}=1 to fail instead of skipping.\n",
            missing.join("; ")
        );
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(message.as_bytes());
        let _ = stderr.flush();
        std::process::exit(0);
    }
}

/// The first executable named `name` on `PATH` or in cargo's bin directory (`$CARGO_HOME/bin`, `~/.cargo/bin`),
/// where `cargo install` puts trunk.
fn find_program(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|path| std::env::split_paths(&path).collect()).unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    dirs.extend(cargo_home.map(|home| home.join("bin")));
    dirs.into_iter().map(|dir| dir.join(name)).find(|path| path.is_file())
}

/// The workspace root, two levels above this crate's manifest.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.ancestors().nth(2).unwrap_or(manifest_dir).to_path_buf()
}

/// A directory name for the running test, so each test's logs and screenshots land apart.
///
/// libtest names each test's thread after the test, and the binary's name (minus cargo's hash suffix) tells the
/// test files apart, so `roles/jhon_sees_every_screen` is stable from run to run.
pub fn current_test_name() -> String {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|stem| match stem.rsplit_once('-') {
            Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_string(),
            _ => stem,
        })
        .unwrap_or_else(|| "e2e".to_string());
    let thread = std::thread::current();
    let test = thread.name().filter(|name| *name != "main").unwrap_or("unnamed");
    let sanitize =
        |s: &str| s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect::<String>();
    format!("{}/{}", sanitize(&binary), sanitize(test))
}
