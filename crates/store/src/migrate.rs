//! Schema migrations, applied on start by whichever process comes first.
//!
//! The schema version is SQLite's `user_version`. A migration runs inside a
//! `BEGIN IMMEDIATE` transaction, which takes the database's write lock
//! before reading the version: a second process starting at the same moment
//! waits on the busy timeout, then sees the new version and does nothing.
//! (sqlx's own migrator takes no lock on SQLite, so two processes could both
//! apply the same migration.)

use sqlx::Connection;
use sqlx::sqlite::SqlitePool;

use crate::{Result, StoreError, seed};

/// The migrations, in order; entry `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] =
    &[include_str!("../migrations/0001_schema.sql"), include_str!("../migrations/0002_refresh_tokens.sql")];

/// Brings the database up to the newest schema this build knows.
pub(crate) async fn run(pool: &SqlitePool, path: &str) -> Result<()> {
    run_to(pool, path, MIGRATIONS.len()).await
}

/// Brings the database up to schema version `target` (tests use an older
/// target to make a database as an earlier build left it).
pub(crate) async fn run_to(pool: &SqlitePool, path: &str, target: usize) -> Result<()> {
    let mut conn = pool.acquire().await?;
    sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let outcome = apply(&mut conn, path, target).await;
    match outcome {
        Ok(()) => {
            sqlx::raw_sql("COMMIT").execute(&mut *conn).await?;
            Ok(())
        }
        Err(err) => {
            // The transaction is abandoned whole: the file stays as it was.
            let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
            let _ = conn.ping().await;
            Err(err)
        }
    }
}

async fn apply(conn: &mut sqlx::SqliteConnection, path: &str, target: usize) -> Result<()> {
    let version: i64 = sqlx::query_scalar("PRAGMA user_version").fetch_one(&mut *conn).await?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::SchemaTooNew { path: path.to_owned(), found: version, known });
    }
    let target = target.min(MIGRATIONS.len());
    for (index, sql) in MIGRATIONS.iter().enumerate().take(target).skip(version.max(0) as usize) {
        tracing::info!(version = index + 1, "applying schema migration");
        sqlx::raw_sql(sql).execute(&mut *conn).await?;
    }
    if version < target as i64 {
        // PRAGMA takes no bound parameters; `target` is our own number.
        let pragma = format!("PRAGMA user_version = {target}");
        sqlx::raw_sql(&pragma).execute(&mut *conn).await?;
    }
    seed::demo_data_if_empty(conn).await
}
