//! `cargo xtask load`: a bounded load run on the api's list and write endpoints, against the release `api` and
//! `dev-idp` started the way the bench starts them (the e2e [`e2e::Harness`] on free loopback ports, a real
//! access token from dev-idp's code + PKCE flow), which fails unless the api held up:
//!
//! - no errors: every answer 2xx, counted per endpoint, non-2xx answers apart from transport errors;
//! - no lost or duplicated writes: the project rows (the list's total header) grew by exactly the number of
//!   `POST`s answered `201`, and no id was handed out twice;
//! - flat memory: the api's RSS at the end at most [`checks::RSS_BOUND`] above its RSS after the warm-up.
//!
//! [`client`] generates the load and counts every answer, [`rss`] samples the api's memory, [`checks`] holds
//! the rules, [`report`] prints the table and writes `target/load/results.{json,md}`.

mod checks;
mod client;
mod report;
mod rss;

use crate::bench;
use crate::tools::{self, Needs};
use crate::workspace;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `cargo xtask load` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoadOptions {
    /// Connections, one worker each, half listing and half writing (`--connections`, default 64).
    pub(crate) connections: u32,
    /// Seconds of the measured run (`--secs`, default 30).
    pub(crate) secs: u32,
    /// Seconds of load before it, which the figures leave out and after which the RSS baseline is read
    /// (`--warmup-secs`, default 5).
    pub(crate) warmup_secs: u32,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { connections: 64, secs: 30, warmup_secs: 5 }
    }
}

/// How long the access token outlives the load, at least: the rows are counted with it after the run.
const TOKEN_MARGIN_SECS: u64 = 120;
/// The longest token lifetime dev-idp issues (its `--token-ttl` range), which bounds the run's length.
const MAX_TOKEN_TTL_SECS: u64 = 86_400;
/// dev-idp's default token lifetime, kept when the run is shorter.
const DEFAULT_TOKEN_TTL_SECS: u64 = 300;

impl LoadOptions {
    /// Refuses what cannot make a run: fewer than two connections leave one endpoint without load, and a run
    /// longer than the longest token dev-idp issues would end in 401s.
    pub(crate) fn check(&self) -> Result<()> {
        if self.connections < 2 {
            bail!("--connections must be at least 2: half the connections list, half write");
        }
        if self.token_ttl_secs() > MAX_TOKEN_TTL_SECS {
            bail!(
                "--warmup-secs plus --secs may be at most {} s, the longest token dev-idp issues less {TOKEN_MARGIN_SECS} s",
                MAX_TOKEN_TTL_SECS - TOKEN_MARGIN_SECS
            );
        }
        Ok(())
    }

    /// The access token's lifetime: the whole load and a margin, or dev-idp's default if that is longer.
    fn token_ttl_secs(&self) -> u64 {
        (u64::from(self.warmup_secs) + u64::from(self.secs) + TOKEN_MARGIN_SECS).max(DEFAULT_TOKEN_TTL_SECS)
    }
}

/// Everything a run measured, for the report and the checks.
#[derive(Debug)]
pub(crate) struct Results {
    pub(crate) options: LoadOptions,
    pub(crate) machine: serde_json::Value,
    pub(crate) warmup: client::Phase,
    pub(crate) run: client::Phase,
    /// Project rows before the warm-up and after the run.
    pub(crate) rows_before: u64,
    pub(crate) rows_after: u64,
    /// The api's RSS readings, every second and at the milestones.
    pub(crate) rss: Vec<rss::Sample>,
    /// CPU seconds used during the measured run by the api and by this process (the load generator).
    pub(crate) api_cpu_secs: f64,
    pub(crate) generator_cpu_secs: f64,
    /// The machine's 1-minute load average before the load: above the CPU count, others' work shared the cores.
    pub(crate) load_average: Option<f64>,
    /// The api's log, for a failed check.
    pub(crate) api_log: PathBuf,
    pub(crate) checks: Vec<checks::Check>,
}

impl Results {
    /// Both phases' tally of `endpoint` together: the checks account for every request, warm-up included.
    pub(crate) fn total(&self, endpoint: client::Endpoint) -> client::Tally {
        let mut total = self.warmup.tally(endpoint);
        total.merge(self.run.tally(endpoint));
        total
    }

    /// The RSS reading marked `mark` (`start`, `warm`, `end`).
    pub(crate) fn rss_at(&self, mark: &str) -> u64 {
        self.rss.iter().find(|sample| sample.mark == mark).map_or(0, |sample| sample.rss_kib)
    }

    /// The highest RSS reading.
    pub(crate) fn rss_peak(&self) -> u64 {
        self.rss.iter().map(|sample| sample.rss_kib).max().unwrap_or(0)
    }
}

/// `cargo xtask load`: builds the servers, runs the load, reports, and fails if a check failed.
pub(crate) fn run(options: &LoadOptions, skip_install: bool) -> Result<()> {
    let started = Instant::now();
    if !skip_install {
        tools::ensure(Needs::NATIVE)?;
    }
    let dir = workspace::Metadata::load()?.target_dir.join("load");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let bin_dir = bench::stack::build_servers()?;
    let site = stand_in_site(&dir)?;
    bench::harness_env(&bin_dir, &dir.join("artifacts"));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    let results = runtime.block_on(measure(options, &bin_dir, &site))?;
    report::write(&dir, &results)?;
    println!("load: done in {} s", started.elapsed().as_secs());
    let failed: Vec<String> =
        results.checks.iter().filter(|check| !check.passed).map(|c| format!("{}: {}", c.name, c.detail)).collect();
    if !failed.is_empty() {
        bail!(
            "load: {} of {} checks failed (the api's log: {}):\n- {}",
            failed.len(),
            results.checks.len(),
            results.api_log.display(),
            failed.join("\n- ")
        );
    }
    Ok(())
}

