//! What can go wrong with the database, as every method of the store reports it.

/// Everything that can go wrong with the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite or the driver failed (I/O, a locked file past the busy
    /// timeout, a constraint).
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// SQLite failed on one of the read-only connections of the hot reads
    /// (see `read_pool`).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was written by a newer build; it is left untouched.
    #[error(
        "the database at {path} has schema version {found}, newer than this build knows ({known}); upgrade the binary"
    )]
    SchemaTooNew {
        /// The database file.
        path: String,
        /// Its `user_version`.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A stored value is not one the schema allows (a row written around
    /// its `CHECK` constraint, by hand or by a newer build).
    #[error("the database holds {value:?} in {column}, which this build does not know")]
    InvalidValue {
        /// `table.column`.
        column: &'static str,
        /// The value as stored.
        value: String,
    },
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
