//! `cargo xtask dist`: the release build of the SPA with trunk, and what it costs to download.
//!
//! The size report lists every file a first load fetches (see [`budget`]) with its raw size and its size after
//! gzip (level 9) and brotli (quality 11) — the encodings a static host serves — and the total against the size
//! budget, so size regressions show up in review. `dist/` also gets a pre-compressed `.br` and `.gz` copy of each
//! file (but `config.json`, which operators replace), for hosts that serve those as they are.

use crate::budget;
use crate::process::run_checked;
use crate::split;
use crate::tools::{self, Needs};
use crate::workspace;
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::{Path, PathBuf};

pub(crate) fn run(skip_install: bool) -> Result<()> {
    if !skip_install {
        tools::ensure(Needs::SPA_BUILD)?;
    }
    let dist = workspace::root().join("dist");
    build_release(&dist, &workspace::Metadata::load()?.target_dir)?;
    let copies = precompress(&dist)?;
    println!("wrote {copies} pre-compressed copies (.br, .gz) beside the files of {}", dist.display());
    report_sizes(&dist)
}

/// Flags for the wasm32 crates of the release build, std included: panics abort at once without formatting a
/// message (so no panic machinery or message strings reach the wasm), `{:?}` prints nothing, and panic sites
/// carry no file and line. The price: a panic in the browser is an `unreachable` trap with no message in the
/// console; the debug build of `cargo xtask dev` keeps every message. `erase_components` makes every Leptos
/// component return a type-erased view, so views are not monomorphised through the whole component tree.
const RELEASE_WASM_RUSTFLAGS: &str =
    "-Zunstable-options -Cpanic=immediate-abort -Zfmt-debug=none -Zlocation-detail=none --cfg erase_components";

/// Added to [`RELEASE_WASM_RUSTFLAGS`] where [`split`] runs after trunk: the SPA's split points
/// (`--cfg wasm_split`, src/components/chunk.rs), and the linker's relocations the splitter reads.
const SPLIT_WASM_RUSTFLAGS: &str = "--cfg wasm_split -Clink-arg=--emit-relocs";

/// The wasm cargo links for trunk's release build, below the target directory.
const RELEASE_WASM: &str = "wasm32-unknown-unknown/wasm-release/permission-spa.wasm";

/// `trunk build --release --dist <dist>`, the first half of [`build_release`]: with
/// [`tools::SPA_RELEASE_TOOLCHAIN`], std rebuilt for size (`optimize_for_size`), [`RELEASE_WASM_RUSTFLAGS`] and
/// [`SPLIT_WASM_RUSTFLAGS`], all through the environment, so that no configuration file makes the stable builds
/// unstable. Its output works only after [`split::run`].
fn release_build_command(dist: &Path) -> std::process::Command {
    let mut trunk = tools::trunk();
    trunk.args(["build", "--release", "--dist"]).arg(dist);
    use_release_toolchain(&mut trunk);
    trunk.env(
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
        format!("{RELEASE_WASM_RUSTFLAGS} {SPLIT_WASM_RUSTFLAGS}"),
    );
    trunk
}

/// Makes the cargo that `command` runs (trunk's) build with the release toolchain and flags of
/// [`release_build_command`], but without code splitting (`cargo xtask dev --release`: `trunk serve` has no
/// step that could split).
pub(crate) fn use_release_toolchain(command: &mut std::process::Command) {
    command
        .env("RUSTUP_TOOLCHAIN", tools::SPA_RELEASE_TOOLCHAIN)
        // `cargo xtask` runs under cargo, which names its own (stable) binary in CARGO; trunk's metadata call
        // would take that one over the rustup proxy on PATH.
        .env_remove("CARGO")
        .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
        .env("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size")
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", RELEASE_WASM_RUSTFLAGS);
}

/// Builds the release SPA into `dist`, split into chunks loaded on demand ([`split`]): also the e2e layer's
/// and the bench's SPA build. `target_dir` is cargo's target directory.
pub(crate) fn build_release(dist: &Path, target_dir: &Path) -> Result<()> {
    run_checked(&mut release_build_command(dist))?;
    if !dist.join("index.html").is_file() {
        bail!("trunk finished but {} has no index.html", dist.display());
    }
    let output = split::run(dist, &target_dir.join(RELEASE_WASM), &target_dir.join("wasm-split"))?;
    split::check_dist(dist)?;
    println!(
        "split the wasm: {} and {} loaded on demand: {}",
        output.wasm,
        output.chunks.len(),
        output.chunks.join(", ")
    );
    Ok(())
}

