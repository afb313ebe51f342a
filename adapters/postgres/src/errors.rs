//! Translating driver errors into [`RepositoryError`]. Every query in this crate ends in
//! `.map_err(translate)`, so the ports' error contracts hold and nothing above the adapter
//! depends on sqlx. The classification itself is the one every SQL store shares
//! ([`sql_support::translate`]); only what PostgreSQL alone reports (SQLSTATE codes) is read
//! here.

use application::ports::RepositoryError;

/// Classifies a driver error by what the caller can do about it.
pub(crate) fn translate(error: sqlx::Error) -> RepositoryError {
    sql_support::translate("PostgreSQL", error)
}

/// True when a query failed because a table does not exist (SQLSTATE 42P01), which before
/// the first migration is an answer, not a failure.
pub(crate) fn is_undefined_table(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("42P01"))
}
