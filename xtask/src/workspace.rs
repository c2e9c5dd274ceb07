//! Facts about the workspace that several commands need: where it is, where cargo puts its output, which
//! packages hold wasm code, and which wasm-bindgen version the lock file pins.

use crate::process::{capture, cargo};
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The workspace root (the parent of this crate's directory).
pub(crate) fn root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The package name of the SPA at the workspace root.
pub(crate) const SPA_PACKAGE: &str = "permission-spa";

/// What `cargo metadata` says about the workspace's own packages.
pub(crate) struct Metadata {
    pub(crate) target_dir: PathBuf,
    packages: Vec<Value>,
}

impl Metadata {
    /// Runs `cargo metadata --no-deps` on the workspace.
    pub(crate) fn load() -> Result<Self> {
        let mut command = cargo();
        command.args(["metadata", "--no-deps", "--format-version", "1"]).current_dir(root());
        let json = capture(&mut command)?.context("cargo was not found")?;
        let value: Value = serde_json::from_str(&json).context("parsing `cargo metadata` output")?;
        let target_dir = value["target_directory"].as_str().context("`cargo metadata` lacks target_directory")?;
        let packages = value["packages"].as_array().cloned().unwrap_or_default();
        Ok(Metadata { target_dir: PathBuf::from(target_dir), packages })
    }

    /// Packages with browser code: the SPA, and every member that depends on wasm-bindgen, web-sys or js-sys.
    ///
    /// These are linted for `wasm32-unknown-unknown` as well.
    pub(crate) fn wasm_packages(&self) -> Vec<String> {
        self.select(|package| depends_on(package, &["wasm-bindgen", "web-sys", "js-sys"], |kind| kind.is_none()))
    }

    /// Packages whose tests run in the browser: the SPA, and every wasm package with wasm-bindgen-test.
    pub(crate) fn wasm_test_packages(&self) -> Vec<String> {
        let wasm = self.wasm_packages();
        self.select(|package| {
            let name = package["name"].as_str().unwrap_or_default();
            wasm.iter().any(|w| w == name) && depends_on(package, &["wasm-bindgen-test"], |_| true)
        })
    }

    /// Names of the SPA plus the packages `wanted` accepts, in manifest order.
    fn select(&self, wanted: impl Fn(&Value) -> bool) -> Vec<String> {
        let mut names = vec![SPA_PACKAGE.to_string()];
        for package in &self.packages {
            let name = package["name"].as_str().unwrap_or_default();
            if name != SPA_PACKAGE && wanted(package) {
                names.push(name.to_string());
            }
        }
        names
    }
}

/// Whether `package` has a dependency named in `names` whose kind (`None` = normal, `dev`, `build`) `kind` accepts.
fn depends_on(package: &Value, names: &[&str], kind: impl Fn(Option<&str>) -> bool) -> bool {
    package["dependencies"].as_array().is_some_and(|deps| {
        deps.iter().any(|dep| names.contains(&dep["name"].as_str().unwrap_or_default()) && kind(dep["kind"].as_str()))
    })
}

/// The version of the `wasm-bindgen` crate in Cargo.lock, which the wasm-bindgen CLI must equal.
pub(crate) fn locked_wasm_bindgen_version() -> Result<String> {
    let lock_path = root().join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path).with_context(|| format!("reading {}", lock_path.display()))?;
    let mut versions = Vec::new();
    let mut in_wasm_bindgen = false;
    for line in lock.lines().map(str::trim) {
        if line == "[[package]]" {
            in_wasm_bindgen = false;
        } else if let Some(name) = quoted_value(line, "name") {
            in_wasm_bindgen = name == "wasm-bindgen";
        } else if in_wasm_bindgen && let Some(version) = quoted_value(line, "version") {
            versions.push(version.to_string());
        }
    }
    versions.dedup();
    match versions.as_slice() {
        [version] => Ok(version.clone()),
        [] => bail!("{} has no wasm-bindgen package; run `cargo generate-lockfile`", lock_path.display()),
        many => bail!(
            "{} holds several wasm-bindgen versions ({}); the wasm-bindgen CLI can match only one",
            lock_path.display(),
            many.join(", ")
        ),
    }
}

/// The value of a `key = "value"` line, if `line` is one.
fn quoted_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(key)?.trim_start().strip_prefix('=')?.trim();
    rest.strip_prefix('"')?.strip_suffix('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first `key = "value"` of `text`.
    fn first_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
        text.lines().map(str::trim).find_map(|line| quoted_value(line, key))
    }

    #[test]
    fn the_pinned_toolchain_is_the_declared_minimum() {
        let read = |name: &str| std::fs::read_to_string(root().join(name)).unwrap();
        let channel = first_value(&read("rust-toolchain.toml"), "channel").unwrap().to_string();
        let minimum = first_value(&read("Cargo.toml"), "rust-version").unwrap().to_string();
        // CI builds with the pinned toolchain, so pinning the minimum is what checks that the minimum works.
        assert!(
            channel == minimum || channel.strip_prefix(&minimum).is_some_and(|rest| rest.starts_with('.')),
            "rust-toolchain.toml pins {channel}, but Cargo.toml declares rust-version {minimum}"
        );
    }

    #[test]
    fn quoted_values_are_read() {
        assert_eq!(quoted_value(r#"version = "0.2.130""#, "version"), Some("0.2.130"));
        assert_eq!(quoted_value("version = 3", "version"), None);
        assert_eq!(quoted_value(r#"name = "x""#, "version"), None);
    }
}
