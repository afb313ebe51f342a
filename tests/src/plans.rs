//! What the query-plan tests (`tests/tests/*_plan.rs`) share: a migrated SQLite file to
//! fill by hand, and a plan's steps as text.

use sqlx::sqlite::SqliteArguments;
use sqlx::{Connection, Sqlite, SqliteConnection};

/// A plain connection to a SQLite file in `dir` that the store created and migrated, for
/// filling its tables with SQL rather than through the store.
pub async fn migrated_sqlite(dir: &tempfile::TempDir) -> SqliteConnection {
    let url = format!("sqlite:{}", dir.path().join("plans.db").display());
    let store = adapter_sqlite::SqliteStore::connect(&url)
        .await
        .expect("opening the SQLite file");
    store.migrate().await.expect("migrating SQLite");
    store.close().await;
    SqliteConnection::connect(&url)
        .await
        .expect("connecting to the SQLite file")
}

/// The `detail` of each step of `EXPLAIN QUERY PLAN <statement>` with its parameters bound.
pub async fn sqlite_plan(
    db: &mut SqliteConnection,
    explain: sqlx::query::QueryAs<'_, Sqlite, (i64, i64, i64, String), SqliteArguments>,
) -> Vec<String> {
    explain
        .fetch_all(db)
        .await
        .expect("explaining the statement")
        .into_iter()
        .map(|(_, _, _, detail)| detail)
        .collect()
}
