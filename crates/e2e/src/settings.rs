//! Where the harness finds what it drives: the built SPA, the server binaries, the browser, and where it
//! leaves logs and screenshots. Everything has a default that fits `cargo xtask test e2e` in this workspace,
//! and an environment variable to override it.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Directory of the built SPA (`index.html` and its assets). Default: `<workspace>/target/e2e-dist`.
pub const ENV_DIST_DIR: &str = "E2E_DIST_DIR";
/// Directory holding the `api` and `dev-idp` binaries. Default: `<workspace>/target/debug`.
pub const ENV_BIN_DIR: &str = "E2E_BIN_DIR";
/// The chromedriver binary. Default: `/usr/bin/chromedriver` (the same variable wasm-bindgen-test-runner reads).
pub const ENV_CHROMEDRIVER: &str = "CHROMEDRIVER";
/// The Chromium binary chromedriver starts. Default: `/usr/bin/chromium`.
pub const ENV_CHROMIUM: &str = "E2E_CHROMIUM";
/// Seconds a browser helper waits for a hook before failing. Default: 20.
pub const ENV_TIMEOUT_SECS: &str = "E2E_TIMEOUT_SECS";
/// Directory for per-test logs and failure screenshots. Default: `<workspace>/target/e2e-artifacts`.
pub const ENV_ARTIFACTS_DIR: &str = "E2E_ARTIFACTS_DIR";

/// The harness's view of its environment, read once per harness. Relative paths are relative to the workspace.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dist_dir: PathBuf,
    pub bin_dir: PathBuf,
    pub chromedriver: PathBuf,
    pub chromium: PathBuf,
    pub timeout: Duration,
    pub artifacts_dir: PathBuf,
}

impl Settings {
    /// Reads the settings from the environment, falling back to the workspace defaults.
    pub fn from_env() -> Self {
        let root = workspace_root();
        // cargo runs test binaries in the package's directory, so a relative path is taken from the workspace
        // root, where whoever set it most likely stood.
        let path = |var: &str, default: PathBuf| std::env::var_os(var).map(|value| root.join(value)).unwrap_or(default);
        let timeout_secs =
            std::env::var(ENV_TIMEOUT_SECS).ok().and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(20);
        Settings {
            dist_dir: path(ENV_DIST_DIR, root.join("target/e2e-dist")),
            bin_dir: path(ENV_BIN_DIR, root.join("target/debug")),
            chromedriver: path(ENV_CHROMEDRIVER, PathBuf::from("/usr/bin/chromedriver")),
            chromium: path(ENV_CHROMIUM, PathBuf::from("/usr/bin/chromium")),
            timeout: Duration::from_secs(timeout_secs),
            artifacts_dir: path(ENV_ARTIFACTS_DIR, root.join("target/e2e-artifacts")),
        }
    }
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
