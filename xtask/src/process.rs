//! Running other programs: one-shot commands that must succeed, probes that may fail, and the long-running
//! children of `cargo xtask dev`, which are supervised as a group.
//!
//! Every supervised child leads its own process group, so stopping it also stops what it started (trunk's cargo
//! and rustc, for instance), and a terminal's Ctrl-C reaches only xtask, which then stops the children in order.
//! If xtask dies without cleaning up, the kernel sends each child SIGTERM (`PR_SET_PDEATHSIG`).

use crate::tools;
use anyhow::{Context, Result, bail};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A command for `program` that finds the project's tools first on its PATH.
pub(crate) fn command(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new(program);
    command.env("PATH", tools::search_path());
    command
}

/// A command for the cargo that runs xtask (so the same toolchain builds everything).
pub(crate) fn cargo() -> Command {
    command(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Renders a command line for logs.
pub(crate) fn display(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(command.get_args().map(|arg| {
        let arg = arg.to_string_lossy();
        if arg.contains(' ') { format!("'{arg}'") } else { arg.into_owned() }
    }));
    words.join(" ")
}

/// Runs `command` with inherited output and fails unless it exits successfully.
pub(crate) fn run_checked(command: &mut Command) -> Result<()> {
    let line = display(command);
    println!("$ {line}");
    let status = command.status().with_context(|| format!("could not start `{line}`"))?;
    if !status.success() {
        bail!("`{line}` failed ({})", describe(status));
    }
    Ok(())
}

/// Runs `command` and returns its stdout; `None` if the program does not exist. Fails, quoting stderr, if the
/// program exits unsuccessfully.
pub(crate) fn capture(command: &mut Command) -> Result<Option<String>> {
    let line = display(command);
    let output = match command.stdin(Stdio::null()).output() {
        Ok(output) => output,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("could not start `{line}`")),
    };
    if !output.status.success() {
        bail!("`{line}` failed ({}):\n{}", describe(output.status), String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(Some(String::from_utf8_lossy(&output.stdout).into_owned()))
}

/// Runs `command` and returns its trimmed stdout, or `None` if it is missing or fails: for version checks.
pub(crate) fn probe(command: &mut Command) -> Option<String> {
    capture(command).ok().flatten().map(|out| out.trim().to_string())
}

/// Renders an exit status for humans.
pub(crate) fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    }
}

/// What happened while waiting for something under supervision.
pub(crate) enum Waited {
    Ready,
    /// The user pressed Ctrl-C (or xtask got SIGTERM/SIGHUP).
    Interrupted,
}

/// Long-running children that live and die together.
pub(crate) struct Supervisor {
    children: Vec<Supervised>,
    interrupted: Arc<AtomicBool>,
}

struct Supervised {
    name: String,
    child: Child,
}

impl Supervisor {
    /// Takes over Ctrl-C, SIGTERM and SIGHUP, which from now on ask the supervisor to stop.
    pub(crate) fn new() -> Result<Self> {
        let interrupted = Arc::new(AtomicBool::new(false));
        let flag = interrupted.clone();
        ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)).context("installing the Ctrl-C handler")?;
        Ok(Supervisor { children: Vec::new(), interrupted })
    }

    /// Starts `command` as `name` in its own process group, prefixing its output lines with `[name]`.
    pub(crate) fn spawn(&mut self, name: &str, mut command: Command) -> Result<()> {
        let line = display(&command);
        println!("$ {line}");
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: the closure runs between fork and exec and only makes async-signal-safe calls, without
        // allocating.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() != parent {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
        let mut child = command.spawn().with_context(|| format!("could not start {name} (`{line}`)"))?;
        if let Some(stdout) = child.stdout.take() {
            relay(name, stdout);
        }
        if let Some(stderr) = child.stderr.take() {
            relay(name, stderr);
        }
        self.children.push(Supervised { name: name.to_string(), child });
        Ok(())
    }

    /// Fails if any child has exited: the stack is useless without any one of them.
    pub(crate) fn check(&mut self) -> Result<()> {
        for supervised in &mut self.children {
            if let Some(status) = supervised.child.try_wait().context("checking on a child process")? {
                // Said now, before the others' shutdown output; main repeats it as the final error.
                let message = format!("{} exited ({})", supervised.name, describe(status));
                eprintln!("\n{message}; stopping the others");
                bail!(message);
            }
        }
        Ok(())
    }

    /// Whether a stop was requested.
    pub(crate) fn interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    /// Polls `ready` until it holds, the user interrupts, a child dies, or `timeout` passes; says every
    /// `progress_every` that it is still waiting for `what`.
    pub(crate) fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        progress_every: Duration,
        mut ready: impl FnMut() -> bool,
    ) -> Result<Waited> {
        let started = Instant::now();
        let mut next_progress = progress_every;
        println!("waiting for {what} ...");
        loop {
            if self.interrupted() {
                return Ok(Waited::Interrupted);
            }
            self.check()?;
            if ready() {
                println!("{what}: ready after {}s", started.elapsed().as_secs());
                return Ok(Waited::Ready);
            }
            let elapsed = started.elapsed();
            if elapsed > timeout {
                bail!("{what} was not ready after {}s", timeout.as_secs());
            }
            if elapsed >= next_progress {
                println!("still waiting for {what} ({}s so far) ...", elapsed.as_secs());
                next_progress += progress_every;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Blocks until the user interrupts (`Ok`) or a child exits (`Err`).
    pub(crate) fn run_until_interrupted(&mut self) -> Result<()> {
        while !self.interrupted() {
            self.check()?;
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    }

    /// Stops every child, newest first: SIGTERM to its process group, then SIGKILL after a grace period.
    pub(crate) fn shutdown(&mut self) {
        while let Some(mut supervised) = self.children.pop() {
            let pgid = supervised.child.id() as libc::pid_t;
            if supervised.child.try_wait().ok().flatten().is_none() {
                println!("stopping {} ...", supervised.name);
            }
            // The group may outlive its leader (trunk's cargo), so it is signalled even when the leader is gone.
            // SAFETY: plain syscalls; a negative pid addresses the process group this child leads.
            unsafe {
                libc::kill(-pgid, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(5);
            // SAFETY: signal 0 only probes whether any member of the group is left.
            while Instant::now() < deadline && unsafe { libc::kill(-pgid, 0) } == 0 {
                let _ = supervised.child.try_wait();
                std::thread::sleep(Duration::from_millis(50));
            }
            // SAFETY: as above.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
            let _ = supervised.child.wait();
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Copies a child's output to ours line by line, prefixed with its name, on a background thread.
fn relay(name: &str, stream: impl Read + Send + 'static) {
    let prefix = format!("[{name}]");
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            let text = String::from_utf8_lossy(&line);
            println!("{prefix} {}", text.trim_end());
            line.clear();
        }
    });
}
