//! Opening the database: the connection pool, its SQLite settings, and the
//! retry that lets several processes open a new file at the same moment.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::error::{Result, StoreError};
use crate::writes::{OpenFile, ReadOnlySeen};
use crate::{Store, migrate};

/// How often [`connect`] tries before giving up on a locked file.
const CONNECT_ATTEMPTS: u32 = 50;

/// Opens the pool. Turning a new file to WAL needs an exclusive lock that
/// SQLite's busy timeout does not wait for (sqlx documents this at
/// `SqliteConnectOptions::journal_mode`), so processes opening a fresh file
/// at the same moment can be told "database is locked" while connecting.
/// That is retried, briefly; any other error is returned at once.
///
/// A connection opened before the last write refused as read-only is closed
/// rather than kept or handed out (see `writes`): a cheap check, the pool
/// already pings every connection it hands out.
async fn connect(options: SqliteConnectOptions, read_only_seen: Arc<ReadOnlySeen>) -> Result<SqlitePool> {
    let mut attempt = 1;
    loop {
        let (on_release, on_acquire) = (read_only_seen.clone(), read_only_seen.clone());
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .after_release(move |_, meta| {
                let keep = !on_release.predates(meta.age);
                Box::pin(async move { Ok(keep) })
            })
            .before_acquire(move |_, meta| {
                let keep = !on_acquire.predates(meta.age);
                Box::pin(async move { Ok(keep) })
            })
            .connect_with(options.clone())
            .await;
        match pool {
            Ok(pool) => return Ok(pool),
            Err(sqlx::Error::Database(error)) if is_busy(error.as_ref()) && attempt < CONNECT_ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// Whether SQLite answered `SQLITE_BUSY` (primary code 5, whatever the extended code).
fn is_busy(error: &dyn sqlx::error::DatabaseError) -> bool {
    error.code().and_then(|code| code.parse::<i32>().ok()).is_some_and(|code| code & 0xff == 5)
}

/// How every connection to the file at `path` is set up: created if
/// missing, WAL with normal sync, a busy timeout so two processes can share
/// it, and foreign keys enforced.
pub(crate) fn options(path: &Path) -> Result<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true))
}

impl Store {
    /// Opens (creating if missing) the database file at `path`, and migrates
    /// and seeds it. Safe to call from several processes at once: the
    /// migration runs under SQLite's write lock, so exactly one applies it.
    ///
    /// A read-only file whose schema is current opens too: reads are served
    /// and writes refused (`SQLITE_READONLY`) until it is writable again.
    pub async fn open(path: &Path) -> Result<Store> {
        let read_only_seen = Arc::new(ReadOnlySeen::default());
        let pool = connect(options(path)?, read_only_seen.clone()).await.map_err(|error| match error {
            // SQLITE_CANTOPEN: SQLite's own words ("unable to open database file") do not say what to check.
            error if error.sqlite_primary_code() == Some(14) => {
                StoreError::CannotOpen { path: path.display().to_string() }
            }
            error => error,
        })?;
        // The file exists now: the pool has opened (or created) it.
        let file = Arc::new(OpenFile::new(path, read_only_seen)?);
        if migrate::run(&pool, &path.display().to_string()).await? == migrate::Access::ReadOnly {
            file.read_only_seen.suspect();
        }
        Ok(Store { pool, reader: Arc::new(crate::read_pool::ReadPool::new(path)), file })
    }

    /// Whether the database answers, from the file this store opened (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        self.file.check()?;
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::fresh;

    #[tokio::test]
    async fn reopening_keeps_data_and_does_not_seed_twice() {
        let (_dir, path) = crate::test_support::db_path();
        let total = Store::open(&path).await.unwrap().all_users().await.unwrap().len();
        let again = Store::open(&path).await.unwrap().all_users().await.unwrap().len();
        assert_eq!(total, again);
    }

    #[tokio::test]
    async fn concurrent_first_opens_migrate_exactly_once() {
        let (_dir, path) = crate::test_support::db_path();
        // Four pools, each with its own connections: they contend for the
        // write lock exactly as four processes would.
        let (a, b, c, d) = tokio::join!(Store::open(&path), Store::open(&path), Store::open(&path), Store::open(&path));
        let stores = [a, b, c, d].map(|s| s.expect("every concurrent open succeeds"));
        let users = stores[0].all_users().await.unwrap();
        let mut names: Vec<_> = users.iter().map(|u| u.username.clone()).collect();
        names.dedup();
        assert_eq!(names.len(), users.len());
    }

    #[tokio::test]
    async fn a_fresh_store_answers_pings() {
        let (_dir, store) = fresh().await;
        store.ping().await.unwrap();
        store.pool.close().await;
        assert!(store.ping().await.is_err(), "a closed pool does not answer");
    }
}
