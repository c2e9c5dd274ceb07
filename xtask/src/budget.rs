//! The size budget: what a signed-out first load of the release SPA downloads, brotli-compressed, and the line
//! `cargo xtask test` holds it under.
//!
//! A first load fetches `index.html`, every asset it names (the JS glue, the wasm, the CSS, the favicon) and, at
//! start-up, `/config.json`; maps are never fetched. The figure is the sum of each file's brotli size (quality
//! 11, as a static host pre-compresses), the same measure `cargo xtask bench` applies to what the browser fetched.
//! The files are found from `index.html` itself, so a file trunk adds or renames is counted without a change here.

use crate::dist::{self, Sizes};
use crate::split;
use anyhow::{Context, Result, bail};
use std::path::Path;

/// The React peer's signed-out first load, brotli bytes, as `cargo xtask bench` measured it (index.html, its JS
/// and CSS, config.json, favicon).
pub(crate) const REACT_PEER_FIRST_LOAD: usize = 92_943;

/// The most our first load may weigh, brotli bytes: issue 8's must line, 1.3 × [`REACT_PEER_FIRST_LOAD`]
/// (120,825 B). The dist came under it on 2026-12-07 (119,822 B, from 257,829 B at the start of the size work) with
/// short names between the wasm and its glue and esbuild's minification (README, "The release build and its
/// size"); a change that takes the first load past it fails `cargo xtask test`.
///
/// Plus [`DPOP_FIRST_LOAD_COST`]: DPoP (issue 10) is code every signed-in load runs, and the React peer has none.
pub(crate) const FIRST_LOAD_BROTLI_BUDGET: usize = REACT_PEER_FIRST_LOAD * 13 / 10 + DPOP_FIRST_LOAD_COST;

/// What sender-constrained tokens (DPoP, issue 10) add to the first load, brotli bytes: the key kept in IndexedDB,
/// the signed proofs and their nonce and clock retries, all in the main module since a signed-in load's refresh
/// carries a proof. Measured on 2026-12-08: 126,621 B with it, 119,962 B before it (6,659 B). The peer sends no
/// proofs, so the cost is named here instead of hidden in the ratio: it is issue 8's line for the app without DPoP.
pub(crate) const DPOP_FIRST_LOAD_COST: usize = 6_700;

/// The sizes of every file a first load of `dist` fetches, in the order `index.html` names them (index.html
/// first, `/config.json` last unless index.html names it).
pub(crate) fn first_load(dist: &Path) -> Result<Vec<Sizes>> {
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index).with_context(|| format!("reading {}", index.display()))?;
    let mut paths = vec!["/index.html".to_string()];
    paths.extend(referenced_paths(&html));
    if !paths.iter().any(|path| path == contract::routes::CONFIG) {
        paths.push(contract::routes::CONFIG.to_string());
    }
    let mut sizes = Vec::new();
    for path in paths {
        let file = dist.join(path.trim_start_matches('/'));
        if !file.is_file() {
            bail!("a first load fetches {path}, but {} has no such file", dist.display());
        }
        let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        sizes.push(Sizes::of(path.trim_start_matches('/'), &bytes)?);
    }
    Ok(sizes)
}

/// The same-origin asset paths `html` names: every quoted value that starts with one `/` (not `//`, another
/// host) and whose last segment has an extension (so `/projects`, a route, is not an asset), without query or
/// fragment, each once, in order. trunk writes them in `href` attributes and in the start-up script's `import`
/// and `init` calls, all quoted.
pub(crate) fn referenced_paths(html: &str) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(['"', '\'']) {
        let quote = &rest[start..=start];
        let after = &rest[start + 1..];
        let Some(end) = after.find(quote) else { break };
        let value = &after[..end];
        rest = &after[end + 1..];
        let path = value.split(['?', '#']).next().unwrap_or_default();
        let is_asset = path.starts_with('/')
            && !path.starts_with("//")
            && path.rsplit('/').next().is_some_and(|name| name.contains('.'));
        if is_asset && !paths.iter().any(|known| known == path) {
            paths.push(path.to_string());
        }
    }
    paths
}

/// Fails, naming the budget's home and the heaviest file, when the first load's brotli total is over `budget`.
pub(crate) fn check(sizes: &[Sizes], budget: usize) -> Result<()> {
    let total: usize = sizes.iter().map(|file| file.brotli).sum();
    if total <= budget {
        println!("first-load bytes: {total} B brotli, within the budget of {budget} B");
        return Ok(());
    }
    let heaviest = sizes.iter().max_by_key(|file| file.brotli).map(|file| file.name.as_str()).unwrap_or("?");
    bail!(
        "the first load weighs {total} B brotli, {} B over the budget of {budget} B \
         (FIRST_LOAD_BROTLI_BUDGET in xtask/src/budget.rs); the heaviest file is {heaviest}",
        total - budget
    )
}

