//! The one owner of the SQLite schema.
//!
//! Both binaries (`api` and `dev-idp`) open the same database file through
//! [`Store::open`], which creates it if missing, switches it to WAL with a
//! busy timeout (so two processes can share it) and brings the schema and the
//! demo data up to date. No other crate writes SQL DDL.
//!
//! Queries are runtime-checked (`sqlx::query_as`), never the compile-time
//! macros, which would need a database at build time.

mod migrate;
mod seed;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

/// Everything that can go wrong with the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error(
        "the database at {path} has schema version {found}, newer than this build knows ({known}); upgrade the binary"
    )]
    SchemaTooNew { path: String, found: i64, known: i64 },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A handle on the database; cheap to clone (a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

/// A user as the provider and the API know them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
}

/// A user with the names of their roles, for the User List.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserWithRoles {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<String>,
}

/// A project of the demo data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub status: String,
    pub owner: Option<String>,
    pub created_at: String,
}

/// A development-provider sign-in session.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdpSession {
    pub id: String,
    pub user_id: i64,
    /// When the user signed in (seconds since the Unix epoch): the ID token's `auth_time`.
    pub auth_time: i64,
    pub expires_at: i64,
}

/// Which slice of a list to read: 1-based `page` of `per_page` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: u32,
}

impl PageRequest {
    fn offset(self) -> i64 {
        i64::from(self.page.saturating_sub(1)) * i64::from(self.per_page)
    }
}

/// One page of a list and the size of the whole list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// `group_concat` promises no order, so the roles are sorted here.
fn sorted_words(joined: Option<&str>) -> Vec<String> {
    let mut words: Vec<String> = joined.unwrap_or("").split_whitespace().map(str::to_owned).collect();
    words.sort();
    words
}

