//! The load itself: one HTTP/1.1 keep-alive connection per worker, each worker sending one request after
//! another until the phase's deadline, and counting every answer exactly — its status, its latency (until the
//! body is read whole) and, for a write, the id the api gave the new project. wrk cannot do that: it reports
//! "non-2xx" in one number and nothing about which writes were confirmed.
//!
//! Even-numbered workers list (`GET /api/v1/projects`), odd-numbered ones write (`POST /api/v1/projects`, each
//! project named after its worker, phase and sequence number, so every body differs).

use anyhow::{Context, Result, bail};
use contract::wire::{NewProject, Project, ProjectStatus};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one request may take before it counts as a transport error: far above any latency the api has
/// shown under this load, so only a stuck request reaches it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How many error messages of each kind a tally keeps, as examples for the report.
const EXAMPLES: usize = 5;

/// The two endpoints under load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Endpoint {
    List,
    Create,
}

impl Endpoint {
    /// The endpoint as the report names it, e.g. `GET /api/v1/projects`.
    pub(crate) fn label(self) -> String {
        let method = match self {
            Endpoint::List => "GET",
            Endpoint::Create => "POST",
        };
        format!("{method} {}", e2e::api_path(contract::api::PROJECTS))
    }
}

/// Where the load goes and with which token.
#[derive(Debug)]
pub(crate) struct Target {
    /// `http://127.0.0.1:PORT/api/v1/projects`.
    pub(crate) url: String,
    /// `Bearer <access token>`.
    authorization: String,
}

impl Target {
    pub(crate) fn new(api_url: &str, token: &str) -> Target {
        Target {
            url: format!("{}{}", api_url.trim_end_matches('/'), e2e::api_path(contract::api::PROJECTS)),
            authorization: format!("Bearer {token}"),
        }
    }

    /// The number of projects, as the list's total header says: one row per page is asked for, since only the
    /// header is read.
    pub(crate) async fn count_projects(&self) -> Result<u64> {
        let client = client()?;
        let url = format!("{}?per_page=1", self.url);
        let response = client
            .get(&url)
            .header(AUTHORIZATION, &self.authorization)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            bail!("GET {url} answered {status}: {body}");
        }
        let header = contract::api::TOTAL_COUNT_HEADER;
        let total = response
            .headers()
            .get(header)
            .with_context(|| format!("GET {url} answered without {header}"))?
            .to_str()
            .ok()
            .and_then(|value| value.trim().parse::<u64>().ok())
            .with_context(|| format!("GET {url}: {header} is not a whole number"))?;
        Ok(total)
    }
}

/// A client with a pool of one connection: each worker gets its own, so `--connections N` means N TCP
/// connections, kept alive from the warm-up to the end of the run.
pub(crate) fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("building an HTTP client")
}

/// Everything one endpoint's answers showed in one phase.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Tally {
    /// Requests sent: answered ones plus transport errors.
    pub(crate) requests: u64,
    /// Answers with a 2xx status.
    pub(crate) success: u64,
    /// Answers `201 Created` (writes only).
    pub(crate) created: u64,
    /// Answers outside 2xx, by status.
    pub(crate) non_2xx: BTreeMap<u16, u64>,
    /// Requests that got no whole answer: connection refused or reset, a timeout, a body cut short.
    pub(crate) transport_errors: u64,
    /// `201`s whose body was not the created project (so no id could be read).
    pub(crate) bad_bodies: u64,
    /// A few error messages (status and body, or the transport error) as examples.
    pub(crate) examples: Vec<String>,
    /// Microseconds from sending to the last byte of the body, per answered request.
    pub(crate) latencies_us: Vec<u32>,
    /// The id of each project a `201` answered with.
    pub(crate) created_ids: Vec<i64>,
}

impl Tally {
    /// Answers outside 2xx, all statuses together.
    pub(crate) fn non_2xx_total(&self) -> u64 {
        self.non_2xx.values().sum()
    }

    /// Every failed request: outside 2xx, transport errors, unreadable `201`s.
    pub(crate) fn errors(&self) -> u64 {
        self.non_2xx_total() + self.transport_errors + self.bad_bodies
    }

    /// Adds `other`'s counts to these.
    pub(crate) fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        self.success += other.success;
        self.created += other.created;
        for (status, count) in other.non_2xx {
            *self.non_2xx.entry(status).or_default() += count;
        }
        self.transport_errors += other.transport_errors;
        self.bad_bodies += other.bad_bodies;
        for example in other.examples {
            if self.examples.len() < EXAMPLES {
                self.examples.push(example);
            }
        }
        self.latencies_us.extend(other.latencies_us);
        self.created_ids.extend(other.created_ids);
    }

    fn example(&mut self, text: String) {
        if self.examples.len() < EXAMPLES {
            self.examples.push(text);
        }
    }
}