/// The e2e layer's size step: the first load of the release build in `dist` against [`FIRST_LOAD_BROTLI_BUDGET`],
/// and the code it leaves to chunks loaded on demand still left to them ([`split::check_dist`]): the budget alone
/// would let a build that stopped splitting pass while it is under the line.
pub(crate) fn check_dist(dist: &Path) -> Result<()> {
    let sizes = first_load(dist)?;
    dist::print_sizes(dist, &sizes);
    let chunks = split::check_dist(dist)?;
    println!("loaded on demand, not on the first load: {}", chunks.join(", "));
    check(&sizes, FIRST_LOAD_BROTLI_BUDGET)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What trunk 0.21 writes for the SPA (abridged), with a route link and another host's asset added.
    const TRUNK_INDEX: &str = r#"<!DOCTYPE html><html><head>
<script type="module">
import init, * as bindings from '/app-1a2b.js';
const wasm = await init({ module_or_path: '/app-1a2b_bg.wasm' });
</script>
<link rel="stylesheet" href="/main-3c4d.css" integrity="sha384-abc"/>
<link rel="icon" href="/favicon.svg?v=2" type="image/svg+xml" />
<link rel="modulepreload" href="/app-1a2b.js" crossorigin="anonymous">
<link rel="preload" href="/app-1a2b_bg.wasm" as="fetch" type="application/wasm">
<link rel="preconnect" href="//cdn.example/x.js"><a href="/projects">projects</a>
</head><body></body></html>"#;

    #[test]
    fn referenced_paths_are_the_same_origin_assets_once_each() {
        assert_eq!(
            referenced_paths(TRUNK_INDEX),
            ["/app-1a2b.js", "/app-1a2b_bg.wasm", "/main-3c4d.css", "/favicon.svg"]
        );
    }

    fn sizes(brotli: &[usize]) -> Vec<Sizes> {
        brotli
            .iter()
            .enumerate()
            .map(|(i, &brotli)| Sizes { name: format!("file{i}"), raw: brotli * 3, gzip: brotli * 2, brotli })
            .collect()
    }

    #[test]
    fn the_budget_is_issue_8s_must_line_plus_what_dpop_costs() {
        assert_eq!(FIRST_LOAD_BROTLI_BUDGET - DPOP_FIRST_LOAD_COST, 120_825);
    }

    #[test]
    fn a_first_load_at_or_under_the_budget_passes() {
        assert!(check(&sizes(&[60, 40]), 100).is_ok());
        assert!(check(&sizes(&[10]), 100).is_ok());
    }

    #[test]
    fn a_first_load_over_the_budget_fails_naming_the_excess_and_the_heaviest_file() {
        let err = check(&sizes(&[30, 71]), 100).unwrap_err().to_string();
        assert!(err.contains("101 B brotli, 1 B over the budget of 100 B"), "{err}");
        assert!(err.contains("heaviest file is file1"), "{err}");
        assert!(err.contains("xtask/src/budget.rs"), "{err}");
    }

    /// A fresh directory under the system's temporary directory.
    fn temp_dist(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-budget-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn first_load_counts_index_html_what_it_names_and_config_json() {
        let dist = temp_dist("complete");
        for (name, body) in [
            ("index.html", TRUNK_INDEX),
            ("app-1a2b.js", "export default function init() {}"),
            ("app-1a2b_bg.wasm", "\0asm"),
            ("main-3c4d.css", "body{margin:0}"),
            ("favicon.svg", "<svg/>"),
            ("config.json", "{}"),
            ("app-1a2b_bg.wasm.map", "not fetched"),
        ] {
            std::fs::write(dist.join(name), body).unwrap();
        }
        let names: Vec<String> = first_load(&dist).unwrap().into_iter().map(|file| file.name).collect();
        assert_eq!(
            names,
            ["index.html", "app-1a2b.js", "app-1a2b_bg.wasm", "main-3c4d.css", "favicon.svg", "config.json"]
        );
        std::fs::remove_dir_all(&dist).unwrap();
    }

    #[test]
    fn first_load_fails_naming_a_file_index_html_names_but_dist_lacks() {
        let dist = temp_dist("missing");
        std::fs::write(dist.join("index.html"), TRUNK_INDEX).unwrap();
        std::fs::write(dist.join("app-1a2b.js"), "").unwrap();
        let err = first_load(&dist).unwrap_err().to_string();
        assert!(err.contains("fetches /app-1a2b_bg.wasm"), "{err}");
        std::fs::remove_dir_all(&dist).unwrap();
    }
}