/// The harness wants an SPA to serve; the load needs none (the sign-in only needs the SPA's origin registered
/// at dev-idp), so it gets a one-line page instead of a release SPA build.
fn stand_in_site(dir: &Path) -> Result<PathBuf> {
    let site = dir.join("site");
    std::fs::create_dir_all(&site).with_context(|| format!("creating {}", site.display()))?;
    let index = site.join("index.html");
    std::fs::write(&index, "<!doctype html><title>cargo xtask load</title><p>No SPA here: the load needs none.\n")
        .with_context(|| format!("writing {}", index.display()))?;
    Ok(site)
}

/// Starts the stack, loads it (warm-up, then the measured run) while sampling the api's RSS, and checks.
async fn measure(options: &LoadOptions, bin_dir: &Path, site: &Path) -> Result<Results> {
    let mut harness = e2e::Harness::builder()
        .dist_dir(site)
        .token_ttl(Duration::from_secs(options.token_ttl_secs()))
        .start()
        .await
        .context("starting dev-idp and the api")?;
    let api_url = harness.api_url();
    let listen = api_url.trim_start_matches("http://").to_string();
    let pid = rss::api_pid(&bin_dir.join("api"), &listen)?;
    let token = harness.access_token_for(bench::stack::USER).await.context("signing in for a token")?;
    let target = Arc::new(client::Target::new(&api_url, &token));
    let clients = (0..options.connections).map(|_| client::client()).collect::<Result<Vec<_>>>()?;
    let machine = bench::report::host();
    let (listing, writing) = (options.connections.div_ceil(2), options.connections / 2);
    println!(
        "\nload: {} connections ({listing} listing, {writing} writing) on {}, api pid {pid} ({}); {} s warm-up, \
         then {} s measured",
        options.connections,
        target.url,
        bin_dir.join("api").display(),
        options.warmup_secs,
        options.secs
    );

    let rows_before = target.count_projects().await.context("counting the projects before the load")?;
    let load_average = rss::load_average();
    let cpu = || -> Result<(f64, f64)> { Ok((rss::cpu_secs(pid)?, rss::cpu_secs(std::process::id())?)) };
    let sampler = rss::Sampler::start(pid)?;
    let warmup = client::phase(&target, &clients, Duration::from_secs(options.warmup_secs.into()), "warm-up").await?;
    let warm_kib = sampler.mark("warm")?;
    let cpu_before = cpu()?;
    let run = client::phase(&target, &clients, Duration::from_secs(options.secs.into()), "run").await?;
    let end_kib = sampler.mark("end")?;
    let cpu_after = cpu()?;
    let rss = sampler.finish();
    harness.ensure_backend_running().context("the api or dev-idp stopped during the load")?;
    let rows_after = target.count_projects().await.context("counting the projects after the load")?;

    let mut results = Results {
        options: options.clone(),
        machine,
        warmup,
        run,
        rows_before,
        rows_after,
        rss,
        api_cpu_secs: cpu_after.0 - cpu_before.0,
        generator_cpu_secs: cpu_after.1 - cpu_before.1,
        load_average,
        api_log: harness.api_log_path(),
        checks: Vec::new(),
    };
    results.checks = judge(&results, warm_kib, end_kib);
    drop(harness);
    Ok(results)
}

/// The checks of a run (see the module docs).
fn judge(results: &Results, warm_kib: u64, end_kib: u64) -> Vec<checks::Check> {
    let mut verdicts = Vec::new();
    for endpoint in [client::Endpoint::List, client::Endpoint::Create] {
        let tally = results.total(endpoint);
        let statuses: Vec<String> = tally.non_2xx.iter().map(|(status, n)| format!("{n} × {status}")).collect();
        let mut detail = format!(
            "{} requests (warm-up and run): {} answered 2xx, {} outside 2xx{}, {} transport errors",
            tally.requests,
            tally.success,
            tally.non_2xx_total(),
            if statuses.is_empty() { String::new() } else { format!(" ({})", statuses.join(", ")) },
            tally.transport_errors
        );
        if endpoint == client::Endpoint::Create {
            detail.push_str(&format!(", {} 201s without a project in the body", tally.bad_bodies));
        }
        if !tally.examples.is_empty() {
            detail.push_str(&format!("; for example: {}", tally.examples.join(" | ")));
        }
        verdicts.push(checks::Check {
            name: format!("errors: every {} answered 2xx", endpoint.label()),
            passed: tally.errors() == 0 && tally.success > 0,
            detail,
        });
    }
    let writes = results.total(client::Endpoint::Create);
    verdicts.push(checks::rows_check(results.rows_before, results.rows_after, writes.created));
    let repeated = checks::repeated_ids(&writes.created_ids);
    verdicts.push(checks::Check {
        name: "ids: every 201 names a project of its own".to_string(),
        passed: repeated.is_empty(),
        detail: match repeated.as_slice() {
            [] => format!("{} ids, all different", writes.created_ids.len()),
            some => format!("{} ids answered more than once, e.g. {:?}", some.len(), &some[..some.len().min(10)]),
        },
    });
    verdicts.push(checks::RSS_BOUND.check(warm_kib, end_kib));
    verdicts
}
