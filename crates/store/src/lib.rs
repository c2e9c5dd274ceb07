//! The one owner of the SQLite schema.
//!
//! Both binaries (`api` and `dev-idp`) open the same database file through
//! [`Store::open`], which creates it if missing, switches it to WAL with a
//! busy timeout (so two processes can share it) and brings the schema and the
//! demo data up to date. No other crate writes SQL DDL.
//!
//! One module per table (or group of tables) and one per job:
//!
//! * `error`: [`StoreError`];
//! * `pool`: opening the file ([`Store::open`]) and [`Store::ping`];
//! * `migrate` and `seed`: the schema versions and the demo data;
//! * `page`: [`PageRequest`] and [`Page`], for the lists;
//! * `projects`: the Project List and the project writes, answered as
//!   [`contract::wire::Project`];
//! * `users_roles`: users, roles and their permissions, answered as
//!   [`User`] or [`contract::wire::UserWithRoles`];
//! * `idp_sessions` and `refresh_tokens`: the development provider's
//!   sessions and refresh tokens;
//! * `read_pool`: the read-only connections of the API's hot reads;
//! * `subject`: [`store_user_id`], the user a token's `sub` names (the
//!   API's project owner, dev-idp's logout hint);
//! * `writes`: what every write goes through (the file still the one
//!   opened; a read-only connection not kept).
//!
//! The API's rows are the wire types of the `contract` crate: the store
//! decodes each column once (a project's status into a
//! [`contract::wire::ProjectStatus`]) and the API serialises what it gets,
//! so there is no second row type to keep in step.
//!
//! Queries are runtime-checked (`sqlx::query_as`), never the compile-time
//! macros, which would need a database at build time.

mod error;
mod idp_sessions;
mod migrate;
mod page;
mod pool;
mod projects;
mod read_pool;
mod refresh_tokens;
mod seed;
mod subject;
mod users_roles;
mod writes;

pub use error::{Result, StoreError};
pub use idp_sessions::IdpSession;
pub use page::{Page, PageRequest};
pub use refresh_tokens::{RefreshRefusal, RefreshToken, Revocation, Rotation, RotationOutcome};
pub use subject::store_user_id;
pub use users_roles::{ADMIN_ROLE, RoleUpdateError, User};

use sqlx::sqlite::SqlitePool;

/// A handle on the database; cheap to clone (a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    /// Visible to the table modules, which run their queries on it.
    pool: SqlitePool,
    /// Read-only connections for the API's hot reads.
    reader: std::sync::Arc<read_pool::ReadPool>,
    /// The file opened, which every write checks (see `writes`).
    file: std::sync::Arc<writes::OpenFile>,
}

/// Fixtures shared by the test modules of this crate.
#[cfg(test)]
mod test_support {
    use crate::{RefreshToken, Rotation, Store};

    /// Where a test's database goes: a path in a temporary directory that
    /// lives as long as the returned guard.
    pub(crate) fn db_path() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        (dir, path)
    }

    /// A new, migrated and seeded database in a temporary directory.
    pub(crate) async fn fresh() -> (tempfile::TempDir, Store) {
        let (dir, path) = db_path();
        let store = Store::open(&path).await.unwrap();
        (dir, store)
    }

    /// The id of a user of the demo data.
    pub(crate) async fn user_id(store: &Store, username: &str) -> i64 {
        store.user_by_username(username).await.unwrap().unwrap().id
    }

    /// A live token of `family`, issued at 100, idle until 500, ending at 1000.
    pub(crate) fn refresh_token(user_id: i64, hash: &str, family: &str) -> RefreshToken {
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
            dpop_jkt: None,
        }
    }

    /// A rotation by the token's own client, 400 s of idle time, no reuse interval.
    pub(crate) fn rotation<'a>(presented: &'a str, successor: &'a str, now: i64) -> Rotation<'a> {
        Rotation {
            presented_hash: presented,
            client_id: "spa",
            successor_hash: successor,
            now,
            idle_ttl_secs: 400,
            reuse_interval_secs: 0,
            dpop_jkt: None,
        }
    }
}
