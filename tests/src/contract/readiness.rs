//! The contract of `Readiness` for a healthy store. How each adapter reports an unhealthy
//! one (unreachable, not migrated) is adapter-specific and tested beside its suite.

use super::Store;

pub async fn a_migrated_store_is_ready(store: &Store) {
    assert_eq!(store.readiness.check().await, Ok(()));
}
