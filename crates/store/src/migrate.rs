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
const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_schema.sql")];

pub(crate) async fn run(pool: &SqlitePool, path: &str) -> Result<()> {
    let mut conn = pool.acquire().await?;
    sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let outcome = apply(&mut conn, path).await;
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

async fn apply(conn: &mut sqlx::SqliteConnection, path: &str) -> Result<()> {
    let version: i64 = sqlx::query_scalar("PRAGMA user_version").fetch_one(&mut *conn).await?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::SchemaTooNew { path: path.to_owned(), found: version, known });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tracing::info!(version = index + 1, "applying schema migration");
        sqlx::raw_sql(sql).execute(&mut *conn).await?;
    }
    if version < known {
        // PRAGMA takes no bound parameters; `known` is our own constant.
        let pragma = format!("PRAGMA user_version = {known}");
        sqlx::raw_sql(&pragma).execute(&mut *conn).await?;
    }
    seed::demo_data_if_empty(conn).await
}