/// One phase (the warm-up, or the measured run): how long it took and each endpoint's tally.
#[derive(Debug, Clone, Default)]
pub(crate) struct Phase {
    /// From the start until the last worker's last answer (each worker finishes the request it has in flight at
    /// the deadline, and that answer counts).
    pub(crate) elapsed: Duration,
    pub(crate) tallies: BTreeMap<Endpoint, Tally>,
}

impl Phase {
    /// The tally of `endpoint` (empty if no worker used it).
    pub(crate) fn tally(&self, endpoint: Endpoint) -> Tally {
        self.tallies.get(&endpoint).cloned().unwrap_or_default()
    }
}

/// Runs the workers (one per client, see the module docs) against `target` for `length`; `tag` goes into the
/// projects' names (`load run 3-17`) so that names never repeat across phases.
pub(crate) async fn phase(
    target: &Arc<Target>,
    clients: &[reqwest::Client],
    length: Duration,
    tag: &str,
) -> Result<Phase> {
    let started = Instant::now();
    let deadline = started + length;
    let mut workers = Vec::new();
    for (index, client) in clients.iter().enumerate() {
        let endpoint = if index % 2 == 0 { Endpoint::List } else { Endpoint::Create };
        let (target, client, name) = (Arc::clone(target), client.clone(), format!("load {tag} {index}"));
        workers
            .push(tokio::spawn(async move { (endpoint, worker(&target, &client, endpoint, &name, deadline).await) }));
    }
    let mut result = Phase::default();
    for worker in workers {
        // A worker that panicked leaves its requests uncounted, so nothing about the run could be told.
        let (endpoint, tally) = worker.await.context("a load worker failed")?;
        result.tallies.entry(endpoint).or_default().merge(tally);
    }
    result.elapsed = started.elapsed();
    Ok(result)
}

/// One worker: requests on its connection, one after the other, until `deadline`.
async fn worker(target: &Target, client: &reqwest::Client, endpoint: Endpoint, name: &str, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut sequence = 0u64;
    while Instant::now() < deadline {
        sequence += 1;
        let request = match endpoint {
            Endpoint::List => client.get(&target.url),
            Endpoint::Create => {
                let project = NewProject {
                    name: format!("{name}-{sequence}"),
                    description: "written by cargo xtask load".to_string(),
                    status: ProjectStatus::Active,
                };
                // A struct of strings always serialises.
                let body = serde_json::to_vec(&project).unwrap_or_default();
                client.post(&target.url).header(CONTENT_TYPE, "application/json").body(body)
            }
        };
        let request = request.header(AUTHORIZATION, &target.authorization).header(ACCEPT, "application/json");
        tally.requests += 1;
        let sent = Instant::now();
        let answer = match request.send().await {
            Ok(response) => {
                let status = response.status();
                response.bytes().await.map(|body| (status, body))
            }
            Err(err) => Err(err),
        };
        let (status, body) = match answer {
            Ok(answer) => answer,
            Err(err) => {
                tally.transport_errors += 1;
                tally.example(format!("transport error: {err:#}"));
                continue;
            }
        };
        tally.latencies_us.push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX));
        if !status.is_success() {
            *tally.non_2xx.entry(status.as_u16()).or_default() += 1;
            tally.example(format!("{status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)])));
            continue;
        }
        tally.success += 1;
        if status == StatusCode::CREATED {
            tally.created += 1;
            match serde_json::from_slice::<Project>(&body) {
                Ok(project) => tally.created_ids.push(project.id),
                Err(err) => {
                    tally.bad_bodies += 1;
                    tally.example(format!(
                        "a 201 whose body is not a project ({err}): {}",
                        String::from_utf8_lossy(&body)
                    ));
                }
            }
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_failure_counts_as_an_error_and_merging_adds_up() {
        let mut run = Tally { requests: 3, success: 2, created: 2, created_ids: vec![1, 2], ..Tally::default() };
        run.non_2xx.insert(503, 1);
        assert_eq!(run.errors(), 1);
        let mut other =
            Tally { requests: 4, success: 1, created: 1, transport_errors: 2, bad_bodies: 1, ..Tally::default() };
        other.non_2xx.insert(503, 1);
        other.non_2xx.insert(401, 1);
        run.merge(other);
        assert_eq!((run.requests, run.success, run.created), (7, 3, 3));
        assert_eq!(run.non_2xx, BTreeMap::from([(401, 1), (503, 2)]));
        assert_eq!(run.non_2xx_total(), 3);
        assert_eq!(run.errors(), 3 + 2 + 1);
    }
}
