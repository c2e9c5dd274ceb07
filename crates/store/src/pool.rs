//! Opening the database: the connection pool, its SQLite settings, and the
//! retry that lets several processes open a new file at the same moment.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::error::Result;
use crate::{Store, migrate};

/// How often [`connect`] tries before giving up on a locked file.
const CONNECT_ATTEMPTS: u32 = 50;

/// Opens the pool. Turning a new file to WAL needs an exclusive lock that
/// SQLite's busy timeout does not wait for (sqlx documents this at
/// `SqliteConnectOptions::journal_mode`), so processes opening a fresh file
/// at the same moment can be told "database is locked" while connecting.
/// That is retried, briefly; any other error is returned at once.
async fn connect(options: SqliteConnectOptions) -> Result<SqlitePool> {
    let mut attempt = 1;
    loop {
        match SqlitePoolOptions::new().max_connections(8).connect_with(options.clone()).await {
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
    pub async fn open(path: &Path) -> Result<Store> {
        let pool = connect(options(path)?).await?;
        migrate::run(&pool, &path.display().to_string()).await?;
        Ok(Store { pool, reader: std::sync::Arc::new(crate::read_pool::ReadPool::new(path)) })
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
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
