//! Read-only connections for the API's hot reads (the two lists), called
//! directly in the calling thread.
//!
//! sqlx runs every SQLite connection on a worker thread of its own and
//! passes each command and each row over channels: profiled under wrk, half
//! of the API's CPU went to those threads and to waking them (a list request
//! cost 150-290 µs of CPU, most of it thread switches). Called directly, a
//! list read is the SQLite work alone, with its statements prepared once per
//! connection (`prepare_cached`): the whole request then cost about 53 µs
//! (34 µs with the Project List's index). Handing the read to tokio's
//! blocking pool instead (`spawn_blocking`) measured about 75 µs, more than
//! the read itself costs, so the read runs on the async worker.
//!
//! That is sound because such a read does not wait: the connections are
//! opened read-only (the hot path cannot write), on the file the writer pool
//! has put in WAL mode, where readers see the last committed snapshot
//! without waiting for writers. The only lock a WAL reader can wait on is
//! another process recovering the log after a crash; [`BUSY_TIMEOUT`] bounds
//! that wait, short, since the thread it blocks serves other requests.
//!
//! Writes, migrations and the provider's queries stay on sqlx's pool.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Result, StoreError};

/// How many idle connections are kept; more are opened under a burst and
/// closed after use.
const MAX_IDLE: usize = 4;

/// How long a read waits on a lock (WAL recovery by another process) before
/// failing: short, since it blocks an async worker thread meanwhile.
const BUSY_TIMEOUT: Duration = Duration::from_millis(500);

/// A small pool of read-only connections to one database file.
pub(crate) struct ReadPool {
    path: PathBuf,
    /// Each with the generation it was opened in.
    idle: Mutex<Vec<(Connection, u64)>>,
    /// Raised by [`ReadPool::retire_idle`]: a connection opened before is
    /// closed after its read instead of kept.
    generation: AtomicU64,
}

impl std::fmt::Debug for ReadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadPool").field("path", &self.path).finish_non_exhaustive()
    }
}

impl ReadPool {
    /// A pool for the file at `path`, which must exist already (the writer
    /// pool creates and migrates it first).
    pub(crate) fn new(path: &Path) -> ReadPool {
        ReadPool { path: path.to_path_buf(), idle: Mutex::new(Vec::new()), generation: AtomicU64::new(0) }
    }

    /// Closes the idle connections, and those in use once their read ends.
    ///
    /// For a file that was read-only (see `writes`): SQLite shares one
    /// mapping of the `-shm` file among all the connections of a process,
    /// opened read-only if the file was, for as long as any of them is open;
    /// until every one is closed, no connection of the process can write.
    pub(crate) fn retire_idle(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
        let retired = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|e| e.into_inner()));
        drop(retired);
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(conn)
    }

    /// Runs `read` on an idle connection (or a new one), then keeps the
    /// connection for the next caller. A connection whose read failed is
    /// closed rather than kept, in case the failure was the connection's.
    /// A connection opened before the last [`ReadPool::retire_idle`] is closed too.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let (conn, generation) = match idle {
            Some(idle) => idle,
            None => {
                let generation = self.generation.load(Ordering::Relaxed);
                (self.open().map_err(StoreError::from)?, generation)
            }
        };
        let outcome = read(&conn);
        if outcome.is_ok() && generation == self.generation.load(Ordering::Relaxed) {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < MAX_IDLE {
                idle.push((conn, generation));
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::fresh;

    #[tokio::test]
    async fn the_read_connections_cannot_write() {
        let (_dir, store) = fresh().await;
        let attempt = store.reader.read(|conn| Ok(conn.execute("DELETE FROM projects", ())?));
        assert!(attempt.is_err(), "a read-only connection refuses writes");
        let page = store.list_projects(crate::PageRequest { page: 1, per_page: 1 }).await.unwrap();
        assert_eq!(page.total, 36, "nothing was deleted");
    }
}
