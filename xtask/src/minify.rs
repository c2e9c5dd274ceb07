//! Minifying the release SPA's JS and CSS with esbuild, a step of its split ([`crate::split`]).
//!
//! trunk's own minifier cannot parse wasm-bindgen's glue (README, "The release build and its size"), so the
//! release build minifies what a first load fetches as text here instead: the glue and the split loader (ES
//! modules: their own top-level names may be shortened, their exports may not), `fatal.js` (a classic script:
//! its top-level names could be globals, so esbuild leaves them) and the stylesheet. esbuild is pinned
//! ([`crate::tools::ESBUILD_NPM_VERSION`]) so a build is reproducible; it runs on files in the split's scratch
//! directory, never in place on the dist.

use crate::process::{command, run_checked};
use anyhow::{Context, Result};
use std::path::Path;

/// What a text is, which decides how esbuild may minify it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An ES module (`<script type="module">`, `import`): its own top-level names are private.
    Module,
    /// A classic script: its top-level names are globals, kept.
    Script,
    /// A stylesheet.
    Css,
}

impl Kind {
    fn extension(self) -> &'static str {
        match self {
            Kind::Module | Kind::Script => "js",
            Kind::Css => "css",
        }
    }
}

/// `text` minified by esbuild; `name` names it in errors and in the scratch files under `work`.
pub(crate) fn minify(text: &str, kind: Kind, name: &str, work: &Path) -> Result<String> {
    let dir = work.join("minify");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let input = dir.join(format!("{name}.{}", kind.extension()));
    let output = dir.join(format!("{name}.min.{}", kind.extension()));
    std::fs::write(&input, text).with_context(|| format!("writing {}", input.display()))?;
    let mut esbuild = command("esbuild");
    esbuild.arg(&input).arg(format!("--outfile={}", output.display())).args([
        "--minify",
        "--log-level=error",
        "--charset=utf8",
        "--legal-comments=none",
    ]);
    if kind == Kind::Module {
        esbuild.arg("--format=esm");
    }
    run_checked(&mut esbuild).with_context(|| format!("minifying {name}"))?;
    std::fs::read_to_string(&output).with_context(|| format!("reading {}", output.display()))
}
