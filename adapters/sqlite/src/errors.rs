//! Translating driver errors into [`RepositoryError`] — the only place that looks inside a
//! `sqlx::Error`. Every query in this crate ends in `.map_err(translate)`, so the ports'
//! error contracts hold and nothing above the adapter depends on sqlx.

use std::fmt::Display;

use application::ports::RepositoryError;
use sqlx::error::ErrorKind;

/// Classifies a driver error by what the caller can do about it.
pub(crate) fn translate(error: sqlx::Error) -> RepositoryError {
    match error {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => RepositoryError::Duplicate,
            // The domain validated the value, yet the schema refused it: the two disagree,
            // and retrying cannot help.
            ErrorKind::ForeignKeyViolation
            | ErrorKind::NotNullViolation
            | ErrorKind::CheckViolation
            | ErrorKind::ExclusionViolation => {
                RepositoryError::Corrupt(format!("the database refused the write: {db}"))
            }
            // "database is locked" after the busy timeout, a full disk, a missing table
            // because migrations did not run: the store cannot serve right now.
            _ => RepositoryError::Unavailable(format!("SQLite refused the query: {db}")),
        },
        sqlx::Error::PoolTimedOut => RepositoryError::Unavailable(
            "no SQLite connection became available within the acquire timeout".into(),
        ),
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::TypeNotFound { .. } => {
            RepositoryError::Corrupt(format!("a stored row could not be read: {error}"))
        }
        other => RepositoryError::Unavailable(format!("SQLite failed: {other}")),
    }
}

/// A stored value that the domain refuses to rebuild from (say, a title edited by hand).
pub(crate) fn corrupt(what: &str, error: impl Display) -> RepositoryError {
    RepositoryError::Corrupt(format!("{what}: {error}"))
}