/// One file's sizes in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sizes {
    /// The path below the dist directory.
    pub(crate) name: String,
    pub(crate) raw: usize,
    pub(crate) gzip: usize,
    pub(crate) brotli: usize,
}

impl Sizes {
    /// The sizes of `bytes`, raw and compressed.
    pub(crate) fn of(name: &str, bytes: &[u8]) -> Result<Sizes> {
        Ok(Sizes { name: name.to_string(), raw: bytes.len(), gzip: gzip_len(bytes)?, brotli: brotli_len(bytes)? })
    }
}

/// Prints what a first load of `dist` fetches, each file with raw, gzip and brotli sizes, the total, and the
/// total against the budget `cargo xtask test` holds.
fn report_sizes(dist: &Path) -> Result<()> {
    let sizes = budget::first_load(dist)?;
    print_sizes(dist, &sizes);
    let total: usize = sizes.iter().map(|file| file.brotli).sum();
    println!(
        "first load {total} B brotli: budget {} B (xtask/src/budget.rs), {:.2}x the React peer's {} B",
        budget::FIRST_LOAD_BROTLI_BUDGET,
        total as f64 / budget::REACT_PEER_FIRST_LOAD as f64,
        budget::REACT_PEER_FIRST_LOAD
    );
    Ok(())
}

/// Prints `sizes` as a table in bytes, with the totals.
pub(crate) fn print_sizes(dist: &Path, sizes: &[Sizes]) {
    let width = sizes.iter().map(|row| row.name.len()).max().unwrap_or(0).max("total".len());
    println!("\nfirst load of {} (bytes)", dist.display());
    println!("{:<width$}  {:>9}  {:>9}  {:>10}", "file", "raw", "gzip -9", "brotli -11");
    for row in sizes {
        println!("{:<width$}  {:>9}  {:>9}  {:>10}", row.name, row.raw, row.gzip, row.brotli);
    }
    let sum = |f: fn(&Sizes) -> usize| sizes.iter().map(f).sum::<usize>();
    println!("{:<width$}  {:>9}  {:>9}  {:>10}", "total", sum(|r| r.raw), sum(|r| r.gzip), sum(|r| r.brotli));
}

/// All files under `dir`, recursively.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry.with_context(|| format!("listing {}", dir.display()))?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// `bytes` gzip-compressed at level 9 (the header's time stays 0, so the output is reproducible).
fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(9));
    encoder.write_all(bytes).context("gzip-compressing")?;
    encoder.finish().context("gzip-compressing")
}

/// `bytes` brotli-compressed at quality 11 with the largest standard window (2^22 bytes), as static
/// pre-compression uses.
fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = brotli::CompressorWriter::new(Vec::new(), 64 * 1024, 11, 22);
    encoder.write_all(bytes).context("brotli-compressing")?;
    // into_inner finishes the stream; a flush first would only add an empty block.
    Ok(encoder.into_inner())
}

pub(crate) fn gzip_len(bytes: &[u8]) -> Result<usize> {
    Ok(gzip(bytes)?.len())
}

pub(crate) fn brotli_len(bytes: &[u8]) -> Result<usize> {
    Ok(brotli(bytes)?.len())
}

/// Whether a static host may serve `name` (a path below dist) from a pre-compressed copy: not a map (never
/// fetched on a first load), not a copy itself, and not `config.json`, which operators replace for their
/// environment; a stale `config.json.br` beside it would be served in its place.
fn precompressible(name: &str) -> bool {
    let copy_or_map = [".map", ".br", ".gz"].iter().any(|suffix| name.ends_with(suffix));
    !copy_or_map && name != contract::routes::CONFIG.trim_start_matches('/')
}

