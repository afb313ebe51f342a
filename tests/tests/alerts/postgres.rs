//! What the PostgreSQL adapter does with alert rows: a row the domain refuses is reported
//! corrupt, and a server that is gone makes every alert query unavailable.

use adapter_postgres::PostgresStore;
use application::ports::{AlertRepository, RepositoryError};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};
use tests::contract::alert_repository::{a_hand_edited_alert_row_is_reported_corrupt, new_alert};
use tests::contract::fixtures::Fixture;
use tests::postgres::{TestDatabase, closed_port};

fn is_unavailable<T: std::fmt::Debug>(result: &Result<T, RepositoryError>) -> bool {
    matches!(result, Err(RepositoryError::Unavailable(_)))
}

#[tokio::test]
async fn an_alert_row_the_domain_refuses_is_reported_corrupt() {
    let database = TestDatabase::create().await;
    let store = database.migrated_store().await;

    a_hand_edited_alert_row_is_reported_corrupt(&store, async |sql| {
        let mut conn = PgConnection::connect(&database.url()).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_store_whose_server_is_gone_reports_unavailable_on_every_alert_query() {
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/service",
        closed_port().await
    );
    let pool = PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(500))
        .connect_lazy(&url)
        .unwrap();
    let store = PostgresStore::from_pool(pool);
    let fixture = Fixture::default();
    let mut alert = fixture.open_alert(new_alert("disk-full:db-1"));
    let events = alert.take_events();

    assert!(is_unavailable(
        &AlertRepository::save(&store, &alert, &events, None).await
    ));
    assert!(is_unavailable(
        &AlertRepository::get(&store, alert.id()).await
    ));
    assert!(is_unavailable(
        &store.find_unresolved(&alert.state().dedup_key).await
    ));
}
