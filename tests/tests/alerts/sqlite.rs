//! What the SQLite adapter does with alert rows: a row the domain refuses is reported
//! corrupt by every query that reads it.

use adapter_sqlite::SqliteStore;
use application::ports::{AlertRepository, RepositoryError};
use sqlx::{Connection, SqliteConnection};
use tests::contract::alert_repository::new_alert;
use tests::contract::fixtures::Fixture;

#[tokio::test]
async fn an_alert_row_the_domain_refuses_is_reported_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("service.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let fixture = Fixture::default();
    let mut alert = fixture.open_alert(new_alert("disk-full:db-1"));
    let events = alert.take_events();
    AlertRepository::save(&store, &alert, &events, None)
        .await
        .unwrap();

    // Someone edits the row by hand into something no alert can be.
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE alerts SET severity = 'catastrophic'")
        .execute(&mut conn)
        .await
        .unwrap();

    let loaded = AlertRepository::get(&store, alert.id()).await;
    assert!(
        matches!(&loaded, Err(RepositoryError::Corrupt(m)) if m.contains("severity")),
        "{loaded:?}"
    );
    let found = store.find_unresolved(&alert.state().dedup_key).await;
    assert!(
        matches!(&found, Err(RepositoryError::Corrupt(m)) if m.contains("severity")),
        "{found:?}"
    );
}