/// Writes `<file>.br` and `<file>.gz` beside every precompressible file of `dist` whose compressed copy is
/// smaller, for hosts that serve them as they are (nginx `brotli_static` / `gzip_static`); returns how many
/// copies it wrote.
fn precompress(dist: &Path) -> Result<usize> {
    let mut files = Vec::new();
    collect(dist, &mut files)?;
    let mut written = 0;
    for path in files {
        let name = path.strip_prefix(dist).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        if !precompressible(&name) {
            continue;
        }
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        for (extension, compressed) in [("br", brotli(&bytes)?), ("gz", gzip(&bytes)?)] {
            if compressed.len() >= bytes.len() {
                continue;
            }
            let mut copy = path.clone().into_os_string();
            copy.push(format!(".{extension}"));
            std::fs::write(&copy, compressed).with_context(|| format!("writing {}", copy.to_string_lossy()))?;
            written += 1;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_release_build_runs_the_dated_nightly_with_size_flags_and_not_the_outer_cargo() {
        let command = release_build_command(Path::new("/tmp/dist"));
        let env: Vec<(String, Option<String>)> = command
            .get_envs()
            .map(|(key, value)| {
                (key.to_string_lossy().into_owned(), value.map(|value| value.to_string_lossy().into_owned()))
            })
            .collect();
        let value = |key: &str| env.iter().find(|(name, _)| name == key).map(|(_, value)| value.clone());
        let toolchain = value("RUSTUP_TOOLCHAIN").flatten().unwrap_or_default();
        // A date, not the moving `nightly` channel: a new nightly may not build the SPA, or build it larger.
        let date = toolchain.strip_prefix("nightly-").unwrap_or_default();
        assert!(date.len() == 10 && date.split('-').all(|part| part.parse::<u16>().is_ok()), "{toolchain}");
        assert_eq!(value("CARGO"), Some(None), "CARGO must be removed so trunk's cargo is the rustup proxy");
        assert_eq!(value("CARGO_UNSTABLE_BUILD_STD").flatten().as_deref(), Some("std,panic_abort"));
        let rustflags = value("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS").flatten().unwrap_or_default();
        assert!(rustflags.contains("-Cpanic=immediate-abort"), "{rustflags}");
        // The split points, and the relocations the splitter needs to cut at them.
        assert!(rustflags.contains("--cfg wasm_split") && rustflags.contains("--emit-relocs"), "{rustflags}");
    }

    #[test]
    fn the_release_flags_of_dev_do_not_split() {
        // `trunk serve --release` has no split step: a split build would import loaders nothing provides.
        let mut trunk = std::process::Command::new("trunk");
        use_release_toolchain(&mut trunk);
        let rustflags = trunk
            .get_envs()
            .find(|(key, _)| *key == "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS")
            .and_then(|(_, value)| value)
            .map(|value| value.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(rustflags.contains("-Cpanic=immediate-abort"), "{rustflags}");
        assert!(!rustflags.contains("wasm_split"), "{rustflags}");
    }

    #[test]
    fn assets_are_precompressible_but_not_maps_copies_or_the_deployment_config() {
        for name in ["index.html", "app-1a2b_bg.wasm", "app-1a2b.js", "main.css", "favicon.svg", "snippets/x/a.js"] {
            assert!(precompressible(name), "{name}");
        }
        for name in ["config.json", "app_bg.wasm.map", "app.js.br", "app.js.gz"] {
            assert!(!precompressible(name), "{name}");
        }
    }

    #[test]
    fn precompress_writes_copies_that_decompress_to_the_file_and_skips_what_does_not_shrink() {
        let dist = std::env::temp_dir().join(format!("xtask-precompress-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dist);
        std::fs::create_dir_all(&dist).unwrap();
        let page = "<p>permission</p>".repeat(100);
        std::fs::write(dist.join("index.html"), &page).unwrap();
        std::fs::write(dist.join("config.json"), "{\"issuer\": \"https://idp.example/\"}".repeat(20)).unwrap();
        std::fs::write(dist.join("tiny.svg"), "<svg/>").unwrap();
        assert_eq!(precompress(&dist).unwrap(), 2);
        let mut unzipped = String::new();
        let gz = std::fs::read(dist.join("index.html.gz")).unwrap();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped).unwrap();
        assert_eq!(unzipped, page);
        let mut unbrotlied = String::new();
        let br = std::fs::read(dist.join("index.html.br")).unwrap();
        std::io::Read::read_to_string(&mut brotli::Decompressor::new(&br[..], 4096), &mut unbrotlied).unwrap();
        assert_eq!(unbrotlied, page);
        for absent in ["config.json.br", "config.json.gz", "tiny.svg.br", "tiny.svg.gz"] {
            assert!(!dist.join(absent).exists(), "{absent}");
        }
        std::fs::remove_dir_all(&dist).unwrap();
    }
}
