//! Optimistic concurrency, as every SQL store's `save` applies it: an aggregate's first
//! version is inserted, and every later one replaces the row only where it still holds the
//! version the change was based on (`UPDATE … WHERE id = … AND version = …`).

use application::ports::RepositoryError;

/// The outcome of that guarded UPDATE, from the number of rows it changed.
///
/// # Errors
/// `Conflict` when it changed none: another save changed the aggregate first, and the caller
/// must reload it and decide again.
pub fn version_matched(rows_affected: u64) -> Result<(), RepositoryError> {
    if rows_affected == 0 {
        Err(RepositoryError::Conflict)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_that_changed_no_row_lost_the_race() {
        assert_eq!(version_matched(0), Err(RepositoryError::Conflict));
        assert_eq!(version_matched(1), Ok(()));
    }
}
