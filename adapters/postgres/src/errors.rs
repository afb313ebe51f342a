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
            // Everything else the server says (shutting down, too many connections, a missing
            // table because migrations did not run) is about the server, not the data.
            _ => RepositoryError::Unavailable(format!("PostgreSQL refused the query: {db}")),
        },
        sqlx::Error::PoolTimedOut => RepositoryError::Unavailable(
            "no database connection became available within the acquire timeout \
             (PostgreSQL is unreachable or every connection is busy)"
                .into(),
        ),
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::TypeNotFound { .. } => {
            RepositoryError::Corrupt(format!("a stored row could not be read: {error}"))
        }
        // I/O, TLS, protocol, a closed pool, a crashed worker: the connection is the problem.
        other => RepositoryError::Unavailable(format!("PostgreSQL connection failed: {other}")),
    }
}

/// A stored value that the domain refuses to rebuild from (say, a title edited by hand).
pub(crate) fn corrupt(what: &str, error: impl Display) -> RepositoryError {
    RepositoryError::Corrupt(format!("{what}: {error}"))
}

/// True when a query failed because a table does not exist (SQLSTATE 42P01), which before
/// the first migration is an answer, not a failure.
pub(crate) fn is_undefined_table(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("42P01"))
}
