//! Child processes that can never outlive the test binary.
//!
//! Three mechanisms cover the three ways a test ends:
//! - normally or by panic: [`ChildGuard`]'s `Drop` kills the child's whole process group (chromedriver's
//!   Chromium processes included) and waits until the group is gone;
//! - by the test binary dying (a signal, `abort`): each child is spawned with `PR_SET_PDEATHSIG`, so the kernel
//!   sends it `SIGKILL` when its parent goes away.
//!
//! Linux delivers the parent-death signal when the *thread* that forked the child exits, not the process, and
//! libtest runs each test on its own thread while tokio may run code on any worker. All children are therefore
//! forked by one dedicated thread that lives as long as the test binary.
//!
//! Each child's stdout and stderr go to a log file, so that failures can show what the process said without
//! the output of passing tests cluttering the run.

use anyhow::{Context, Result, bail};
use std::fs::File;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How many lines of a child's log an error message quotes.
const LOG_TAIL_LINES: usize = 40;

/// A running child process in its own process group, killed with that group on drop.
#[derive(Debug)]
pub struct ChildGuard {
    name: String,
    child: Child,
    log: PathBuf,
}

impl ChildGuard {
    /// Starts `command` as `name`, with stdin closed and its output appended to `log`.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> Result<Self> {
        let program = command.get_program().to_string_lossy().into_owned();
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating log directory {}", dir.display()))?;
        }
        let out = File::create(log).with_context(|| format!("creating log file {}", log.display()))?;
        let err = out.try_clone().context("duplicating a log file handle")?;
        command.stdin(Stdio::null()).stdout(out).stderr(err).process_group(0);
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: the closure runs between fork and exec and only calls async-signal-safe functions (prctl,
        // getppid) without allocating.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(io::Error::last_os_error());
                }
                // The parent may have died before the signal was armed; then nobody would ever kill this child.
                if libc::getppid() != parent {
                    return Err(io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
        let child = spawn_on_keeper_thread(command).with_context(|| format!("starting {name} ({program})"))?;
        Ok(ChildGuard { name: name.to_string(), child, log: log.to_path_buf() })
    }

    /// The child's name, as given to [`ChildGuard::spawn`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The child's log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Fails, quoting the child's log, if the child has already exited.
    pub fn ensure_running(&mut self) -> Result<()> {
        match self.child.try_wait().with_context(|| format!("checking whether {} is running", self.name))? {
            None => Ok(()),
            Some(status) => bail!("{} exited early ({})\n{}", self.name, describe(status), self.log_tail()),
        }
    }

    /// The last lines of the child's log, framed for an error message.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
        format!(
            "--- last lines of {} ({}) ---\n{tail}\n--- end of {} log ---",
            self.name,
            self.log.display(),
            self.name
        )
    }

    /// Kills the child's process group and reaps the child; idempotent.
    pub fn kill(&mut self) {
        let pgid = self.child.id() as libc::pid_t;
        // SAFETY: plain syscall; a negative pid addresses the process group this child leads.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.child.wait();
        // The leader is gone, but the group's other members (Chromium's helpers) die asynchronously; wait for
        // them so the temporary directories they use can be removed right after.
        let deadline = Instant::now() + Duration::from_secs(5);
        while group_has_live_members(pgid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // libtest shows a failing test's captured output; this puts the child's last words there.
            eprintln!("{}", self.log_tail());
        }
        self.kill();
    }
}

/// Whether any process of group `pgid` is still running.
///
/// `kill(-pgid, 0)` would also count zombies, which linger when the container's init does not reap orphans;
/// `/proc/<pid>/stat` tells them apart (fields after the command name: state, ppid, pgrp).
fn group_has_live_members(pgid: libc::pid_t) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else { return false };
    entries.flatten().any(|entry| {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { return false };
        let Some((_, after_name)) = stat.rsplit_once(')') else { return false };
        let mut fields = after_name.split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|field| field.parse::<libc::pid_t>().ok());
        pgrp == Some(pgid) && state != Some("Z") && state != Some("X")
    })
}

/// Renders an exit status for humans.
fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    }
}

type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

/// Forks `command` on the thread that lives as long as the process (see the module docs for why).
fn spawn_on_keeper_thread(command: Command) -> Result<Child> {
    static KEEPER: OnceLock<io::Result<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (requests, incoming) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new().name("e2e-process-keeper".into()).spawn(move || {
            for (mut command, reply) in incoming {
                let _ = reply.send(command.spawn());
            }
        })?;
        Ok(requests)
    });
    let keeper = keeper.as_ref().map_err(|err| anyhow::anyhow!("starting the process keeper thread: {err}"))?;
    let (reply, result) = mpsc::channel();
    keeper.send((command, reply)).context("the process keeper thread is gone")?;
    Ok(result.recv().context("the process keeper thread did not answer")??)
}
