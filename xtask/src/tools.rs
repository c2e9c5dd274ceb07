//! Installing and checking the tools outside cargo's reach: a C compiler, the rustfmt and clippy components,
//! trunk, the wasm-bindgen CLI, the wasm32 target, wasm-opt (npm's binaryen, run by Node), esbuild (npm) and Chromium with
//! chromedriver.
//!
//! Every check is cheap and every install is skipped when the right version is present, so commands can call
//! [`ensure`] on every run; it prints one line per tool (`ok` or `install`, with why) and closes with what it
//! installed. Versions are pinned where the build depends on them: trunk 0.21 (0.22 needs a newer rustc), the
//! wasm-bindgen CLI equal to the crate in Cargo.lock, and wasm-opt 132 as Trunk.toml requests. The Rust
//! toolchain itself is pinned by rust-toolchain.toml (rustup installs that on first use, but not the components
//! of a toolchain that is already there, hence the component check); the release SPA alone builds with a nightly
//! pinned to a date ([`SPA_RELEASE_TOOLCHAIN`]), which xtask installs with rustup. System packages come from apt, as root or
//! through passwordless sudo. npm tools go to a per-user cache directory so fresh clones reuse them.

use crate::process::{cargo, command, probe, run_checked};
use crate::workspace;
use anyhow::{Context, Result, bail};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The trunk release that builds with the project's Rust.
pub(crate) const TRUNK_VERSION: &str = "0.21.14";
/// The npm binaryen release whose wasm-opt trunk uses (Trunk.toml pins `wasm_opt = "version_132"`).
pub(crate) const BINARYEN_NPM_VERSION: &str = "132.0.0";
/// The npm esbuild release that minifies the release SPA's JS and CSS ([`crate::minify`]).
pub(crate) const ESBUILD_NPM_VERSION: &str = "0.28.2";
/// The version wasm-opt reports, as trunk reads it.
pub(crate) const WASM_OPT_VERSION: &str = "132";
/// The Rust target the SPA compiles to.
pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The toolchain of the release SPA build alone (`dist::release_build_command`): a nightly pinned to a date,
/// for rebuilding std for size (`-Z build-std`), which cuts the first load by a tenth (README, "The release
/// build"). Everything else, the debug SPA of `cargo xtask dev` included, builds with rust-toolchain.toml's
/// stable. rustc 1.97.0-nightly (e50aa6fba 2026-05-19); it needs no wasm32 target, only rust-src.
pub(crate) const SPA_RELEASE_TOOLCHAIN: &str = "nightly-2026-05-20";
/// Where Debian's chromium and chromium-driver packages put their binaries.
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The rustup components the lint layer runs.
const RUST_COMPONENTS: [(&str, &str); 2] = [("rustfmt", "fmt"), ("clippy", "clippy")];

/// Which tools a command needs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Needs {
    /// A C compiler (`cc`, or `$CC`): SQLite inside sqlx and the crypto crates compile C, and so does
    /// `cargo install` of trunk.
    pub(crate) c_compiler: bool,
    /// The rustfmt and clippy components.
    pub(crate) rust_components: bool,
    /// `rustup target add wasm32-unknown-unknown`.
    pub(crate) wasm_target: bool,
    /// The wasm-bindgen CLI (trunk's bindings generator and the wasm test runner).
    pub(crate) wasm_bindgen: bool,
    /// trunk, and wasm-opt with Node to run it.
    pub(crate) trunk: bool,
    /// [`SPA_RELEASE_TOOLCHAIN`] with rust-src, for the release SPA build.
    pub(crate) release_toolchain: bool,
    /// Chromium and chromedriver.
    pub(crate) browser: bool,
}

