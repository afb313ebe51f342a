//! A fresh store per test, for each backend the contract suites run against.

use adapter_memory::MemoryStore;
use adapter_sqlite::SqliteStore;

use crate::contract::{Store, routes};
use crate::postgres::TestDatabase;

/// The in-memory fakes.
pub async fn memory() -> Store {
    Store::new(MemoryStore::with_routes(routes()), ())
}

/// A migrated SQLite file in a temporary directory, deleted with the store.
pub async fn sqlite() -> Store {
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    let url = format!("sqlite:{}", dir.path().join("service.db").display());
    let store = SqliteStore::connect(&url)
        .await
        .expect("opening the SQLite file")
        .with_routes(routes());
    store.migrate().await.expect("migrating SQLite");
    Store::new(store, dir)
}

/// A migrated PostgreSQL database of its own, dropped with the store.
pub async fn postgres() -> Store {
    let database = TestDatabase::create().await;
    let store = database.migrated_store().await.with_routes(routes());
    Store::new(store, database)
}
