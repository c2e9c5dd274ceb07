//! The bench's output: the machine it ran on, the figures as a table on stdout and in
//! `target/bench/results.md`, and everything (figures, waterfalls, machine, options) in `results.json`.

use super::{BenchOptions, Figure};
use crate::process::{capture, command};
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

/// The machine, as the results describe it: [`host`], and the Chromium and Node the bench drives.
pub(crate) fn machine(chromium: &Path) -> Value {
    let run = |program: &Path, args: &[&str]| {
        capture(command(program).args(args)).ok().flatten().map(|s| s.trim().to_string()).unwrap_or_default()
    };
    let mut machine = host();
    machine["chromium"] = run(chromium, &["--version"]).into();
    machine["node"] = run(Path::new("node"), &["--version"]).into();
    machine
}

/// The host alone (CPUs, memory, the date), which `cargo xtask load` reports too.
pub(crate) fn host() -> Value {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let field = |text: &str, name: &str| {
        text.lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_once(':'))
            .map(|(_, value)| value.trim().to_string())
            .unwrap_or_else(|| "unknown".to_string())
    };
    let date = capture(command("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).ok().flatten().unwrap_or_default();
    json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu_model": field(&read("/proc/cpuinfo"), "model name"),
        "memory": memory(&field(&read("/proc/meminfo"), "MemTotal")),
        "date": date.trim(),
    })
}

/// `/proc/meminfo`'s `MemTotal` (`24683656 kB`) in GiB.
fn memory(total: &str) -> String {
    match total.strip_suffix(" kB").and_then(|kib| kib.trim().parse::<f64>().ok()) {
        Some(kib) => format!("{:.1} GiB", kib / (1024.0 * 1024.0)),
        None => total.to_string(),
    }
}

/// The machine in one sentence, e.g. "Machine: 2 CPUs (...), 23.5 GiB memory, Chromium 156..., Node v20...; date."
pub(crate) fn machine_line(machine: &Value, options: &BenchOptions) -> String {
    let m = |key: &str| machine[key].as_str().map(str::to_string).unwrap_or_else(|| machine[key].to_string());
    format!(
        "Machine: {} CPUs ({}), {} memory, {}, Node {}; {}.{}",
        m("cpus"),
        m("cpu_model"),
        m("memory"),
        m("chromium"),
        m("node"),
        m("date"),
        if options.quick { " **--quick run: indicative only.**" } else { "" }
    )
}

/// A value for the table: whole numbers with thousands separators, else one decimal; `n/a` for none.
pub(crate) fn number(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_string();
    }
    if value >= 100.0 || value.fract() == 0.0 {
        let digits = format!("{:.0}", value);
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else {
        format!("{value:.1}")
    }
}

/// The Markdown table of `figures`.
pub(crate) fn table(figures: &[Figure]) -> String {
    let mut out = String::from("| figure | ours | React / Express peer | ratio (ours / peer) |\n|---|---|---|---|\n");
    for figure in figures {
        let ratio = figure.ratio().map_or_else(|| "".to_string(), |r| format!("{r:.2}×"));
        let _ = writeln!(
            out,
            "| {} | {} {} | {} {} | {ratio} |",
            figure.name,
            number(figure.ours),
            figure.unit,
            number(figure.peer),
            if figure.peer.is_finite() { figure.unit } else { "" }
        );
    }
    out
}

/// Writes `results.json` and `results.md` into `dir` and prints the table.
pub(crate) fn write(
    dir: &Path,
    machine: &Value,
    options: &BenchOptions,
    figures: &[Figure],
    waterfalls: &Value,
    files: &Value,
) -> Result<()> {
    let figures_json: Vec<Value> = figures
        .iter()
        .map(|f| json!({ "name": f.name, "unit": f.unit, "ours": f.ours, "peer": f.peer, "ratio": f.ratio() }))
        .collect();
    let results = json!({
        "machine": machine,
        "options": { "quick": options.quick, "runs": options.runs, "wrk_secs": options.wrk_secs,
                     "connections": options.connections, "threads": options.threads },
        "figures": figures_json,
        "waterfalls": waterfalls,
        "first_load_files": files,
    });
    let json_path = dir.join("results.json");
    let text = serde_json::to_string_pretty(&results).context("encoding the results")?;
    std::fs::write(&json_path, text).with_context(|| format!("writing {}", json_path.display()))?;

    let mut md = String::new();
    let _ = writeln!(md, "{}\n", machine_line(machine, options));
    let _ = writeln!(
        md,
        "Browser timings: median of {} runs each, alternating ours and the peer; wrk: {} threads, {} connections, {} s.\n",
        options.runs, options.threads, options.connections, options.wrk_secs
    );
    md.push_str(&table(figures));
    md.push_str("\n## First-load files (raw, gzip -9, brotli -11 bytes)\n");
    per_side(&mut md, files, |file| {
        let size = |key: &str| number(file[key].as_f64().unwrap_or_default());
        let name = file["name"].as_str().unwrap_or_default();
        format!("{:>9} {:>9} {:>9}  {name}", size("raw"), size("gzip"), size("brotli"))
    });
    md.push_str("\n## Waterfalls (one run each: start ms, duration ms, initiator, URL)\n");
    per_side(&mut md, waterfalls, |entry| {
        format!(
            "{:>8.1} {:>8.1}  {:<14} {}",
            entry["start_ms"].as_f64().unwrap_or_default(),
            entry["duration_ms"].as_f64().unwrap_or_default(),
            entry["initiator"].as_str().unwrap_or_default(),
            entry["name"].as_str().unwrap_or_default()
        )
    });
    let md_path = dir.join("results.md");
    std::fs::write(&md_path, &md).with_context(|| format!("writing {}", md_path.display()))?;
    println!("\n{}", table(figures));
    println!("Results: {} and {}", json_path.display(), md_path.display());
    Ok(())
}

/// Writes one code block per page and side (`{"page": {"ours": [...], "peer": [...]}}`), one `line` per item.
fn per_side(md: &mut String, sections: &Value, line: impl Fn(&Value) -> String) {
    for (name, sides) in sections.as_object().into_iter().flatten() {
        for side in ["ours", "peer"] {
            let _ = writeln!(md, "\n### {name}, {side}\n\n```");
            for item in sides[side].as_array().into_iter().flatten() {
                let _ = writeln!(md, "{}", line(item));
            }
            md.push_str("```\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_ratios_and_missing_peers() {
        let figures = [
            Figure { name: "bytes".into(), unit: "B", ours: 248_225.0, peer: 92_754.0 },
            Figure { name: "writes".into(), unit: "req/s", ours: 12.5, peer: f64::NAN },
        ];
        let table = table(&figures);
        assert!(table.contains("| bytes | 248,225 B | 92,754 B | 2.68× |"), "{table}");
        assert!(table.contains("| writes | 12.5 req/s | n/a  |  |"), "{table}");
        assert_eq!(memory("24683656 kB"), "23.5 GiB");
    }
}