impl Needs {
    /// Building and running the native crates.
    pub(crate) const NATIVE: Needs = Needs {
        c_compiler: true,
        rust_components: false,
        wasm_target: false,
        wasm_bindgen: false,
        trunk: false,
        release_toolchain: false,
        browser: false,
    };
    pub(crate) const ALL: Needs = Needs {
        c_compiler: true,
        rust_components: true,
        wasm_target: true,
        wasm_bindgen: true,
        trunk: true,
        release_toolchain: true,
        browser: true,
    };
    /// What building the SPA with trunk takes.
    pub(crate) const SPA_BUILD: Needs =
        Needs { wasm_target: true, wasm_bindgen: true, trunk: true, release_toolchain: true, ..Needs::NATIVE };

    /// Everything either set needs.
    pub(crate) fn and(self, other: Needs) -> Needs {
        Needs {
            c_compiler: self.c_compiler || other.c_compiler,
            rust_components: self.rust_components || other.rust_components,
            wasm_target: self.wasm_target || other.wasm_target,
            wasm_bindgen: self.wasm_bindgen || other.wasm_bindgen,
            trunk: self.trunk || other.trunk,
            release_toolchain: self.release_toolchain || other.release_toolchain,
            browser: self.browser || other.browser,
        }
    }
}

/// What this run of xtask installed, for the closing line of [`ensure`].
static INSTALLED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Checks, and installs where missing, every tool in `needs`.
pub(crate) fn ensure(needs: Needs) -> Result<()> {
    println!("checking tools ...");
    if needs.c_compiler {
        ensure_c_compiler()?;
    }
    if needs.rust_components {
        ensure_rust_components()?;
    }
    if needs.wasm_target {
        ensure_wasm_target()?;
    }
    if needs.wasm_bindgen || needs.trunk {
        ensure_wasm_bindgen()?;
    }
    if needs.trunk {
        ensure_node()?;
        ensure_wasm_opt()?;
        ensure_esbuild()?;
        ensure_trunk()?;
    }
    if needs.release_toolchain {
        ensure_release_toolchain()?;
    }
    if needs.browser {
        ensure_chromium()?;
    }
    let installed = INSTALLED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if installed.is_empty() {
        println!("tools ready: everything was in place\n");
    } else {
        println!("tools ready: installed {}\n", installed.join(", "));
    }
    Ok(())
}

/// Where npm-installed tools live: `$PERMISSION_SPA_TOOLS_DIR`, else the user's cache directory.
pub(crate) fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PERMISSION_SPA_TOOLS_DIR") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")));
    match cache {
        Some(cache) => cache.join("permission-spa/tools"),
        None => workspace::root().join("target/tools"),
    }
}

/// The directory npm links the tools' executables into.
fn npm_bin_dir() -> PathBuf {
    tools_dir().join("node_modules/.bin")
}

/// Where `cargo install` puts binaries.
fn cargo_bin_dir() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .map(|home| home.join("bin"))
}

/// PATH for every child: the npm tools first (so trunk takes this wasm-opt over a system one), then cargo's
/// install directory (so freshly installed tools are found), then the inherited PATH.
pub(crate) fn search_path() -> OsString {
    let mut dirs = vec![npm_bin_dir()];
    dirs.extend(cargo_bin_dir());
    dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(dirs).unwrap_or_else(|_| std::env::var_os("PATH").unwrap_or_default())
}

/// Prints a line for a tool that is already in place.
fn present(what: &str, detail: &str) {
    println!("  ok       {what}: {detail}");
}

/// Prints a line for a tool about to be installed, and remembers it for the summary.
fn installing(what: &str, why: &str) {
    println!("  install  {what}: {why}");
    INSTALLED.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(what.to_string());
}

/// The C compiler cc-rs (and so every `-sys` crate here) uses: `$CC`, else `cc`.
fn c_compiler() -> OsString {
    std::env::var_os("CC").filter(|cc| !cc.is_empty()).unwrap_or_else(|| "cc".into())
}

