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
mod writes;

pub use writes::*;

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

/// One refresh token of the development provider, as stored: the token
/// itself is never stored, only its hash (see `migrations/0002_refresh_tokens.sql`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefreshToken {
    /// The hash of the token (the provider decides how it hashes).
    pub token_hash: String,
    /// Shared by every token rotated from the same sign-in.
    pub family_id: String,
    pub user_id: i64,
    pub client_id: String,
    /// The scope granted at sign-in, space-separated.
    pub scope: String,
    pub audience: Option<String>,
    /// When the user signed in (seconds since the Unix epoch).
    pub auth_time: i64,
    pub created_at: i64,
    /// The family's absolute end.
    pub expires_at: i64,
    /// This token's end if it stays unused.
    pub idle_expires_at: i64,
    /// When this token was rotated; `None` while it is live.
    pub used_at: Option<i64>,
    /// When its family was revoked.
    pub revoked_at: Option<i64>,
}

/// A request to rotate a refresh token: see [`Store::rotate_refresh_token`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation<'a> {
    /// The hash of the token the client presented.
    pub presented_hash: &'a str,
    /// The client that presented it.
    pub client_id: &'a str,
    /// The hash of the token to issue in its place.
    pub successor_hash: &'a str,
    pub now: i64,
    /// How long the successor may stay unused (capped by the family's end).
    pub idle_ttl_secs: i64,
    /// For how many seconds after its rotation a token may be presented
    /// again and still be answered (0: never).
    pub reuse_interval_secs: i64,
}

/// What [`Store::rotate_refresh_token`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationOutcome {
    /// The presented token was live: it is now used, and this successor stored.
    Rotated(RefreshToken),
    /// The presented token had been rotated less than the reuse interval ago:
    /// this further successor was stored, and nothing was revoked.
    ReissuedWithinReuseInterval(RefreshToken),
    /// The presented token had been rotated before: its whole family
    /// (`revoked` live rows of it) is now revoked.
    ReuseDetected { family_id: String, revoked: u64 },
    /// Refused; nothing changed.
    Refused(RefreshRefusal),
}

/// Why a refresh token was refused without any change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    /// No such token (never issued, or swept after its family expired).
    Unknown,
    /// Issued to another client.
    OtherClient,
    /// Its family has been revoked.
    Revoked,
    /// Its family's absolute lifetime, or its own idle lifetime, is over.
    Expired,
}

/// What [`Store::revoke_refresh_token_family`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// No such token; nothing changed.
    Unknown,
    /// Issued to another client; nothing changed.
    OtherClient,
    /// The family is revoked (`revoked` rows were live until now).
    Revoked { family_id: String, revoked: u64 },
}

