//! The api's resident memory during a load run: finding its process, reading `VmRSS` from
//! `/proc/PID/status`, and sampling it every second on a thread of its own (so that a busy runtime cannot delay
//! the samples). Also the CPU time processes used ([`cpu_secs`]) and the machine's load average, which say
//! whether the figures were bound by the api, by the load generator beside it, or by someone else's work.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the sampler reads the api's RSS.
const EVERY: Duration = Duration::from_secs(1);

/// One reading.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    /// Seconds since the sampler started.
    pub(crate) at_secs: f64,
    pub(crate) rss_kib: u64,
    /// `start`, `warm` (the end of the warm-up), `end`, or empty for a periodic reading.
    pub(crate) mark: &'static str,
}

/// The pid of the api process this xtask started (the e2e harness's child, which does not expose its pid):
/// the child of this process that runs `api_bin` with `--listen` `listen` (`127.0.0.1:PORT`).
pub(crate) fn api_pid(api_bin: &Path, listen: &str) -> Result<u32> {
    let ours = std::process::id();
    let api_bin = std::fs::canonicalize(api_bin).with_context(|| format!("resolving {}", api_bin.display()))?;
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").context("listing /proc")?.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        if parent_pid(&stat) != Some(ours) {
            continue;
        }
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let args: Vec<&[u8]> = cmdline.split(|byte| *byte == 0).collect();
        let listens = args.windows(2).any(|pair| pair[0] == b"--listen" && pair[1] == listen.as_bytes());
        let runs_api = std::fs::read_link(entry.path().join("exe")).is_ok_and(|exe| exe == api_bin);
        if listens && runs_api {
            found.push(pid);
        }
    }
    match found.as_slice() {
        [pid] => Ok(*pid),
        [] => bail!("no child process {} --listen {listen} found in /proc", api_bin.display()),
        many => bail!("several api processes listen on {listen}: {many:?}"),
    }
}

/// The parent pid from `/proc/PID/stat` (the 4th field; the 2nd, the command name, may hold spaces and
/// parentheses, so the fields are counted after its last `)`).
fn parent_pid(stat: &str) -> Option<u32> {
    let (_, after_name) = stat.rsplit_once(')')?;
    after_name.split_whitespace().nth(1)?.parse().ok()
}

/// The CPU time (user and system) in clock ticks from `/proc/PID/stat`: its 14th and 15th fields, counted
/// after the command name as [`parent_pid`] does.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let (_, after_name) = stat.rsplit_once(')')?;
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// The CPU seconds process `pid` has used so far.
pub(crate) fn cpu_secs(pid: u32) -> Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path} (has the process exited?)"))?;
    let ticks = cpu_ticks(&stat).with_context(|| format!("no CPU times in {path}"))?;
    // SAFETY: sysconf only reads a system constant.
    let per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    anyhow::ensure!(per_sec > 0, "sysconf(_SC_CLK_TCK) failed");
    Ok(ticks as f64 / per_sec as f64)
}

/// The 1-minute load average (`/proc/loadavg`), if it can be read.
pub(crate) fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// `VmRSS` in KiB from the text of `/proc/PID/status` (`VmRSS:\t   18236 kB`).
pub(crate) fn vm_rss_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let value = line.strip_prefix("VmRSS:")?.trim().strip_suffix("kB")?;
    value.trim().parse().ok()
}

/// Reads the RSS of process `pid` now.
pub(crate) fn read_kib(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path} (has the api exited?)"))?;
    vm_rss_kib(&status).with_context(|| format!("no VmRSS line in {path}"))
}

/// A thread reading the api's RSS every [`EVERY`] until stopped; readings taken at the run's milestones
/// ([`Sampler::mark`]) go into the same series.
pub(crate) struct Sampler {
    pid: u32,
    started: Instant,
    samples: Arc<Mutex<Vec<Sample>>>,
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Sampler {
    /// Takes the `start` reading and starts the thread.
    pub(crate) fn start(pid: u32) -> Result<Sampler> {
        let started = Instant::now();
        let first = Sample { at_secs: 0.0, rss_kib: read_kib(pid)?, mark: "start" };
        let samples = Arc::new(Mutex::new(vec![first]));
        let (stop, stopped) = mpsc::channel::<()>();
        let series = Arc::clone(&samples);
        let thread = std::thread::Builder::new()
            .name("load-rss".into())
            .spawn(move || {
                // Ends when stopped (or the sender is gone); a failed read means the api is gone, which the run
                // itself reports.
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                    let Ok(rss_kib) = read_kib(pid) else { break };
                    let sample = Sample { at_secs: started.elapsed().as_secs_f64(), rss_kib, mark: "" };
                    series.lock().unwrap_or_else(|e| e.into_inner()).push(sample);
                }
            })
            .context("starting the RSS sampler")?;
        Ok(Sampler { pid, started, samples, stop, thread })
    }

    /// Takes a reading now, marked `mark`, and returns it.
    pub(crate) fn mark(&self, mark: &'static str) -> Result<u64> {
        let rss_kib = read_kib(self.pid)?;
        let sample = Sample { at_secs: self.started.elapsed().as_secs_f64(), rss_kib, mark };
        self.samples.lock().unwrap_or_else(|e| e.into_inner()).push(sample);
        Ok(rss_kib)
    }

    /// Stops the thread and returns every reading in time order.
    pub(crate) fn finish(self) -> Vec<Sample> {
        let _ = self.stop.send(());
        let _ = self.thread.join();
        let mut samples = std::mem::take(&mut *self.samples.lock().unwrap_or_else(|e| e.into_inner()));
        samples.sort_by(|a, b| a.at_secs.total_cmp(&b.at_secs));
        samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_and_the_parent_are_read_from_proc() {
        let status = "Name:\tapi\nVmPeak:\t  900000 kB\nVmRSS:\t   18236 kB\nRssAnon:\t    9000 kB\n";
        assert_eq!(vm_rss_kib(status), Some(18_236));
        assert_eq!(vm_rss_kib("Name:\tapi\n"), None);
        let stat = "4242 (tokio (rt) x) S 77 4242 4242 0 -1 4194560 900 0 3 0 1250 310 0 0 20 0 9";
        assert_eq!(parent_pid(stat), Some(77));
        assert_eq!(cpu_ticks(stat), Some(1250 + 310));
        assert_eq!(cpu_ticks("4242 (api) S 77 4242"), None);
        // This very process: its RSS is readable and its parent is the one the kernel names.
        assert!(read_kib(std::process::id()).unwrap() > 0);
        assert!(cpu_secs(std::process::id()).unwrap() >= 0.0);
    }
}