fn ensure_c_compiler() -> Result<()> {
    let cc = c_compiler();
    let shown = cc.to_string_lossy().into_owned();
    if let Some(version) = probe(command(&cc).arg("--version")) {
        present("C compiler", &format!("{shown}: {}", version.lines().next().unwrap_or_default()));
        return Ok(());
    }
    if std::env::var_os("CC").is_some_and(|cc| !cc.is_empty()) {
        bail!("CC names {shown}, which does not run; fix CC or unset it to use `cc`");
    }
    installing("C compiler", "`cc` not found (SQLite and the crypto crates compile C); apt build-essential");
    apt_install(&["build-essential"])?;
    if probe(command("cc").arg("--version")).is_none() {
        bail!("`cc` still does not run after installing build-essential");
    }
    Ok(())
}

/// Whether `cargo <subcommand> --version` runs in the workspace (with the toolchain rust-toolchain.toml picks).
fn cargo_subcommand_runs(subcommand: &str) -> bool {
    probe(cargo().args([subcommand, "--version"]).current_dir(workspace::root())).is_some()
}

fn ensure_rust_components() -> Result<()> {
    let missing: Vec<&str> = RUST_COMPONENTS
        .iter()
        .filter(|(_, sub)| !cargo_subcommand_runs(sub))
        .map(|(component, _)| *component)
        .collect();
    if missing.is_empty() {
        present("rust components", "rustfmt, clippy");
        return Ok(());
    }
    if probe(command("rustup").arg("--version")).is_none() {
        bail!(
            "the Rust components {} are missing and rustup was not found to add them; install them with your \
             toolchain's installer",
            missing.join(", ")
        );
    }
    installing("rust components", &format!("{} missing", missing.join(", ")));
    run_checked(command("rustup").args(["component", "add"]).args(&missing).current_dir(workspace::root()))?;
    if let Some((component, _)) = RUST_COMPONENTS.iter().find(|(_, sub)| !cargo_subcommand_runs(sub)) {
        bail!("`rustup component add {component}` succeeded but `cargo` still does not find it");
    }
    Ok(())
}

fn ensure_wasm_target() -> Result<()> {
    let mut list = command("rustup");
    list.args(["target", "list", "--installed"]).current_dir(workspace::root());
    match probe(&mut list) {
        Some(installed) if installed.lines().any(|line| line.trim() == WASM_TARGET) => {
            present("rust target", WASM_TARGET);
            Ok(())
        }
        Some(_) => {
            installing("rust target", WASM_TARGET);
            run_checked(command("rustup").args(["target", "add", WASM_TARGET]).current_dir(workspace::root()))
        }
        None => bail!(
            "rustup was not found, so the {WASM_TARGET} target cannot be checked or added; install Rust with rustup \
             (https://rustup.rs) or add the target to your toolchain by other means"
        ),
    }
}

/// Whether [`SPA_RELEASE_TOOLCHAIN`] runs and has the standard library's source, which `-Z build-std` compiles.
fn release_toolchain_ready() -> bool {
    let toolchain = format!("+{SPA_RELEASE_TOOLCHAIN}");
    probe(command("rustc").args([toolchain.as_str(), "--print", "sysroot"]).env_remove("RUSTUP_TOOLCHAIN"))
        .is_some_and(|sysroot| Path::new(sysroot.trim()).join("lib/rustlib/src/rust/library/std/Cargo.toml").is_file())
}

fn ensure_release_toolchain() -> Result<()> {
    if release_toolchain_ready() {
        present("release toolchain", &format!("{SPA_RELEASE_TOOLCHAIN} with rust-src"));
        return Ok(());
    }
    if probe(command("rustup").arg("--version")).is_none() {
        bail!(
            "the release SPA builds with {SPA_RELEASE_TOOLCHAIN} (rust-src included), and rustup was not found to \
             install it; install Rust with rustup (https://rustup.rs)"
        );
    }
    installing("release toolchain", &format!("{SPA_RELEASE_TOOLCHAIN} with rust-src (the release SPA's build)"));
    run_checked(command("rustup").args([
        "toolchain",
        "install",
        SPA_RELEASE_TOOLCHAIN,
        "--profile",
        "minimal",
        "--component",
        "rust-src",
    ]))?;
    if !release_toolchain_ready() {
        bail!("rustup installed {SPA_RELEASE_TOOLCHAIN}, but its rustc does not run or lacks rust-src");
    }
    Ok(())
}

