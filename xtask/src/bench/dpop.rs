//! The DPoP figures: what a DPoP-bound token's proof costs our API per request, measured in process by the
//! api crate's `dpop_cost` example (release): the same `GET /api/v1/projects` with a cached bearer token and
//! with a cached DPoP-bound token plus a fresh proof, their difference, and `dpop::verify` alone. The peer has
//! no DPoP, so these figures have no peer value. In process, because over wrk the proof's cost would be
//! hidden in the kernel's and the load generator's share of two shared cores, and because wrk cannot sign a
//! fresh proof per request.

use super::{BenchOptions, Figure};
use crate::process::{capture, cargo};
use crate::workspace;
use anyhow::{Context, Result};

/// Runs the example and turns its JSON line into figures.
pub(crate) fn measure(options: &BenchOptions) -> Result<Vec<Figure>> {
    let requests = if options.quick { 1_000 } else { 10_000 };
    let mut command = cargo();
    command
        .args(["run", "--quiet", "--release", "-p", "api", "--example", "dpop_cost", "--"])
        .args(["--requests", &requests.to_string()])
        .current_dir(workspace::root());
    println!("bench: DPoP's cost per request, in process ({requests} requests each)");
    let output = capture(&mut command)?.context("cargo is missing")?;
    figures(&output, requests)
}

/// The figures of the example's output, whose last line is `{"bearer_us": .., "dpop_us": .., ...}`.
fn figures(output: &str, requests: usize) -> Result<Vec<Figure>> {
    let line = output.lines().rev().find(|line| line.starts_with('{')).context("dpop_cost printed no JSON line")?;
    let result: serde_json::Value = serde_json::from_str(line).context("reading dpop_cost's JSON line")?;
    let value = |key: &str| result[key].as_f64().with_context(|| format!("dpop_cost's output lacks {key}"));
    let figure = |name: String, ours: f64| Figure { name, unit: "µs", ours, peer: f64::NAN };
    let what = format!("in-process `GET /api/v1/projects`, {requests} requests, cached token");
    Ok(vec![
        figure(format!("{what}, `Bearer`: per request"), value("bearer_us")?),
        figure(format!("{what}, `DPoP` with a fresh ES256 proof each: per request"), value("dpop_us")?),
        figure("same: DPoP's extra cost per request".into(), value("difference_us")?),
        figure("`dpop::verify` of one ES256 proof alone".into(), value("verify_us")?),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_line_becomes_four_figures() {
        let output = "in-process GET ...\n  Bearer ...\n{\"requests\":10,\"bearer_us\":30.5,\"dpop_us\":110.0,\"difference_us\":79.5,\"verify_us\":70.25}\n";
        let four = figures(output, 10).unwrap();
        let values: Vec<f64> = four.iter().map(|f| f.ours).collect();
        assert_eq!(values, [30.5, 110.0, 79.5, 70.25]);
        assert!(four.iter().all(|f| f.unit == "µs" && f.ratio().is_none()));
        assert!(figures(&output.replace("\"verify_us\":70.25", "\"x\":1"), 10).is_err());
        assert!(figures("no json here", 10).is_err());
    }
}
