//! The API figures: requests per second and latency percentiles under wrk, for an authenticated
//! `GET /api/v1/projects` on our api and on the Express peer (the same token from the same provider), and for
//! `POST /api/v1/projects` on ours — the Express peer has no write route, so that row has no peer value.

use super::BenchOptions;
use crate::process::command;
use crate::tools;
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;

/// What one wrk run measured.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WrkRun {
    pub(crate) requests_per_sec: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    /// Answers outside 2xx/3xx (wrk's "Non-2xx or 3xx responses"): any makes the run's figures meaningless.
    pub(crate) errors: u64,
}

/// The wrk script of the write run: each request creates a project whose name is unique per thread and request.
/// The headers go into `wrk.headers`, which already holds the `-H` Authorization: a table passed to
/// `wrk.format` would replace them instead of adding to them.
const POST_SCRIPT: &str = r#"
local threads = 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function init(args) n = 0; wrk.headers["Content-Type"] = "application/json" end
function request()
  n = n + 1
  local body = string.format('{"name":"wrk %d-%d","description":"bench write","status":"active"}', id, n)
  return wrk.format("POST", nil, nil, body)
end
"#;

/// Installs wrk with apt if it is missing.
pub(crate) fn ensure_wrk() -> Result<()> {
    if has_wrk() {
        return Ok(());
    }
    tools::apt_install(&["wrk"])
}

/// Whether wrk is on the PATH the bench runs programs with (`wrk --version` exits 1, so it is looked for).
fn has_wrk() -> bool {
    std::env::split_paths(&tools::search_path()).any(|dir| dir.join("wrk").is_file())
}

/// Which request a run sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Load {
    /// `GET {base}/projects`.
    ListProjects,
    /// `POST {base}/projects` with a new project each time.
    CreateProject,
}

/// The seconds of load before each measured run, left out of its figures: the run then measures the server
/// serving, not the machine settling after the browser figures (Chromium's processes exiting) nor the server's
/// first requests (its caches filling, its connections opening).
const WARMUP_SECS: u32 = 2;

/// Runs wrk against `base_url` (`http://127.0.0.1:PORT`) with `token`, after [`WARMUP_SECS`] of the same load;
/// `scripts` is where the Lua script goes.
pub(crate) fn run(base_url: &str, token: &str, load: Load, options: &BenchOptions, scripts: &Path) -> Result<WrkRun> {
    let url = format!("{base_url}{}", e2e::api_path(contract::api::PROJECTS));
    let warmup = wrk(&url, token, load, options, WARMUP_SECS, scripts)?.output().context("starting wrk")?;
    if !warmup.status.success() {
        bail!("wrk's warm-up failed ({}): {}", warmup.status, String::from_utf8_lossy(&warmup.stderr));
    }
    let mut wrk = wrk(&url, token, load, options, options.wrk_secs, scripts)?;
    println!(
        "$ wrk -t{} -c{} -d{}s --latency {url} ({load:?}), after {WARMUP_SECS} s of warm-up",
        options.threads, options.connections, options.wrk_secs
    );
    let output = wrk.output().context("starting wrk")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!("wrk failed ({}): {text}{}", output.status, String::from_utf8_lossy(&output.stderr));
    }
    let run = parse(&text).with_context(|| format!("reading wrk's report:\n{text}"))?;
    if run.errors > 0 {
        eprintln!("warning: {} answers to {url} were not 2xx/3xx; this run's figures do not count", run.errors);
    }
    Ok(run)
}

/// The wrk command of one run of `secs` seconds.
fn wrk(url: &str, token: &str, load: Load, options: &BenchOptions, secs: u32, scripts: &Path) -> Result<Command> {
    let mut wrk = command("wrk");
    wrk.arg(format!("-t{}", options.threads))
        .arg(format!("-c{}", options.connections))
        .arg(format!("-d{secs}s"))
        .arg("--latency")
        .arg("-H")
        .arg(format!("Authorization: Bearer {token}"));
    if load == Load::CreateProject {
        let script = scripts.join("post-project.lua");
        std::fs::write(&script, POST_SCRIPT).with_context(|| format!("writing {}", script.display()))?;
        wrk.arg("-s").arg(&script);
    }
    wrk.arg(url);
    Ok(wrk)
}

/// Reads requests/s, the 50 % and 99 % latencies and the error count from wrk's `--latency` report.
fn parse(text: &str) -> Result<WrkRun> {
    let mut run = WrkRun { requests_per_sec: f64::NAN, p50_ms: f64::NAN, p99_ms: f64::NAN, errors: 0 };
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", value] => run.requests_per_sec = value.parse().context("requests/s")?,
            ["50%", value] => run.p50_ms = millis(value)?,
            ["99%", value] => run.p99_ms = millis(value)?,
            ["Non-2xx", "or", "3xx", "responses:", value] => run.errors = value.parse().context("errors")?,
            _ => {}
        }
    }
    if run.requests_per_sec.is_nan() || run.p99_ms.is_nan() || run.p50_ms.is_nan() {
        bail!("no Requests/sec or latency distribution in the report");
    }
    Ok(run)
}

/// A wrk duration (`812.00us`, `1.25ms`, `2.01s`) in milliseconds.
fn millis(value: &str) -> Result<f64> {
    let (number, factor) = if let Some(n) = value.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = value.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = value.strip_suffix('s') {
        (n, 1000.0)
    } else {
        bail!("unknown duration {value:?}");
    };
    Ok(number.parse::<f64>().with_context(|| format!("duration {value:?}"))? * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latency_report_is_read() {
        let report = "Running 2s test @ http://127.0.0.1:1/api/v1/projects
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     8.10ms    2.00ms  40.00ms   90.00%
  Latency Distribution
     50%  812.00us
     75%    9.00ms
     90%   10.00ms
     99%    1.20s
  15780 requests in 2.00s, 10.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   7890.12
Transfer/sec:      5.00MB
";
        let run = parse(report).unwrap();
        assert_eq!(run, WrkRun { requests_per_sec: 7890.12, p50_ms: 0.812, p99_ms: 1200.0, errors: 3 });
        assert!(parse("Requests/sec: 1.0").is_err());
    }
}