fn ensure_wasm_bindgen() -> Result<()> {
    let wanted = workspace::locked_wasm_bindgen_version()?;
    let found = probe(command("wasm-bindgen").arg("--version"));
    let runner = probe(command("wasm-bindgen-test-runner").arg("--version"));
    let version_of =
        |output: &Option<String>| output.as_deref().and_then(|o| o.split_whitespace().nth(1)).map(String::from);
    if version_of(&found).as_deref() == Some(&wanted) && version_of(&runner).as_deref() == Some(&wanted) {
        present("wasm-bindgen-cli", &wanted);
        return Ok(());
    }
    let why = match found {
        Some(other) => format!("{other} found, Cargo.lock needs {wanted}"),
        None => format!("not found, Cargo.lock needs {wanted}"),
    };
    installing("wasm-bindgen-cli", &why);
    // No --locked: the CLI's own lock file pins crates that no longer build with current Rust.
    run_checked(cargo().args(["install", "wasm-bindgen-cli", "--version", &wanted, "--force"]))?;
    match version_of(&probe(command("wasm-bindgen").arg("--version"))) {
        Some(version) if version == wanted => Ok(()),
        other => bail!(
            "wasm-bindgen {wanted} was installed but `wasm-bindgen --version` reports {other:?}; is another \
             wasm-bindgen earlier on PATH?"
        ),
    }
}

fn ensure_trunk() -> Result<()> {
    let expected = format!("trunk {TRUNK_VERSION}");
    let found = probe(command("trunk").arg("--version"));
    if found.as_deref() == Some(expected.as_str()) {
        present("trunk", TRUNK_VERSION);
        return Ok(());
    }
    let why = match &found {
        Some(other) => format!("{other} found, need {TRUNK_VERSION}"),
        None => "not found".to_string(),
    };
    installing("trunk", &format!("{why}; cargo install takes about 15 minutes on a cold machine"));
    run_checked(cargo().args(["install", "trunk", "--version", TRUNK_VERSION, "--locked", "--force"]))?;
    match probe(command("trunk").arg("--version")) {
        Some(version) if version == expected => Ok(()),
        other => bail!("trunk {TRUNK_VERSION} was installed but `trunk --version` reports {other:?}"),
    }
}

fn ensure_node() -> Result<()> {
    let node = probe(command("node").arg("--version"));
    let npm = probe(command("npm").arg("--version"));
    if let (Some(node), Some(npm)) = (&node, &npm) {
        present("node / npm", &format!("{node} / {npm}"));
        return Ok(());
    }
    installing("node / npm", "not found (wasm-opt from npm's binaryen runs under Node)");
    apt_install(&["nodejs", "npm"])?;
    if probe(command("node").arg("--version")).is_none() || probe(command("npm").arg("--version")).is_none() {
        bail!("node and npm are still not usable after installing them with apt");
    }
    Ok(())
}

/// The version wasm-opt at `path` reports, read the way trunk reads it (the third word).
fn wasm_opt_version(path: &Path) -> Option<String> {
    let output = probe(command(path).arg("--version"))?;
    output.split(' ').nth(2).map(String::from)
}

fn ensure_wasm_opt() -> Result<()> {
    let wasm_opt = npm_bin_dir().join("wasm-opt");
    let version = || wasm_opt_version(&wasm_opt);
    ensure_npm_tool("wasm-opt", "binaryen", BINARYEN_NPM_VERSION, WASM_OPT_VERSION, &wasm_opt, version)
}