impl Store {
    /// Opens (creating if missing) the database file at `path`, and migrates
    /// and seeds it. Safe to call from several processes at once: the
    /// migration runs under SQLite's write lock, so exactly one applies it.
    pub async fn open(path: &Path) -> Result<Store> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        migrate::run(&pool, &path.display().to_string()).await?;
        Ok(Store { pool })
    }

    /// One page of projects, newest first.
    pub async fn list_projects(&self, page: PageRequest) -> Result<Page<Project>> {
        let items = sqlx::query_as::<_, Project>(
            "SELECT p.id, p.name, p.description, p.status, u.name AS owner, p.created_at
             FROM projects p LEFT JOIN users u ON u.id = p.owner_id
             ORDER BY p.created_at DESC, p.id DESC LIMIT ? OFFSET ?",
        )
        .bind(i64::from(page.per_page))
        .bind(page.offset())
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM projects").fetch_one(&self.pool).await?;
        Ok(Page { items, total: total as u64 })
    }

    /// One page of users with their roles, by username. One query: the
    /// roles come aggregated, not one query per user.
    pub async fn list_users(&self, page: PageRequest) -> Result<Page<UserWithRoles>> {
        let rows: Vec<(i64, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT u.id, u.username, u.name, u.email,
                    (SELECT group_concat(role, ' ') FROM user_roles WHERE user_id = u.id)
             FROM users u ORDER BY u.username LIMIT ? OFFSET ?",
        )
        .bind(i64::from(page.per_page))
        .bind(page.offset())
        .fetch_all(&self.pool)
        .await?;
        let items = rows
            .into_iter()
            .map(|(id, username, name, email, roles)| UserWithRoles {
                id,
                username,
                name,
                email,
                // Role names are single words (the seed and any future write path
                // keep them so), so a space separates them unambiguously.
                roles: sorted_words(roles.as_deref()),
            })
            .collect();
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?;
        Ok(Page { items, total: total as u64 })
    }

    /// Every user, by username (the development provider's sign-in page).
    pub async fn all_users(&self) -> Result<Vec<User>> {
        Ok(sqlx::query_as::<_, User>("SELECT id, username, name, email FROM users ORDER BY username")
            .fetch_all(&self.pool)
            .await?)
    }

    /// The user with this username, if any.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        Ok(sqlx::query_as::<_, User>("SELECT id, username, name, email FROM users WHERE username = ?")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The user with this id, if any.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        Ok(sqlx::query_as::<_, User>("SELECT id, username, name, email FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The names of the user's roles, sorted.
    pub async fn user_roles(&self, user_id: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = ? ORDER BY role")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The permissions the user holds through their roles, sorted, each once.
    pub async fn user_permissions(&self, user_id: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT rp.permission FROM user_roles ur
             JOIN role_permissions rp ON rp.role = ur.role
             WHERE ur.user_id = ? ORDER BY rp.permission",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records a provider session.
    pub async fn create_idp_session(&self, session: &IdpSession) -> Result<()> {
        sqlx::query("INSERT INTO idp_sessions (id, user_id, auth_time, expires_at) VALUES (?, ?, ?, ?)")
            .bind(&session.id)
            .bind(session.user_id)
            .bind(session.auth_time)
            .bind(session.expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The provider session with this id, if it exists and has not expired at `now`.
    pub async fn idp_session(&self, id: &str, now: i64) -> Result<Option<IdpSession>> {
        Ok(sqlx::query_as::<_, IdpSession>(
            "SELECT id, user_id, auth_time, expires_at FROM idp_sessions WHERE id = ? AND expires_at > ?",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Ends a provider session (and sweeps expired ones while at it).
    pub async fn delete_idp_session(&self, id: &str, now: i64) -> Result<()> {
        sqlx::query("DELETE FROM idp_sessions WHERE id = ? OR expires_at <= ?")
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
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

    async fn fresh() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("app.db")).await.unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn demo_accounts_have_the_documented_permissions() {
        let (_dir, store) = fresh().await;
        let perms = |name: &'static str| {
            let store = store.clone();
            async move {
                let user = store.user_by_username(name).await.unwrap().unwrap();
                store.user_permissions(user.id).await.unwrap()
            }
        };
        assert_eq!(
            perms("jhon").await,
            ["create:project", "delete:project", "read:project-list", "read:user-list", "update:user-roles"]
        );
        assert_eq!(perms("james").await, ["create:project", "read:project-list"]);
        assert!(perms("nobody").await.is_empty());
    }

    #[tokio::test]
    async fn lists_are_paginated_with_totals() {
        let (_dir, store) = fresh().await;
        let first = store.list_projects(PageRequest { page: 1, per_page: 10 }).await.unwrap();
        assert_eq!(first.items.len(), 10);
        assert!(first.total >= 24, "a few dozen projects: {}", first.total);
        let last_page = first.total.div_ceil(10) as u32;
        let last = store.list_projects(PageRequest { page: last_page, per_page: 10 }).await.unwrap();
        assert!(!last.items.is_empty() && last.items.len() <= 10);
        let past = store.list_projects(PageRequest { page: last_page + 1, per_page: 10 }).await.unwrap();
        assert!(past.items.is_empty());

        let users = store.list_users(PageRequest { page: 1, per_page: 100 }).await.unwrap();
        assert!(users.total >= 15);
        let jhon = users.items.iter().find(|u| u.username == "jhon").unwrap();
        assert_eq!(jhon.roles, ["admin"]);
        let emeka = users.items.iter().find(|u| u.username == "emeka").unwrap();
        assert_eq!(emeka.roles, ["project-manager", "viewer"]);
        let nobody = users.items.iter().find(|u| u.username == "nobody").unwrap();
        assert!(nobody.roles.is_empty());
    }

    #[tokio::test]
    async fn reopening_keeps_data_and_does_not_seed_twice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        let total = Store::open(&path).await.unwrap().all_users().await.unwrap().len();
        let again = Store::open(&path).await.unwrap().all_users().await.unwrap().len();
        assert_eq!(total, again);
    }

    #[tokio::test]
    async fn concurrent_first_opens_migrate_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
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
    async fn idp_sessions_expire_and_end() {
        let (_dir, store) = fresh().await;
        let jhon = store.user_by_username("jhon").await.unwrap().unwrap();
        let session = IdpSession { id: "s1".into(), user_id: jhon.id, auth_time: 100, expires_at: 200 };
        store.create_idp_session(&session).await.unwrap();
        assert_eq!(store.idp_session("s1", 150).await.unwrap(), Some(session));
        assert_eq!(store.idp_session("s1", 200).await.unwrap(), None);
        store.delete_idp_session("s1", 150).await.unwrap();
        assert_eq!(store.idp_session("s1", 150).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_newer_schema_is_refused_not_clobbered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        let store = Store::open(&path).await.unwrap();
        sqlx::query("PRAGMA user_version = 999").execute(&store.pool).await.unwrap();
        drop(store);
        let err = Store::open(&path).await.unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { found: 999, .. }), "{err}");
    }
}
