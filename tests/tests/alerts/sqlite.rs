//! What the SQLite adapter does with alert rows: a row the domain refuses is reported
//! corrupt by every query that reads it.

use adapter_sqlite::SqliteStore;
use sqlx::{Connection, SqliteConnection};
use tests::contract::alert_repository::a_hand_edited_alert_row_is_reported_corrupt;

#[tokio::test]
async fn an_alert_row_the_domain_refuses_is_reported_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("service.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();

    a_hand_edited_alert_row_is_reported_corrupt(&store, async |sql| {
        let mut conn = SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    })
    .await;
}