fn ensure_esbuild() -> Result<()> {
    let esbuild = npm_bin_dir().join("esbuild");
    let version = || probe(command(&esbuild).arg("--version"));
    ensure_npm_tool("esbuild", "esbuild", ESBUILD_NPM_VERSION, ESBUILD_NPM_VERSION, &esbuild, version)
}

/// Installs the npm `package` at `package_version` into [`tools_dir`] unless `version()` (the installed `tool` at
/// `path`, as it reports itself) is already `expected`, and checks it afterwards.
fn ensure_npm_tool(
    tool: &str,
    package: &str,
    package_version: &str,
    expected: &str,
    path: &Path,
    version: impl Fn() -> Option<String>,
) -> Result<()> {
    if version().as_deref() == Some(expected) {
        present(tool, &format!("{expected} ({})", path.display()));
        return Ok(());
    }
    let dir = tools_dir();
    let package = format!("{package}@{package_version}");
    installing(tool, &format!("npm {package} into {}", dir.display()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    run_checked(
        command("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
            .arg(&dir)
            .arg(&package),
    )?;
    match version() {
        Some(version) if version == expected => Ok(()),
        other => bail!("{} reports version {other:?} after installing {package}, expected {expected}", path.display()),
    }
}

/// The Chromium and chromedriver binaries: the environment's choice (as the e2e harness reads it), else Debian's.
pub(crate) fn browser_paths() -> (PathBuf, PathBuf) {
    let chromium = std::env::var_os("E2E_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| CHROMIUM.into());
    let chromedriver = std::env::var_os("CHROMEDRIVER").map(PathBuf::from).unwrap_or_else(|| CHROMEDRIVER.into());
    (chromium, chromedriver)
}

fn ensure_chromium() -> Result<()> {
    let (chromium, chromedriver) = browser_paths();
    if !(chromium.is_file() && chromedriver.is_file()) {
        installing("chromium / chromedriver", &format!("{} or {} missing", chromium.display(), chromedriver.display()));
        apt_install(&["chromium", "chromium-driver"])?;
        if !(chromium.is_file() && chromedriver.is_file()) {
            bail!("{} and {} are still missing after the apt install", chromium.display(), chromedriver.display());
        }
    }
    let version = probe(command(&chromedriver).arg("--version")).unwrap_or_else(|| "version unknown".into());
    present("chromium / chromedriver", &version);
    Ok(())
}

/// Installs Debian packages, as root or through passwordless sudo, running `apt-get update` once per xtask run.
pub(crate) fn apt_install(packages: &[&str]) -> Result<()> {
    static UPDATED: AtomicBool = AtomicBool::new(false);
    if probe(command("apt-get").arg("--version")).is_none() {
        bail!(
            "apt-get is not available to install {}; install them with your system's package manager",
            packages.join(" ")
        );
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let sudo = !root && probe(command("sudo").args(["-n", "true"])).is_some();
    if !root && !sudo {
        bail!(
            "installing {} needs root: run `sudo apt-get update && sudo apt-get install -y {}` and try again",
            packages.join(" "),
            packages.join(" ")
        );
    }
    let apt = |args: &[&str]| {
        let mut apt = if sudo {
            let mut sudo = command("sudo");
            sudo.args(["-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
            sudo
        } else {
            command("apt-get")
        };
        apt.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        apt
    };
    if !UPDATED.swap(true, Ordering::SeqCst) {
        run_checked(&mut apt(&["update"]))?;
    }
    let mut install = apt(&["install", "-y"]);
    install.args(packages);
    run_checked(&mut install)
}

/// A `trunk` command in the workspace root, with the project's tools on PATH and trunk's update check off
/// (it would reach for the network on every run).
pub(crate) fn trunk() -> std::process::Command {
    let mut trunk = command("trunk");
    trunk.env("TRUNK_SKIP_VERSION_CHECK", "true").current_dir(workspace::root());
    trunk
}
