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
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_schema.sql"),
    include_str!("../migrations/0002_refresh_tokens.sql"),
    include_str!("../migrations/0003_projects_newest_first.sql"),
    include_str!("../migrations/0004_refresh_token_dpop_binding.sql"),
];

/// Whether the process may write the file, as the migration found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Writable,
    /// The file is read-only to this process (and its schema current).
    ReadOnly,
}

/// Brings the database up to the newest schema this build knows.
pub(crate) async fn run(pool: &SqlitePool, path: &str) -> Result<Access> {
    run_to(pool, path, MIGRATIONS.len()).await
}

/// Brings the database up to schema version `target` (tests use an older
/// target to make a database as an earlier build left it).
pub(crate) async fn run_to(pool: &SqlitePool, path: &str, target: usize) -> Result<Access> {
    let mut conn = pool.acquire().await?;
    match run_in_transaction(&mut conn, path, target).await {
        Ok(()) => Ok(Access::Writable),
        Err(error) if error.is_read_only() => read_only(&mut conn, path).await.map(|()| Access::ReadOnly),
        Err(error) => Err(error),
    }
}

/// The migrations and the seed in one `BEGIN IMMEDIATE` transaction.
async fn run_in_transaction(conn: &mut sqlx::SqliteConnection, path: &str, target: usize) -> Result<()> {
    sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    let outcome = apply(conn, path, target).await;
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

/// A file this process may only read (a write of the migration failed with
/// `SQLITE_READONLY`, and was rolled back): served as it is if its schema is
/// this build's, since nothing needs writing; refused if it needs migrating.
async fn read_only(conn: &mut sqlx::SqliteConnection, path: &str) -> Result<()> {
    let found: i64 = sqlx::query_scalar("PRAGMA user_version").fetch_one(&mut *conn).await?;
    let known = MIGRATIONS.len() as i64;
    if found > known {
        return Err(StoreError::SchemaTooNew { path: path.to_owned(), found, known });
    }
    if found < known {
        return Err(StoreError::ReadOnlyAndOutdated { path: path.to_owned(), found, known });
    }
    tracing::warn!("the database at {path} is read-only: reads are served, writes refused until it is writable");
    Ok(())
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
    // Written even when unchanged: on a file this process may only read, in
    // WAL mode, `BEGIN IMMEDIATE` succeeds and this is the write that fails,
    // so start-up knows (see `read_only`). PRAGMA takes no bound parameters;
    // the version is our own number.
    let pragma = format!("PRAGMA user_version = {}", version.max(target as i64));
    sqlx::raw_sql(&pragma).execute(&mut *conn).await?;
    seed::demo_data_if_empty(conn).await
}

#[cfg(test)]
mod tests {
    use sqlx::sqlite::SqlitePoolOptions;

    use super::*;
    use crate::test_support::{refresh_token, rotation};
    use crate::{RotationOutcome, Store};

    #[tokio::test]
    async fn a_newer_schema_is_refused_not_clobbered() {
        let (_dir, path) = crate::test_support::db_path();
        let store = Store::open(&path).await.unwrap();
        sqlx::query("PRAGMA user_version = 999").execute(&store.pool).await.unwrap();
        drop(store);
        let err = Store::open(&path).await.unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { found: 999, .. }), "{err}");
    }

    /// A file at `path` migrated to `version` only, as an earlier build left
    /// it, open on one connection.
    async fn database_at_version(path: &std::path::Path, version: usize) -> sqlx::SqlitePool {
        let options = crate::pool::options(path).unwrap();
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
        run_to(&pool, &format!("v{version}"), version).await.unwrap();
        pool
    }

    /// Migration 4 (the DPoP binding): the refresh tokens of a version-3
    /// file stay what they were, bearer tokens, and keep rotating.
    #[tokio::test]
    async fn a_version_3_databases_refresh_tokens_become_unbound_tokens() {
        let (_dir, path) = crate::test_support::db_path();
        {
            let pool = database_at_version(&path, 3).await;
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, family_id, user_id, client_id, scope, audience, auth_time, \
                 created_at, expires_at, idle_expires_at) \
                 SELECT 'h1', 'f1', id, 'spa', 'openid offline_access', NULL, 90, 100, 1000, 500 \
                 FROM users WHERE username = 'jhon'",
            )
            .execute(&pool)
            .await
            .unwrap();
            pool.close().await;
        }
        let store = Store::open(&path).await.unwrap();
        let version: i64 = sqlx::query_scalar("PRAGMA user_version").fetch_one(&store.pool).await.unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        let token = store.refresh_token("h1").await.unwrap().unwrap();
        assert_eq!(token.dpop_jkt, None);
        assert!(matches!(
            store.rotate_refresh_token(&rotation("h1", "h2", 200)).await.unwrap(),
            RotationOutcome::Rotated(_)
        ));
    }

    #[tokio::test]
    async fn a_version_1_database_is_migrated_in_place() {
        let (_dir, path) = crate::test_support::db_path();
        // The file as the previous build left it: schema version 1, seeded,
        // with a live provider session.
        {
            let pool = database_at_version(&path, 1).await;
            let version: i64 = sqlx::query_scalar("PRAGMA user_version").fetch_one(&pool).await.unwrap();
            assert_eq!(version, 1);
            let tables: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'refresh_tokens'")
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(tables, 0);
            sqlx::query("INSERT INTO idp_sessions (id, user_id, auth_time, expires_at) VALUES ('s1', 1, 10, 20)")
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        let store = Store::open(&path).await.unwrap();
        let version: i64 = sqlx::query_scalar("PRAGMA user_version").fetch_one(&store.pool).await.unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        assert!(store.idp_session("s1", 15).await.unwrap().is_some(), "existing rows survive");
        let users = store.all_users().await.unwrap();
        let mut names: Vec<_> = users.iter().map(|u| u.username.clone()).collect();
        names.dedup();
        assert_eq!(names.len(), users.len(), "not seeded twice");
        let jhon = store.user_by_username("jhon").await.unwrap().unwrap();
        store.insert_refresh_token(&refresh_token(jhon.id, "h1", "f1")).await.unwrap();
        assert!(matches!(
            store.rotate_refresh_token(&rotation("h1", "h2", 200)).await.unwrap(),
            RotationOutcome::Rotated(_)
        ));
    }
}
