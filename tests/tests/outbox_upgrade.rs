//! Upgrading to the fan-out outbox (migration 0008) loses no notification: a database at the
//! previous migration, holding pending, delivered and dead rows, is migrated, and the chat
//! relay then delivers every pending row exactly once, in order per aggregate, and nothing
//! that was already final.

// Helpers outside `#[test]` functions are test code too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use adapter_memory::ManualClock;
use adapter_postgres::PostgresStore;
use adapter_sqlite::SqliteStore;
use application::ports::{CHAT_SINK, Outbox};
use application::use_cases::{DeliverNotifications, RelayPolicy};
use chrono::{DateTime, TimeZone, Utc};
use sqlx::Connection;
use sqlx::migrate::Migrator;
use tests::postgres::TestDatabase;
use tests::sinks::RecordingSink;
use uuid::Uuid;

/// The last migration before the fan-out.
const BEFORE_FAN_OUT: &str = "0007";

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// The migrations of `store` ("sqlite" or "postgres") up to and including
/// [`BEFORE_FAN_OUT`], copied into a directory of their own.
async fn previous_schema(store: &str) -> (tempfile::TempDir, Migrator) {
    let source: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../adapters")
        .join(store)
        .join("migrations");
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() <= format!("{BEFORE_FAN_OUT}_~").as_str() {
            std::fs::copy(&path, dir.path().join(&name)).unwrap();
        }
    }
    let migrator = Migrator::new(dir.path()).await.unwrap();
    (dir, migrator)
}

/// Three aggregates written under the old schema: `a` has two pending events, `b` one
/// delivered and one pending, `c` one dead. Returns the ids.
fn aggregates() -> [Uuid; 3] {
    [Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3)]
}

/// The old schema's rows of [`aggregates`], oldest first: `(aggregate, event type, status)`.
fn old_rows() -> [(Uuid, &'static str, &'static str); 5] {
    let [a, b, c] = aggregates();
    [
        (a, "approval.requested", "pending"),
        (b, "approval.requested", "delivered"),
        (c, "approval.requested", "dead"),
        (b, "approval.approved", "pending"),
        (a, "approval.approved", "pending"),
    ]
}

/// Asserts that the relay over the migrated `outbox` delivers every pending row of
/// [`old_rows`] exactly once, in order per aggregate, and nothing that was already final.
async fn assert_the_pending_rows_are_delivered_once(outbox: Arc<dyn Outbox>) {
    let [a, b, _] = aggregates();
    let mut delivered = deliver_everything(outbox).await;
    delivered.sort_by_key(|(aggregate, _)| *aggregate);
    let mut want: Vec<(Uuid, String)> = vec![
        (a, "approval.requested".into()),
        (b, "approval.approved".into()),
        (a, "approval.approved".into()),
    ];
    want.sort_by_key(|(aggregate, _)| *aggregate);
    assert_eq!(delivered, want);
}

async fn deliver_everything(outbox: Arc<dyn Outbox>) -> Vec<(Uuid, String)> {
    let sink = RecordingSink::new(CHAT_SINK, false);
    let relay = DeliverNotifications::new(
        outbox,
        sink.clone(),
        Arc::new(ManualClock::new(at())),
        RelayPolicy::default(),
    );
    // Each round delivers the head of every aggregate; three rounds are more than enough,
    // and a fourth finds nothing, so nothing is delivered twice.
    for _ in 0..4 {
        relay.execute().await.unwrap();
    }
    sink.received()
}

#[tokio::test]
async fn sqlite_rows_pending_before_the_fan_out_are_delivered_once_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("upgrade.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    let (_migrations, previous) = previous_schema("sqlite").await;
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    previous.run(&mut conn).await.unwrap();
    let micros = at().timestamp_micros();
    for (aggregate, event, status) in old_rows() {
        let finished = (status != "pending").then_some(micros);
        sqlx::query(
            "INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload, status,
                                 next_attempt_at, created_at, finished_at)
             VALUES ('approval', ?1, ?2, '{}', ?3, ?4, ?4, ?5)",
        )
        .bind(aggregate)
        .bind(event)
        .bind(status)
        .bind(micros)
        .bind(finished)
        .execute(&mut conn)
        .await
        .unwrap();
    }

    store.migrate().await.unwrap();

    assert_the_pending_rows_are_delivered_once(Arc::new(store)).await;
}

#[tokio::test]
async fn postgres_rows_pending_before_the_fan_out_are_delivered_once_after_it() {
    let database = TestDatabase::create().await;
    let (_migrations, previous) = previous_schema("postgres").await;
    let mut conn = sqlx::PgConnection::connect(&database.url()).await.unwrap();
    previous.run(&mut conn).await.unwrap();
    for (aggregate, event, status) in old_rows() {
        let finished = (status != "pending").then_some(at());
        sqlx::query(
            "INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload, status,
                                 next_attempt_at, created_at, finished_at)
             VALUES ('approval', $1, $2, '{}', $3, $4, $4, $5)",
        )
        .bind(aggregate)
        .bind(event)
        .bind(status)
        .bind(at())
        .bind(finished)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let store = PostgresStore::connect(&database.url(), Default::default())
        .await
        .unwrap();

    store.migrate().await.unwrap();

    assert_the_pending_rows_are_delivered_once(Arc::new(store)).await;
}
