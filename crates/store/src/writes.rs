//! What every write goes through ([`Store::write`]): the database file must
//! still be the one this process opened, and a connection that found the
//! file read-only is not kept for the next write.
//!
//! **A file deleted or replaced under a running process.** SQLite keeps
//! writing to the file it has open, even once no path names it: in WAL mode
//! nothing it does notices (the rollback journal's `SQLITE_READONLY_DBMOVED`
//! check does not apply), so every write would be acknowledged and then lost
//! at the next start, which opens whatever is at the path then. So each write
//! compares the path's device and inode with those of the file opened, before
//! and after the write, and is refused with [`StoreError::FileReplaced`]
//! (the API's 503) when they differ: a write is acknowledged only if it went
//! to the file the path names. That costs one `stat` per check, on writes and
//! on `/healthz` only; the hot reads do no such check, and answer from the
//! file still open (whose data is the latest there is) while they can.
//!
//! **A read-only file.** Opening a file the process may not write, SQLite
//! falls back to a read-only connection, and every write on it fails with
//! `SQLITE_READONLY` for as long as the connection lives, even once the file
//! is writable again; and one such connection left open keeps the process's
//! others from writing, as SQLite maps the `-shm` file once per process,
//! read-only if the first connection to map it could only read it. So once a
//! write has been refused as read-only (or start-up found the file so), each
//! write first closes the connections opened until then (the idle ones at
//! once, those in use when they come back: [`ReadOnlySeen::predates`], which
//! the pool's `before_acquire` and `after_release` ask), the read pool's too,
//! and runs on a fresh connection: it lands if the file is writable again
//! (which ends this state), and is refused (the API's 503) if not. So a
//! write costs a new connection while the file is read-only, and nothing
//! more once it is writable. (A connection opened while the file was
//! writable keeps the write access the kernel granted it: a `chmod` does not
//! revoke an open descriptor, so such a connection is not read-only.)

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::Store;
use crate::error::{Result, StoreError};

/// Which file a path named when the store opened it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    device: u64,
    inode: u64,
}

impl Identity {
    #[cfg(unix)]
    fn of(path: &Path) -> std::io::Result<Identity> {
        use std::os::unix::fs::MetadataExt;
        let metadata = std::fs::metadata(path)?;
        Ok(Identity { device: metadata.dev(), inode: metadata.ino() })
    }

    /// Without inodes, only a deleted file is noticed.
    #[cfg(not(unix))]
    fn of(path: &Path) -> std::io::Result<Identity> {
        std::fs::metadata(path)?;
        Ok(Identity { device: 0, inode: 0 })
    }
}

/// Whether the file was last found read-only, and since when connections
/// are closed rather than kept.
#[derive(Debug, Default)]
pub(crate) struct ReadOnlySeen {
    /// Set by a write refused as read-only (or a read-only start), cleared by
    /// the next write that lands.
    suspected: AtomicBool,
    /// Connections opened before this moment are closed when next seen.
    retire_before: Mutex<Option<Instant>>,
}

impl ReadOnlySeen {
    /// The file was found read-only: the next write starts afresh.
    pub(crate) fn suspect(&self) {
        self.suspected.store(true, Ordering::Release);
    }

    fn retire_all_until_now(&self) {
        *self.retire_before.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    }

    /// Whether a connection `age` old was opened before the last retirement
    /// (and so may be read-only).
    pub(crate) fn predates(&self, age: Duration) -> bool {
        let Some(before) = *self.retire_before.lock().unwrap_or_else(|e| e.into_inner()) else {
            return false;
        };
        Instant::now().checked_sub(age).is_none_or(|opened| opened <= before)
    }
}

/// The database file as the store opened it.
#[derive(Debug)]
pub(crate) struct OpenFile {
    path: PathBuf,
    identity: Identity,
    pub(crate) read_only_seen: Arc<ReadOnlySeen>,
}

impl OpenFile {
    /// Records which file `path` names now (after the pool has opened or created it).
    pub(crate) fn new(path: &Path, read_only_seen: Arc<ReadOnlySeen>) -> Result<OpenFile> {
        let identity =
            Identity::of(path).map_err(|source| StoreError::Io { path: path.display().to_string(), source })?;
        Ok(OpenFile { path: path.to_path_buf(), identity, read_only_seen })
    }

    /// `Ok` while the path still names the file opened.
    pub(crate) fn check(&self) -> Result<()> {
        match Identity::of(&self.path) {
            Ok(identity) if identity == self.identity => Ok(()),
            // Gone, replaced, or no longer reachable: in each case a write
            // would land where the next start does not look.
            _ => Err(StoreError::FileReplaced { path: self.path.display().to_string() }),
        }
    }
}

/// An error a write can end with, which may be the store's.
pub(crate) trait WriteError: From<StoreError> {
    fn store_error(&self) -> Option<&StoreError>;
}

impl WriteError for StoreError {
    fn store_error(&self) -> Option<&StoreError> {
        Some(self)
    }
}

impl Store {
    /// Runs one write (`work`: a statement, or a transaction to its commit),
    /// refused unless the path names the file opened both before and after
    /// it; after the file was found read-only, on a fresh connection (see the
    /// module's documentation). `work` must not have started: a future does
    /// nothing, and takes no connection, until it is awaited.
    pub(crate) async fn write<T, E: WriteError>(&self, work: impl Future<Output = Result<T, E>>) -> Result<T, E> {
        self.file.check()?;
        let suspected = self.file.read_only_seen.suspected.load(Ordering::Acquire);
        if suspected {
            self.retire_connections().await;
        }
        let outcome = work.await;
        match &outcome {
            Err(error) if error.store_error().is_some_and(StoreError::is_read_only) => {
                self.file.read_only_seen.suspect();
            }
            Ok(_) if suspected => {
                tracing::info!("the database at {} is writable again", self.file.path.display());
                self.file.read_only_seen.suspected.store(false, Ordering::Release);
            }
            _ => {}
        }
        // The write may have landed in a file deleted meanwhile: it is then
        // not acknowledged, as it would be lost at the next start.
        self.file.check()?;
        outcome
    }

    /// Closes every connection to the file opened until now: the writer
    /// pool's idle ones and the read pool's at once, the writer's in use when
    /// they come back to the pool.
    async fn retire_connections(&self) {
        self.file.read_only_seen.retire_all_until_now();
        self.reader.retire_idle();
        while let Some(idle) = self.pool.try_acquire() {
            let _ = idle.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::fresh;

    #[test]
    fn connections_opened_before_a_retirement_are_retired() {
        let seen = ReadOnlySeen::default();
        assert!(!seen.predates(Duration::from_secs(3600)), "nothing retired yet");
        seen.retire_all_until_now();
        assert!(seen.predates(Duration::from_millis(1)), "opened just before");
        std::thread::sleep(Duration::from_millis(5));
        assert!(!seen.predates(Duration::from_millis(1)), "opened after");
    }

    #[tokio::test]
    async fn a_write_to_a_deleted_file_is_refused_and_the_file_at_the_path_is_untouched() {
        let (dir, store) = fresh().await;
        let path = dir.path().join("app.db");
        std::fs::remove_file(&path).unwrap();
        let new = contract::wire::NewProject {
            name: "Lost".into(),
            description: String::new(),
            status: contract::wire::ProjectStatus::Active,
        };
        let error = store.create_project(new, None).await.unwrap_err();
        assert!(matches!(error, StoreError::FileReplaced { .. }), "{error}");
        assert!(store.ping().await.is_err(), "the health check says so too");
        assert!(!path.exists(), "nothing was created at the path");
    }
}
