//! The load run's output: the tables (per endpoint, rows, memory) and the checks on stdout and in
//! `target/load/results.md`, and everything, the RSS series included, in `results.json`.

use super::Results;
use super::checks::{self, RSS_BOUND};
use super::client::{Endpoint, Phase, Tally};
use crate::bench::report::number;
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

/// One endpoint's figures in one phase.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Figures {
    pub(crate) requests: u64,
    pub(crate) per_sec: f64,
    pub(crate) p50_ms: Option<f64>,
    pub(crate) p99_ms: Option<f64>,
}

impl Figures {
    /// The figures of `tally` over `phase`'s length.
    pub(crate) fn of(tally: &Tally, phase: &Phase) -> Figures {
        let mut sorted = tally.latencies_us.clone();
        sorted.sort_unstable();
        let ms = |p: f64| checks::percentile(&sorted, p).map(|us| f64::from(us) / 1000.0);
        let secs = phase.elapsed.as_secs_f64();
        Figures {
            requests: tally.requests,
            per_sec: if secs > 0.0 { tally.requests as f64 / secs } else { f64::NAN },
            p50_ms: ms(50.0),
            p99_ms: ms(99.0),
        }
    }
}

/// A latency for the table: two decimals below 10 ms, one above; `n/a` for none.
fn ms(value: Option<f64>) -> String {
    match value {
        Some(v) if v < 10.0 => format!("{v:.2} ms"),
        Some(v) => format!("{v:.1} ms"),
        None => "n/a".to_string(),
    }
}

/// The Markdown tables and the checks, as printed.
pub(crate) fn tables(results: &Results) -> String {
    let mut out = String::new();
    let run = &results.run;
    let _ = writeln!(
        out,
        "Measured run: {:.1} s, {} connections (after a {} s warm-up, left out of these figures).\n",
        run.elapsed.as_secs_f64(),
        results.options.connections,
        results.options.warmup_secs
    );
    out.push_str(
        "| endpoint | requests | requests/s | 2xx | 201 | non-2xx | transport errors | p50 | p99 |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for endpoint in [Endpoint::List, Endpoint::Create] {
        let tally = run.tally(endpoint);
        let figures = Figures::of(&tally, run);
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} |",
            endpoint.label(),
            number(figures.requests as f64),
            number(figures.per_sec),
            number(tally.success as f64),
            if endpoint == Endpoint::Create { number(tally.created as f64) } else { "–".to_string() },
            number(tally.non_2xx_total() as f64),
            number(tally.transport_errors as f64),
            ms(figures.p50_ms),
            ms(figures.p99_ms)
        );
    }

    let writes = results.total(Endpoint::Create);
    let grown = results.rows_after as i64 - results.rows_before as i64;
    out.push_str(
        "\n| project rows before | after | grown by | POSTs answered 201 (warm-up + run) |\n|---|---|---|---|\n",
    );
    let _ = writeln!(
        out,
        "| {} | {} | {}{} | {} |",
        number(results.rows_before as f64),
        number(results.rows_after as f64),
        if grown >= 0 { "+" } else { "-" },
        number(grown.unsigned_abs() as f64),
        number(writes.created as f64)
    );

    let (warm, end) = (results.rss_at("warm"), results.rss_at("end"));
    let _ = writeln!(
        out,
        "\n| api RSS | start | after warm-up | peak | end | limit ({:.0} % + {}) |\n|---|---|---|---|---|---|",
        RSS_BOUND.ratio * 100.0,
        checks::mib(RSS_BOUND.slack_kib)
    );
    let _ = writeln!(
        out,
        "| VmRSS, {} readings | {} | {} | {} | {} | {} |",
        results.rss.len(),
        checks::mib(results.rss_at("start")),
        checks::mib(warm),
        checks::mib(results.rss_peak()),
        checks::mib(end),
        checks::mib(RSS_BOUND.limit_kib(warm))
    );
    let run_requests: u64 = [Endpoint::List, Endpoint::Create].iter().map(|e| run.tally(*e).requests).sum();
    let headroom = RSS_BOUND.limit_kib(warm).saturating_sub(warm) * 1024;
    if let Some(per_request) = headroom.checked_div(run_requests) {
        let _ = writeln!(
            out,
            "\nA leak of {} bytes or more per request of the run would have failed the memory check.",
            number(per_request as f64)
        );
    }

    let cpus = results.machine["cpus"].as_u64().unwrap_or(0);
    let _ = writeln!(
        out,
        "\nCPU during the run: api {:.1} s, load generator (this xtask{}) {:.1} s, of {:.0} s on {cpus} CPUs; load \
         average before the load {}{}.",
        results.api_cpu_secs,
        // xtask builds in the dev profile (it is rebuilt whenever it runs), so its HTTP client is unoptimised.
        if cfg!(debug_assertions) { ", a debug build" } else { "" },
        results.generator_cpu_secs,
        run.elapsed.as_secs_f64() * cpus as f64,
        results.load_average.map_or_else(|| "unknown".to_string(), |l| format!("{l:.1}")),
        match results.load_average {
            Some(l) if l > cpus as f64 =>
                " (above the CPU count: other work shared the cores, so the figures understate the api)",
            _ => "",
        }
    );

    out.push_str("\nChecks:\n");
    for check in &results.checks {
        let _ = writeln!(out, "- {} {}: {}", if check.passed { "PASS" } else { "FAIL" }, check.name, check.detail);
    }
    out
}

