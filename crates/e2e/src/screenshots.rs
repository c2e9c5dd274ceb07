//! The product screenshots the README shows: `docs/screenshots/<user>-<screen>.png` in the workspace, taken
//! by the end-to-end tests and regenerated on every run, so they always show what the SPA renders now.
//!
//! Unlike a failure screenshot (which goes to the test's artifacts), these are part of the documentation:
//! they are taken once the screen has settled (fonts loaded, a frame painted), at the harness's fixed window
//! size, and written atomically so a crashed run never leaves half a PNG behind.

use crate::Browser;
use crate::settings::workspace_root;
use anyhow::{Context, Result, bail, ensure};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Overrides where the product screenshots go (relative paths are taken from the workspace root).
pub const ENV_SCREENSHOTS_DIR: &str = "E2E_SCREENSHOTS_DIR";

/// How long a screen may take to settle before its screenshot.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the product screenshots go: `<workspace>/docs/screenshots` unless [`ENV_SCREENSHOTS_DIR`] says
/// otherwise.
pub fn screenshots_dir() -> PathBuf {
    let root = workspace_root();
    match std::env::var_os(ENV_SCREENSHOTS_DIR) {
        Some(dir) => root.join(dir),
        None => root.join("docs/screenshots"),
    }
}

/// The file of `user`'s screenshot of `screen`, e.g. `docs/screenshots/jhon-projects.png`.
pub fn screenshot_path(user: &str, screen: &str) -> PathBuf {
    screenshots_dir().join(format!("{user}-{screen}.png"))
}

/// Waits until the page has settled (document loaded, web fonts ready, two frames painted), then saves the
/// window as `docs/screenshots/<user>-<screen>.png` and returns the path. The caller waits for the screen's
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
}