/// The columns of `refresh_tokens`, in [`RefreshToken`]'s order.
const REFRESH_TOKEN_COLUMNS: &str = "token_hash, family_id, user_id, client_id, scope, audience, auth_time, \
     created_at, expires_at, idle_expires_at, used_at, revoked_at";

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
        let pool = connect(options).await?;
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

    /// Stores a refresh token (the first of a new family, typically), and
    /// sweeps the tokens of families whose absolute lifetime ended by the
    /// time it was created.
    pub async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM refresh_tokens WHERE expires_at <= ?")
            .bind(token.created_at)
            .execute(&mut *tx)
            .await?;
        insert_refresh_token(&mut tx, token).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The refresh token with this hash, if it is stored (whatever its state).
    pub async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshToken>> {
        let sql = format!("SELECT {REFRESH_TOKEN_COLUMNS} FROM refresh_tokens WHERE token_hash = ?");
        Ok(sqlx::query_as::<_, RefreshToken>(&sql).bind(token_hash).fetch_optional(&self.pool).await?)
    }

    /// Every stored token of a family, oldest first.
    pub async fn refresh_token_family(&self, family_id: &str) -> Result<Vec<RefreshToken>> {
        let sql = format!(
            "SELECT {REFRESH_TOKEN_COLUMNS} FROM refresh_tokens WHERE family_id = ? ORDER BY created_at, rowid"
        );
        Ok(sqlx::query_as::<_, RefreshToken>(&sql).bind(family_id).fetch_all(&self.pool).await?)
    }

    /// Rotates a refresh token, atomically: the whole decision and its
    /// writes happen in one `BEGIN IMMEDIATE` transaction, which holds
    /// SQLite's write lock from its first statement, so two presentations of
    /// the same token (from two connections or two processes) are judged
    /// one after the other and cannot both rotate it.
    ///
    /// In order: an unknown token, a token of another client, a revoked
    /// family and a family past its absolute end are refused. A token
    /// rotated before is *reuse*: within `reuse_interval_secs` of its
    /// rotation a further successor is issued, later the whole family is
    /// revoked (RFC 9700 §4.14.2). A live token past its idle end is
    /// refused. Otherwise the token is marked used and the successor, of the
    /// same family, is stored.
    pub async fn rotate_refresh_token(&self, rotation: &Rotation<'_>) -> Result<RotationOutcome> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // On an error `tx` is dropped, which rolls the transaction back.
        let outcome = rotate_in(&mut tx, rotation).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Revokes the family of the token with this hash (RFC 7009), if the
    /// token exists and belongs to `client_id`. Revoking twice is harmless.
    pub async fn revoke_refresh_token_family(&self, token_hash: &str, client_id: &str, now: i64) -> Result<Revocation> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let Some(token) = find_refresh_token(&mut tx, token_hash).await? else {
            return Ok(Revocation::Unknown);
        };
        if token.client_id != client_id {
            return Ok(Revocation::OtherClient);
        }
        let revoked = revoke_family(&mut tx, &token.family_id, now).await?;
        tx.commit().await?;
        Ok(Revocation::Revoked { family_id: token.family_id, revoked })
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

async fn find_refresh_token(tx: &mut Tx, token_hash: &str) -> Result<Option<RefreshToken>> {
    let sql = format!("SELECT {REFRESH_TOKEN_COLUMNS} FROM refresh_tokens WHERE token_hash = ?");
    Ok(sqlx::query_as::<_, RefreshToken>(&sql).bind(token_hash).fetch_optional(&mut **tx).await?)
}

async fn insert_refresh_token(tx: &mut Tx, token: &RefreshToken) -> Result<()> {
    let sql =
        format!("INSERT INTO refresh_tokens ({REFRESH_TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    sqlx::query(&sql)
        .bind(&token.token_hash)
        .bind(&token.family_id)
        .bind(token.user_id)
        .bind(&token.client_id)
        .bind(&token.scope)
        .bind(&token.audience)
        .bind(token.auth_time)
        .bind(token.created_at)
        .bind(token.expires_at)
        .bind(token.idle_expires_at)
        .bind(token.used_at)
        .bind(token.revoked_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Marks every token of a family revoked; returns how many were not yet.
async fn revoke_family(tx: &mut Tx, family_id: &str, now: i64) -> Result<u64> {
    let done = sqlx::query("UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL")
        .bind(now)
        .bind(family_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

/// The body of [`Store::rotate_refresh_token`], inside its transaction.
async fn rotate_in(tx: &mut Tx, rotation: &Rotation<'_>) -> Result<RotationOutcome> {
    let now = rotation.now;
    let Some(presented) = find_refresh_token(tx, rotation.presented_hash).await? else {
        return Ok(RotationOutcome::Refused(RefreshRefusal::Unknown));
    };
    if presented.client_id != rotation.client_id {
        return Ok(RotationOutcome::Refused(RefreshRefusal::OtherClient));
    }
    if presented.revoked_at.is_some() {
        return Ok(RotationOutcome::Refused(RefreshRefusal::Revoked));
    }
    if now >= presented.expires_at {
        return Ok(RotationOutcome::Refused(RefreshRefusal::Expired));
    }
    // A successor inherits everything of the sign-in, the family's end included.
    let successor = RefreshToken {
        token_hash: rotation.successor_hash.to_owned(),
        created_at: now,
        idle_expires_at: now.saturating_add(rotation.idle_ttl_secs).min(presented.expires_at),
        used_at: None,
        revoked_at: None,
        ..presented.clone()
    };
    if let Some(used_at) = presented.used_at {
        // Reuse is judged before the idle end: a rotated token presented
        // late is still evidence that two parties hold the family.
        if now < used_at.saturating_add(rotation.reuse_interval_secs) {
            insert_refresh_token(tx, &successor).await?;
            return Ok(RotationOutcome::ReissuedWithinReuseInterval(successor));
        }
        let revoked = revoke_family(tx, &presented.family_id, now).await?;
        return Ok(RotationOutcome::ReuseDetected { family_id: presented.family_id, revoked });
    }
    if now >= presented.idle_expires_at {
        return Ok(RotationOutcome::Refused(RefreshRefusal::Expired));
    }
    // The write lock is held, so this cannot lose a race; the condition
    // still guards the invariant should the locking ever change.
    let marked = sqlx::query(
        "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(rotation.presented_hash)
    .execute(&mut **tx)
    .await?;
    if marked.rows_affected() != 1 {
        let revoked = revoke_family(tx, &presented.family_id, now).await?;
        return Ok(RotationOutcome::ReuseDetected { family_id: presented.family_id, revoked });
    }
    insert_refresh_token(tx, &successor).await?;
    Ok(RotationOutcome::Rotated(successor))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new, migrated and seeded database in a temporary directory (shared
    /// by every test module of this crate).
    pub(crate) async fn fresh() -> (tempfile::TempDir, Store) {
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

    fn refresh_token(user_id: i64, hash: &str, family: &str) -> RefreshToken {
        RefreshToken {
            token_hash: hash.into(),
            family_id: family.into(),
            user_id,
            client_id: "spa".into(),
            scope: "openid offline_access".into(),
            audience: Some("https://api".into()),
            auth_time: 90,
            created_at: 100,
            expires_at: 1000,
            idle_expires_at: 500,
            used_at: None,
            revoked_at: None,
        }
    }

    fn rotation<'a>(presented: &'a str, successor: &'a str, now: i64) -> Rotation<'a> {
        Rotation {
            presented_hash: presented,
            client_id: "spa",
            successor_hash: successor,
            now,
            idle_ttl_secs: 400,
            reuse_interval_secs: 0,
        }
    }

    async fn with_family() -> (tempfile::TempDir, Store, i64) {
        let (dir, store) = fresh().await;
        let jhon = store.user_by_username("jhon").await.unwrap().unwrap();
        store.insert_refresh_token(&refresh_token(jhon.id, "h1", "f1")).await.unwrap();
        (dir, store, jhon.id)
    }

    #[tokio::test]
    async fn rotation_marks_the_token_used_and_stores_a_successor_of_the_family() {
        let (_dir, store, user_id) = with_family().await;
        let outcome = store.rotate_refresh_token(&rotation("h1", "h2", 200)).await.unwrap();
        let RotationOutcome::Rotated(successor) = outcome else { panic!("{outcome:?}") };
        assert_eq!(successor.family_id, "f1");
        assert_eq!(successor.user_id, user_id);
        assert_eq!((successor.auth_time, successor.created_at, successor.expires_at), (90, 200, 1000));
        assert_eq!(successor.idle_expires_at, 600);
        assert_eq!(store.refresh_token("h2").await.unwrap(), Some(successor));
        assert_eq!(store.refresh_token("h1").await.unwrap().unwrap().used_at, Some(200));
        // The idle end never passes the family's end.
        let outcome =
            store.rotate_refresh_token(&Rotation { idle_ttl_secs: 5000, ..rotation("h2", "h3", 550) }).await.unwrap();
        let RotationOutcome::Rotated(last) = outcome else { panic!("{outcome:?}") };
        assert_eq!(last.idle_expires_at, 1000);
    }

    #[tokio::test]
    async fn presenting_a_rotated_token_revokes_the_whole_family() {
        let (_dir, store, _) = with_family().await;
        store.rotate_refresh_token(&rotation("h1", "h2", 200)).await.unwrap();
        let outcome = store.rotate_refresh_token(&rotation("h1", "h3", 201)).await.unwrap();
        assert_eq!(outcome, RotationOutcome::ReuseDetected { family_id: "f1".into(), revoked: 2 });
        assert!(store.refresh_token("h3").await.unwrap().is_none(), "nothing issued");
        let outcome = store.rotate_refresh_token(&rotation("h2", "h4", 202)).await.unwrap();
        assert_eq!(outcome, RotationOutcome::Refused(RefreshRefusal::Revoked));
        let family = store.refresh_token_family("f1").await.unwrap();
        assert!(family.iter().all(|t| t.revoked_at == Some(201)), "{family:?}");
    }

    #[tokio::test]
    async fn within_the_reuse_interval_a_rotated_token_gets_another_successor() {
        let (_dir, store, _) = with_family().await;
        let with_interval =
            |presented, successor, now| Rotation { reuse_interval_secs: 10, ..rotation(presented, successor, now) };
        store.rotate_refresh_token(&with_interval("h1", "h2", 200)).await.unwrap();
        let outcome = store.rotate_refresh_token(&with_interval("h1", "h3", 209)).await.unwrap();
        assert!(
            matches!(outcome, RotationOutcome::ReissuedWithinReuseInterval(ref t) if t.family_id == "f1"),
            "{outcome:?}"
        );
        // The window is anchored at the first rotation and does not slide.
        assert_eq!(store.refresh_token("h1").await.unwrap().unwrap().used_at, Some(200));
        // Both successors are live and single-use.
        assert!(matches!(
            store.rotate_refresh_token(&with_interval("h2", "h4", 209)).await.unwrap(),
            RotationOutcome::Rotated(_)
        ));
        let outcome = store.rotate_refresh_token(&with_interval("h1", "h5", 210)).await.unwrap();
        assert!(matches!(outcome, RotationOutcome::ReuseDetected { .. }), "{outcome:?}");
        for hash in ["h3", "h4"] {
            let outcome = store.rotate_refresh_token(&with_interval(hash, "h6", 211)).await.unwrap();
            assert_eq!(outcome, RotationOutcome::Refused(RefreshRefusal::Revoked), "{hash}");
        }
    }

    #[tokio::test]
    async fn unknown_foreign_and_expired_tokens_are_refused_without_change() {
        let (_dir, store, _) = with_family().await;
        let refused = |reason| RotationOutcome::Refused(reason);
        assert_eq!(
            store.rotate_refresh_token(&rotation("nope", "x", 200)).await.unwrap(),
            refused(RefreshRefusal::Unknown)
        );
        let foreign = Rotation { client_id: "other", ..rotation("h1", "x", 200) };
        assert_eq!(store.rotate_refresh_token(&foreign).await.unwrap(), refused(RefreshRefusal::OtherClient));
        assert_eq!(
            store.rotate_refresh_token(&rotation("h1", "x", 500)).await.unwrap(),
            refused(RefreshRefusal::Expired)
        );
        assert_eq!(
            store.rotate_refresh_token(&rotation("h1", "x", 1000)).await.unwrap(),
            refused(RefreshRefusal::Expired)
        );
        assert!(store.refresh_token("x").await.unwrap().is_none());
        assert_eq!(store.refresh_token("h1").await.unwrap().unwrap().used_at, None);
        assert!(matches!(
            store.rotate_refresh_token(&rotation("h1", "h2", 499)).await.unwrap(),
            RotationOutcome::Rotated(_)
        ));
    }

    #[tokio::test]
    async fn concurrent_rotations_of_one_token_cannot_both_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        // Two pools on one file: as two processes (or two connections) would.
        let (a, b) = (Store::open(&path).await.unwrap(), Store::open(&path).await.unwrap());
        let jhon = a.user_by_username("jhon").await.unwrap().unwrap();
        for round in 0..10 {
            let (first, family) = (format!("first-{round}"), format!("f-{round}"));
            a.insert_refresh_token(&refresh_token(jhon.id, &first, &family)).await.unwrap();
            let (one, two) = (format!("one-{round}"), format!("two-{round}"));
            let (via_a, via_b) = (rotation(&first, &one, 200), rotation(&first, &two, 200));
            let (x, y) = tokio::join!(a.rotate_refresh_token(&via_a), b.rotate_refresh_token(&via_b));
            let outcomes = [x.unwrap(), y.unwrap()];
            let rotated = outcomes.iter().filter(|o| matches!(o, RotationOutcome::Rotated(_))).count();
            let reuse = outcomes.iter().filter(|o| matches!(o, RotationOutcome::ReuseDetected { .. })).count();
            assert_eq!((rotated, reuse), (1, 1), "{outcomes:?}");
            let family = a.refresh_token_family(&family).await.unwrap();
            assert_eq!(family.len(), 2);
            assert!(family.iter().all(|t| t.revoked_at.is_some()));
        }
    }

    #[tokio::test]
    async fn revocation_revokes_the_family_for_its_client_only() {
        let (_dir, store, _) = with_family().await;
        store.rotate_refresh_token(&rotation("h1", "h2", 200)).await.unwrap();
        assert_eq!(store.revoke_refresh_token_family("nope", "spa", 300).await.unwrap(), Revocation::Unknown);
        assert_eq!(store.revoke_refresh_token_family("h2", "other", 300).await.unwrap(), Revocation::OtherClient);
        assert_eq!(store.refresh_token("h2").await.unwrap().unwrap().revoked_at, None);
        let done = store.revoke_refresh_token_family("h2", "spa", 300).await.unwrap();
        assert_eq!(done, Revocation::Revoked { family_id: "f1".into(), revoked: 2 });
        let again = store.revoke_refresh_token_family("h1", "spa", 301).await.unwrap();
        assert_eq!(again, Revocation::Revoked { family_id: "f1".into(), revoked: 0 });
        let outcome = store.rotate_refresh_token(&rotation("h2", "h3", 302)).await.unwrap();
        assert_eq!(outcome, RotationOutcome::Refused(RefreshRefusal::Revoked));
    }

    #[tokio::test]
    async fn families_past_their_end_are_swept_when_a_new_one_starts() {
        let (_dir, store, user_id) = with_family().await;
        let later = RefreshToken {
            created_at: 1000,
            expires_at: 2000,
            idle_expires_at: 1500,
            ..refresh_token(user_id, "g1", "f2")
        };
        store.insert_refresh_token(&later).await.unwrap();
        assert!(store.refresh_token("h1").await.unwrap().is_none(), "the old family ended at 1000");
        assert!(store.refresh_token("g1").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn deleting_a_user_deletes_their_refresh_tokens() {
        let (_dir, store, user_id) = with_family().await;
        sqlx::query("DELETE FROM users WHERE id = ?").bind(user_id).execute(&store.pool).await.unwrap();
        assert!(store.refresh_token("h1").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_version_1_database_is_migrated_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        // The file as the previous build left it: schema version 1, seeded,
        // with a live provider session.
        {
            let options = SqliteConnectOptions::from_str("sqlite://")
                .unwrap()
                .filename(&path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal);
            let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
            migrate::run_to(&pool, "v1", 1).await.unwrap();
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
        assert_eq!(version, 2);
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
