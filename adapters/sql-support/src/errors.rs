//! Translating driver errors into [`RepositoryError`]. sqlx reports constraint violations
//! through [`ErrorKind`], which every driver fills in from its own codes, so one
//! classification serves every SQL store; each adapter names its database for the messages.

use std::fmt::Display;

use application::ports::RepositoryError;
use sqlx::error::ErrorKind;

/// Classifies a driver error by what the caller can do about it. `database` names the store
/// in the message ("SQLite", "PostgreSQL").
pub fn translate(database: &str, error: sqlx::Error) -> RepositoryError {
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
            // Everything else the database says (SQLite's "database is locked" after the busy
            // timeout, a full disk, PostgreSQL shutting down or out of connections, a missing
            // table because migrations did not run) is about the store, not the data.
            _ => RepositoryError::Unavailable(format!("{database} refused the query: {db}")),
        },
        sqlx::Error::PoolTimedOut => RepositoryError::Unavailable(format!(
            "no {database} connection became available within the acquire timeout \
             (the database is unreachable or every connection is busy)"
        )),
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::TypeNotFound { .. } => {
            RepositoryError::Corrupt(format!("a stored row could not be read: {error}"))
        }
        // I/O, TLS, protocol, a closed pool, a crashed worker: the connection is the problem.
        other => RepositoryError::Unavailable(format!("{database} failed: {other}")),
    }
}

/// A stored value that the domain refuses to rebuild from (say, a title edited by hand).
pub fn corrupt(what: &str, error: impl Display) -> RepositoryError {
    RepositoryError::Corrupt(format!("{what}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database error of a given kind, as any driver would report it.
    #[derive(Debug)]
    struct Refusal(fn() -> ErrorKind);

    impl std::fmt::Display for Refusal {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "refused: {:?}", (self.0)())
        }
    }

    impl std::error::Error for Refusal {}

    impl sqlx::error::DatabaseError for Refusal {
        fn message(&self) -> &str {
            "refused"
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            (self.0)()
        }
    }

    fn refused(kind: fn() -> ErrorKind) -> RepositoryError {
        translate("SQLite", sqlx::Error::Database(Box::new(Refusal(kind))))
    }

    #[test]
    fn a_unique_violation_is_a_duplicate() {
        assert!(matches!(
            refused(|| ErrorKind::UniqueViolation),
            RepositoryError::Duplicate
        ));
    }

    #[test]
    fn a_write_the_schema_refuses_is_corrupt() {
        let kinds: [fn() -> ErrorKind; 3] = [
            || ErrorKind::ForeignKeyViolation,
            || ErrorKind::NotNullViolation,
            || ErrorKind::CheckViolation,
        ];
        for kind in kinds {
            assert!(matches!(refused(kind), RepositoryError::Corrupt(_)));
        }
    }

    #[test]
    fn any_other_refusal_is_unavailable_and_names_the_database() {
        let error = refused(|| ErrorKind::Other);
        assert!(matches!(&error, RepositoryError::Unavailable(m) if m.contains("SQLite")));
    }

    #[test]
    fn a_pool_timeout_is_unavailable_and_names_the_database() {
        let error = translate("SQLite", sqlx::Error::PoolTimedOut);
        assert!(matches!(&error, RepositoryError::Unavailable(m) if m.contains("SQLite")));
    }

    #[test]
    fn an_undecodable_column_is_corrupt() {
        let error = translate("PostgreSQL", sqlx::Error::ColumnNotFound("title".into()));
        assert!(matches!(&error, RepositoryError::Corrupt(m) if m.contains("title")));
    }

    #[test]
    fn a_broken_connection_is_unavailable() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let error = translate("PostgreSQL", sqlx::Error::Io(io));
        assert!(matches!(error, RepositoryError::Unavailable(_)));
    }
}
