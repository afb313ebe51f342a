//! The contract of `Readiness` for a healthy store. How each adapter reports an unhealthy
//! one (unreachable, not migrated) is adapter-specific and tested beside its suite; what the
//! SQL adapters share of it is here too.

use application::ports::{Readiness, RepositoryError};

use super::Store;

pub async fn a_migrated_store_is_ready(store: &Store) {
    assert_eq!(store.readiness.check().await, Ok(()));
}

/// How a SQL store reports its schema: not ready, naming the migrations not applied, until
/// `migrate` ran; ready after, and still ready after `migrate` ran again (a no-op).
pub async fn ready_only_once_migrated(store: &dyn Readiness, migrate: impl AsyncFn()) {
    let before = store.check().await;
    assert!(
        matches!(&before, Err(RepositoryError::Unavailable(m)) if m.contains("not applied")),
        "{before:?}"
    );
    migrate().await;
    assert_eq!(store.check().await, Ok(()));
    migrate().await;
    assert_eq!(store.check().await, Ok(()));
}
