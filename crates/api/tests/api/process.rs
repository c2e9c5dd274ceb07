//! The real `api` binary as a child process, for the faults only a process meets: how it starts (or refuses to),
//! and files it may not write. Root writes through file modes, so when the tests run as root (CI does) the binary
//! is started as `nobody` (uid and gid 65534, no supplementary groups) with util-linux's `setpriv`; otherwise as
//! the current user.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The unprivileged user and group the binary runs as when the tests run as root.
const NOBODY: &str = "65534";

/// Whether this test process runs as root, for whom file modes do not bind.
pub(crate) fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A command running the api binary, as `nobody` when the tests run as root, with no `API_*` setting inherited.
pub(crate) fn api_command() -> Command {
    let binary = env!("CARGO_BIN_EXE_api");
    let mut command = if running_as_root() {
        let mut command = Command::new("setpriv");
        command.args([&format!("--reuid={NOBODY}"), &format!("--regid={NOBODY}"), "--clear-groups"]);
        command.arg(binary_for_nobody(Path::new(binary)));
        command
    } else {
        Command::new(binary)
    };
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("API_") {
            command.env_remove(name);
        }
    }
    command.env_remove("RUST_BACKTRACE").env_remove("RUST_LIB_BACKTRACE").kill_on_drop(true);
    command
}

/// A copy of `binary` that `nobody` can run: the build's own may lie below directories only root may enter (a
/// checkout under `/root`, say). One copy per test process, in one fixed place, so runs leave no pile behind.
fn binary_for_nobody(binary: &Path) -> std::path::PathBuf {
    static COPY: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    COPY.get_or_init(|| {
        let dir = std::env::temp_dir().join("permission-spa-api-tests");
        std::fs::create_dir_all(&dir).unwrap();
        set_mode(&dir, 0o755);
        // Copied under a name of this process and renamed into place (atomically), so that a test process never
        // runs a half-written file, whatever another one is doing.
        let partial = dir.join(format!("api.{}", std::process::id()));
        std::fs::copy(binary, &partial).unwrap();
        set_mode(&partial, 0o755);
        let copy = dir.join("api");
        std::fs::rename(&partial, &copy).unwrap();
        copy
    })
    .clone()
}

/// A temporary directory the binary can write in whoever it runs as (the tests' own are private to them).
pub(crate) fn shared_tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    set_mode(dir.path(), 0o777);
    dir
}

pub(crate) fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Collects the lines of one of the child's outputs, and sends the address it says it listens on.
fn forward(
    output: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    log: Arc<Mutex<Vec<String>>>,
    listening: tokio::sync::mpsc::UnboundedSender<String>,
) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(output).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some((_, rest)) = line.split_once("API listening on ") {
                // The address, then the event's fields.
                let _ = listening.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
            }
            log.lock().unwrap().push(line);
        }
    });
}

/// A running api binary.
pub(crate) struct ApiProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// Everything it has logged so far, stdout and stderr.
    log: Arc<Mutex<Vec<String>>>,
}

impl ApiProcess {
    /// Starts the binary on a free port against `issuer` and `database`, and waits until it listens.
    pub(crate) async fn start(issuer: &str, database: &Path) -> ApiProcess {
        let mut command = api_command();
        command
            .args(["--issuer", issuer, "--listen", "127.0.0.1:0", "--database"])
            .arg(database)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the api binary (and setpriv, when run as root) can be started");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (listening, mut address) = tokio::sync::mpsc::unbounded_channel();
        forward(child.stdout.take().unwrap(), log.clone(), listening.clone());
        forward(child.stderr.take().unwrap(), log.clone(), listening);
        let base = tokio::time::timeout(Duration::from_secs(60), address.recv()).await.ok().flatten();
        let Some(base) = base else {
            panic!("the api did not start listening: {:#?}", log.lock().unwrap());
        };
        ApiProcess { child, base, log }
    }

    /// Whether a line it logged contains `text`.
    pub(crate) fn logged(&self, text: &str) -> bool {
        self.log.lock().unwrap().iter().any(|line| line.contains(text))
    }

    pub(crate) fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Kills it outright (`SIGKILL`): what it acknowledged must be on disk without a clean shutdown.
    pub(crate) async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }
}
