//! The product screenshots the README shows, `<user>-<screen>.png`, taken by the end-to-end tests.
//!
//! A test run writes them under the test artifacts (`target/e2e-artifacts/screenshots/`), never into the
//! tracked files: only `cargo xtask screenshots` points [`ENV_SCREENSHOTS_DIR`] at `docs/screenshots`, so the
//! README's pictures change when someone means to change them. Unlike a failure screenshot, they are taken once
//! the screen has settled (fonts loaded, a frame painted), at the harness's fixed window size, and written
//! atomically so a crashed run never leaves half a PNG behind.

use crate::Browser;
use crate::settings::{Settings, workspace_root};
use anyhow::{Context, Result, bail, ensure};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the product screenshots go (relative paths are taken from the workspace root); `cargo xtask screenshots`
/// sets it to `docs/screenshots`.
pub const ENV_SCREENSHOTS_DIR: &str = "E2E_SCREENSHOTS_DIR";

/// How long a screen may take to settle before its screenshot.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the product screenshots go: [`ENV_SCREENSHOTS_DIR`] if set, else `screenshots/` in the artifacts
/// directory (`<workspace>/target/e2e-artifacts/screenshots`).
pub fn screenshots_dir() -> PathBuf {
    match std::env::var_os(ENV_SCREENSHOTS_DIR).filter(|dir| !dir.is_empty()) {
        Some(dir) => workspace_root().join(dir),
        None => Settings::from_env().artifacts_dir.join("screenshots"),
    }
}

/// The file of `user`'s screenshot of `screen`, e.g. `target/e2e-artifacts/screenshots/jhon-projects.png`.
pub fn screenshot_path(user: &str, screen: &str) -> PathBuf {
    screenshots_dir().join(format!("{user}-{screen}.png"))
}

/// Waits until the page has settled (document loaded, web fonts ready, two frames painted), then saves the
/// window as `<user>-<screen>.png` in [`screenshots_dir`] and returns the path. The caller waits for the screen's
/// own content (its rows, its Forbidden view) first; this only waits for the paint.
pub async fn save(browser: &Browser, user: &str, screen: &str) -> Result<PathBuf> {
    settle(browser).await.with_context(|| format!("waiting for {user}'s {screen} screen to settle"))?;
    let png = browser.client().screenshot().await.context("taking a screenshot")?;
    let (width, height) = png_size(&png)?;
    ensure!(width > 0 && height > 0, "the screenshot of {user}'s {screen} screen is empty ({width}×{height})");
    let path = screenshot_path(user, screen);
    write_atomically(&path, &png)?;
    Ok(path)
}

/// Waits for `document.readyState == "complete"` and `document.fonts.status == "loaded"`, then for two
/// animation frames, so the layout of the last render is on screen.
async fn settle(browser: &Browser) -> Result<()> {
    browser
        .wait_until("the document and its fonts to finish loading", SETTLE_TIMEOUT, async || {
            let ready = browser
                .execute(
                    "return document.readyState === 'complete' && (!document.fonts || document.fonts.status === 'loaded');",
                    Vec::new(),
                )
                .await?;
            Ok((ready == serde_json::Value::Bool(true)).then_some(()))
        })
        .await?;
    browser
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            Vec::new(),
        )
        .await
        .context("waiting for two animation frames")?;
    Ok(())
}

/// The width and height a PNG's header gives.
pub fn png_size(png: &[u8]) -> Result<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if png.len() < 24 || !png.starts_with(SIGNATURE) || &png[12..16] != b"IHDR" {
        bail!("not a PNG ({} bytes)", png.len());
    }
    let number = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    Ok((number(16), number(20)))
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("a screenshot path has a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path.file_name().context("a screenshot path has a file name")?.to_string_lossy();
    let partial = dir.join(format!(".{name}.{}.partial", std::process::id()));
    std::fs::write(&partial, bytes).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("renaming {} to {}", partial.display(), path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_headers_are_read() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&1280u32.to_be_bytes());
        png.extend_from_slice(&900u32.to_be_bytes());
        assert_eq!(png_size(&png).unwrap(), (1280, 900));
        assert!(png_size(b"GIF89a, not a PNG at all").is_err());
    }

    #[test]
    fn paths_name_the_user_and_the_screen() {
        let path = screenshot_path("james", "inspector");
        assert!(path.ends_with("james-inspector.png"), "{}", path.display());
    }

    #[test]
    fn a_test_run_leaves_the_documentation_alone() {
        // Only `cargo xtask screenshots` sets the variable; a test run (which never sets it) must not write docs/.
        if std::env::var_os(ENV_SCREENSHOTS_DIR).is_none() {
            let dir = screenshots_dir();
            assert!(!dir.starts_with(workspace_root().join("docs")), "{}", dir.display());
            assert!(dir.starts_with(Settings::from_env().artifacts_dir), "{}", dir.display());
        }
    }
}