/// One phase as JSON: its length and each endpoint's counts and figures.
fn phase_json(phase: &Phase) -> Value {
    let mut endpoints = serde_json::Map::new();
    for endpoint in [Endpoint::List, Endpoint::Create] {
        let tally = phase.tally(endpoint);
        let figures = Figures::of(&tally, phase);
        endpoints.insert(
            endpoint.label(),
            json!({
                "requests": tally.requests,
                "requests_per_sec": figures.per_sec,
                "success_2xx": tally.success,
                "created_201": tally.created,
                "non_2xx": tally.non_2xx.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
                "transport_errors": tally.transport_errors,
                "bad_201_bodies": tally.bad_bodies,
                "error_examples": tally.examples,
                "p50_ms": figures.p50_ms,
                "p99_ms": figures.p99_ms,
            }),
        );
    }
    json!({ "elapsed_secs": phase.elapsed.as_secs_f64(), "endpoints": endpoints })
}

/// Writes `results.json` and `results.md` into `dir` and prints the tables.
pub(crate) fn write(dir: &Path, results: &Results) -> Result<()> {
    let options = &results.options;
    let warm = results.rss_at("warm");
    let json = json!({
        "machine": results.machine,
        "options": { "connections": options.connections, "secs": options.secs, "warmup_secs": options.warmup_secs },
        "phases": { "warmup": phase_json(&results.warmup), "run": phase_json(&results.run) },
        "rows": {
            "before": results.rows_before,
            "after": results.rows_after,
            "created_201": results.total(Endpoint::Create).created,
        },
        "cpu_secs_during_run": { "api": results.api_cpu_secs, "load_generator": results.generator_cpu_secs },
        "load_average_before": results.load_average,
        "rss_kib": {
            "start": results.rss_at("start"),
            "after_warmup": warm,
            "peak": results.rss_peak(),
            "end": results.rss_at("end"),
            "limit": RSS_BOUND.limit_kib(warm),
            "bound": { "ratio": RSS_BOUND.ratio, "slack_kib": RSS_BOUND.slack_kib },
            "samples": results.rss.iter()
                .map(|s| json!({ "at_secs": s.at_secs, "rss_kib": s.rss_kib, "mark": s.mark }))
                .collect::<Vec<_>>(),
        },
        "checks": results.checks.iter()
            .map(|c| json!({ "name": c.name, "passed": c.passed, "detail": c.detail }))
            .collect::<Vec<_>>(),
        "passed": results.checks.iter().all(|c| c.passed),
    });
    let json_path = dir.join("results.json");
    let text = serde_json::to_string_pretty(&json).context("encoding the results")?;
    std::fs::write(&json_path, text).with_context(|| format!("writing {}", json_path.display()))?;

    let m = |key: &str| {
        let value = &results.machine[key];
        value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string())
    };
    let mut md = format!(
        "# cargo xtask load\n\nMachine: {} CPUs ({}), {} memory; {}. Release api and dev-idp on 127.0.0.1, the load \
         generator on the same cores.\n\n",
        m("cpus"),
        m("cpu_model"),
        m("memory"),
        m("date")
    );
    let tables = tables(results);
    md.push_str(&tables);
    let md_path = dir.join("results.md");
    std::fs::write(&md_path, &md).with_context(|| format!("writing {}", md_path.display()))?;
    println!("\n{tables}");
    println!("Results: {} and {}", json_path.display(), md_path.display());
    Ok(())
}
