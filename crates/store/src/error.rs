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
    /// The database file was deleted or replaced after this process opened
    /// it: a write would go to the file no path names any more, and be lost
    /// at the next start (see `writes`).
    #[error(
        "the database file {path} was deleted or replaced after this process opened it; writes are refused, as they \
         would be lost: restore the file or restart the process"
    )]
    FileReplaced {
        /// The database file.
        path: String,
    },
    /// The file is read-only and its schema older than this build's: it
    /// cannot be migrated, so it cannot be served.
    #[error(
        "the database at {path} is read-only and has schema version {found}, older than this build's ({known}); \
         make it writable so it can be migrated"
    )]
    ReadOnlyAndOutdated {
        /// The database file.
        path: String,
        /// Its `user_version`.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// SQLite can neither open nor create the file (`SQLITE_CANTOPEN`).
    #[error(
        "SQLite cannot open or create {path}: its directory must exist and be writable by this process, and the \
         path must name a file"
    )]
    CannotOpen {
        /// The database file.
        path: String,
    },
    /// The file cannot be examined at all.
    #[error("cannot read the database file {path}: {source}")]
    Io {
        /// The database file.
        path: String,
        /// What the system said.
        source: std::io::Error,
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

impl StoreError {
    /// Whether SQLite refused a write because the connection or the file is
    /// read-only (`SQLITE_READONLY`, primary code 8, whatever the extended code).
    pub fn is_read_only(&self) -> bool {
        self.sqlite_primary_code() == Some(8)
    }

    /// SQLite's primary result code, for an error SQLite reported.
    pub(crate) fn sqlite_primary_code(&self) -> Option<i32> {
        match self {
            StoreError::Sqlx(sqlx::Error::Database(error)) => {
                error.code().and_then(|code| code.parse::<i32>().ok()).map(|code| code & 0xff)
            }
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(error, _)) => Some(error.extended_code & 0xff),
            _ => None,
        }
    }
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
