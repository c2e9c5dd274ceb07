//! `cargo xtask dist`: the release build of the SPA with trunk, and what it costs to download.
//!
//! The size report lists every wasm and JS file with its raw size and its size after gzip (level 9) and brotli
//! (quality 11) — the encodings a static host serves — so size regressions show up in review.

use crate::process::run_checked;
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
    build_release(&dist)?;
    report_sizes(&dist)
}

/// `trunk build --release --dist <dist>`, also the e2e layer's SPA build.
pub(crate) fn release_build_command(dist: &Path) -> std::process::Command {
    let mut trunk = tools::trunk();
    trunk.args(["build", "--release", "--dist"]).arg(dist);
    trunk
}

/// Builds the release SPA into `dist`.
fn build_release(dist: &Path) -> Result<()> {
    run_checked(&mut release_build_command(dist))?;
    if !dist.join("index.html").is_file() {
        bail!("trunk finished but {} has no index.html", dist.display());
    }
    Ok(())
}

/// One file's sizes in bytes.
struct Sizes {
    name: String,
    raw: usize,
    gzip: usize,
    brotli: usize,
}

/// Prints the wasm and JS files under `dist` with raw, gzip and brotli sizes, and the totals.
fn report_sizes(dist: &Path) -> Result<()> {
    let mut files = Vec::new();
    collect(dist, &mut files)?;
    files.retain(|path| matches!(path.extension().and_then(|e| e.to_str()), Some("wasm" | "js")));
    files.sort();
    if files.is_empty() {
        bail!("{} holds no .wasm or .js file", dist.display());
    }
    let mut rows = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.strip_prefix(dist).unwrap_or(path).display().to_string();
        rows.push(Sizes { name, raw: bytes.len(), gzip: gzip_len(&bytes)?, brotli: brotli_len(&bytes)? });
    }
    let width = rows.iter().map(|row| row.name.len()).max().unwrap_or(0).max("total".len());
    println!("\n{} (sizes in KiB)", dist.display());
    println!("{:<width$}  {:>10}  {:>10}  {:>10}", "file", "raw", "gzip -9", "brotli -11");
    for row in &rows {
        println!("{:<width$}  {:>10}  {:>10}  {:>10}", row.name, kib(row.raw), kib(row.gzip), kib(row.brotli));
    }
    let sum = |f: fn(&Sizes) -> usize| rows.iter().map(f).sum::<usize>();
    let (raw, gzip, brotli) = (sum(|r| r.raw), sum(|r| r.gzip), sum(|r| r.brotli));
    println!("{:<width$}  {:>10}  {:>10}  {:>10}", "total", kib(raw), kib(gzip), kib(brotli));
    Ok(())
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

pub(crate) fn gzip_len(bytes: &[u8]) -> Result<usize> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(9));
    encoder.write_all(bytes).context("gzip-compressing")?;
    Ok(encoder.finish().context("gzip-compressing")?.len())
}

pub(crate) fn brotli_len(bytes: &[u8]) -> Result<usize> {
    // Quality 11 with the largest standard window (2^22 bytes), as static pre-compression uses.
    let mut encoder = brotli::CompressorWriter::new(Vec::new(), 64 * 1024, 11, 22);
    encoder.write_all(bytes).context("brotli-compressing")?;
    // into_inner finishes the stream; a flush first would only add an empty block.
    Ok(encoder.into_inner().len())
}

/// Bytes as KiB with one decimal.
fn kib(bytes: usize) -> String {
    format!("{:.1}", bytes as f64 / 1024.0)
}
