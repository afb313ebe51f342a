//! Translating driver errors into [`RepositoryError`]. Every query in this crate ends in
//! `.map_err(translate)`, so the ports' error contracts hold and nothing above the adapter
//! depends on sqlx. The classification itself is the one every SQL store shares
//! ([`sql_support::translate`]).

use application::ports::RepositoryError;

pub(crate) use sql_support::corrupt;

/// Classifies a driver error by what the caller can do about it.
pub(crate) fn translate(error: sqlx::Error) -> RepositoryError {
    sql_support::translate("SQLite", error)
}
