//! The outbox claim's cost follows the batch, not the backlog, whatever the planner's
//! statistics say (issue: "the outbox claim degrades quadratically with a backlog").
//!
//! Each store gets a table whose statistics were taken while nothing was pending — what
//! autovacuum records on a quiet system — and then a backlog. The claim must still reach
//! its batch through the lane index, one lookup per candidate: on PostgreSQL, measured as
//! the rows its plan touched (`EXPLAIN ANALYZE`, no timing), on SQLite by the plan's shape
//! (`EXPLAIN QUERY PLAN`; SQLite has no row counts). The same holds with fresh statistics
//! and, on PostgreSQL, with the generic plan a prepared statement switches to.
//!
//! The statement under test is the store's own ([`adapter_postgres::OUTBOX_CLAIM`],
//! [`adapter_sqlite::OUTBOX_CLAIM`]), not a copy.

// Helpers outside `#[test]` functions are test code too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Duration, Utc};
use serde_json::Value;
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};
use tests::plans::{migrated_sqlite, sqlite_plan};
use tests::postgres::TestDatabase;

/// Delivered rows in the table when its statistics are taken.
const HISTORY: i64 = 5_000;
/// Aggregates with a backlog, and pending rows of each: 2,000 pending rows in all.
const LANES: i64 = 1_000;
const PER_LANE: i64 = 2;
const BACKLOG: i64 = LANES * PER_LANE;
const BATCH: i64 = 10;

/// The statistics the planner sees when the claim runs.
#[derive(Debug, Clone, Copy)]
enum Statistics {
    /// Taken while only delivered rows existed: every pending-rows index looks empty.
    Stale,
    /// Taken after the backlog was written.
    Fresh,
    /// Stale, and the plan is the generic one a prepared statement uses after a few runs.
    StaleGenericPlan,
}

const STATES: [Statistics; 3] = [
    Statistics::Stale,
    Statistics::Fresh,
    Statistics::StaleGenericPlan,
];

/// Rows a plan node and its children produced or looked at and dropped, over all loops.
/// PostgreSQL reports both per loop.
fn rows_touched(node: &Value) -> f64 {
    let number = |key: &str| node.get(key).and_then(Value::as_f64).unwrap_or(0.0);
    let loops = number("Actual Loops");
    let own = (number("Actual Rows")
        + number("Rows Removed by Filter")
        + number("Rows Removed by Join Filter")
        + number("Rows Removed by Index Recheck"))
        * loops;
    let children = node
        .get("Plans")
        .and_then(Value::as_array)
        .map_or(0.0, |plans| plans.iter().map(rows_touched).sum());
    own + children
}

/// Every index a plan node or its children read.
fn indexes_read(node: &Value, into: &mut Vec<String>) {
    if let Some(name) = node.get("Index Name").and_then(Value::as_str) {
        into.push(name.to_owned());
    }
    for child in node
        .get("Plans")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        indexes_read(child, into);
    }
}

/// A migrated PostgreSQL database whose outbox holds [`HISTORY`] delivered rows, analyzed,
/// and then [`BACKLOG`] pending rows the statistics know nothing of. Autovacuum is off for
/// the table, so they stay that way.
async fn postgres_with_backlog() -> (TestDatabase, PgConnection) {
    let database = TestDatabase::create().await;
    drop(database.migrated_store().await);
    let mut db = PgConnection::connect(&database.url()).await.unwrap();
    for statement in [
        "ALTER TABLE outbox SET (autovacuum_enabled = false)",
        "INSERT INTO outbox (sink, aggregate_type, aggregate_id, event_type, payload, status,
                             next_attempt_at, created_at, finished_at)
         SELECT 'chat', 'approval', gen_random_uuid(), 'approval.requested', '{}',
                'delivered', now(), now(), now()
         FROM generate_series(1, 5000)",
        "ANALYZE outbox",
        // Round by round, so that every lane's first row is older than any second row.
        "INSERT INTO outbox (sink, aggregate_type, aggregate_id, event_type, payload,
                             next_attempt_at, created_at)
         SELECT 'chat', 'approval', lane.id, 'approval.requested', '{}',
                now() - interval '1 minute', now()
         FROM generate_series(1, 2) AS round,
              (SELECT md5(n::text)::uuid AS id, n FROM generate_series(1, 1000) AS n) AS lane
         ORDER BY round, lane.n",
    ] {
        sqlx::raw_sql(statement).execute(&mut db).await.unwrap();
    }
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'pending'")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(pending, BACKLOG);
    let history: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(history - pending, HISTORY);
    (database, db)
}

/// Runs the claim under `EXPLAIN ANALYZE` in a transaction that is rolled back, so each
/// state starts from the same table. Returns the plan.
async fn explain_postgres_claim(db: &mut PgConnection, statistics: Statistics) -> Value {
    let claim = adapter_postgres::OUTBOX_CLAIM;
    let mut tx = db.begin().await.unwrap();
    let plan: Value = match statistics {
        Statistics::Stale | Statistics::Fresh => {
            if matches!(statistics, Statistics::Fresh) {
                sqlx::raw_sql("ANALYZE outbox")
                    .execute(&mut *tx)
                    .await
                    .unwrap();
            }
            let now = Utc::now();
            sqlx::query_scalar(AssertSqlSafe(format!(
                "EXPLAIN (ANALYZE, FORMAT JSON) {claim}"
            )))
            .bind("chat")
            .bind(now)
            .bind(BATCH)
            .bind(now + Duration::seconds(15))
            .fetch_one(&mut *tx)
            .await
            .unwrap()
        }
        Statistics::StaleGenericPlan => {
            // Only `EXECUTE` of a prepared statement goes through the plan cache, where
            // `plan_cache_mode` applies; a parameterized `EXPLAIN` is planned with its values.
            sqlx::raw_sql(AssertSqlSafe(format!(
                "PREPARE claim (text, timestamptz, bigint, timestamptz) AS {claim};
                 SET LOCAL plan_cache_mode = force_generic_plan"
            )))
            .execute(&mut *tx)
            .await
            .unwrap();
            let plan = sqlx::query_scalar(AssertSqlSafe(format!(
                "EXPLAIN (ANALYZE, FORMAT JSON)
                 EXECUTE claim ('chat', now(), {BATCH}, now() + interval '15 seconds')"
            )))
            .fetch_one(&mut *tx)
            .await
            .unwrap();
            sqlx::raw_sql("DEALLOCATE claim")
                .execute(&mut *tx)
                .await
                .unwrap();
            plan
        }
    };
    tx.rollback().await.unwrap();
    plan[0]["Plan"].clone()
}

#[tokio::test]
async fn postgres_claim_reads_its_batch_not_the_backlog_whatever_the_statistics() {
    let (_database, mut db) = postgres_with_backlog().await;
    for statistics in STATES {
        let plan = explain_postgres_claim(&mut db, statistics).await;
        assert_eq!(
            plan["Actual Rows"].as_f64(),
            Some(BATCH as f64),
            "{statistics:?}: the claim leases a full batch: {plan:#}"
        );
        // The quadratic plan touched every pending row once per candidate: more than
        // BACKLOG × BATCH rows. One lookup per candidate stays far below even BACKLOG.
        let touched = rows_touched(&plan);
        assert!(
            touched < (BACKLOG / 4) as f64,
            "{statistics:?}: the claim touched {touched} rows for a batch of {BATCH} \
             with {BACKLOG} pending: {plan:#}"
        );
        let mut indexes = Vec::new();
        indexes_read(&plan, &mut indexes);
        assert!(
            indexes
                .iter()
                .any(|name| name == "outbox_unfinished_by_lane"),
            "{statistics:?}: the ordering check uses the lane index, read {indexes:?}"
        );
    }
}

/// A migrated SQLite database in `dir`: [`HISTORY`] delivered rows, analyzed when
/// `analyze_before`, then [`BACKLOG`] pending rows.
async fn sqlite_with_backlog(dir: &tempfile::TempDir, analyze_before: bool) -> SqliteConnection {
    let mut db = migrated_sqlite(dir).await;
    sqlx::raw_sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
         INSERT INTO outbox (sink, aggregate_type, aggregate_id, event_type, payload, status,
                             next_attempt_at, created_at, finished_at)
         SELECT 'chat', 'approval', randomblob(16), 'approval.requested', '{}', 'delivered',
                0, 0, 1
         FROM n",
    )
    .execute(&mut db)
    .await
    .unwrap();
    if analyze_before {
        sqlx::raw_sql("ANALYZE").execute(&mut db).await.unwrap();
    }
    sqlx::raw_sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
         INSERT INTO outbox (sink, aggregate_type, aggregate_id, event_type, payload,
                             next_attempt_at, created_at)
         SELECT 'chat', 'approval', CAST(printf('lane%012d', n.i) AS BLOB),
                'approval.requested', '{}', 0, 0
         FROM (SELECT 1 AS round UNION ALL SELECT 2) AS rounds, n
         ORDER BY rounds.round, n.i",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'pending'")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(pending, BACKLOG);
    db
}

#[tokio::test]
async fn sqlite_claim_searches_the_lane_index_whatever_the_statistics() {
    // Never analyzed, analyzed before the backlog (stale) and after it (fresh).
    for (analyze_before, analyze_after) in [(false, false), (true, false), (true, true)] {
        let dir = tempfile::tempdir().unwrap();
        let mut db = sqlite_with_backlog(&dir, analyze_before).await;
        if analyze_after {
            sqlx::raw_sql("ANALYZE").execute(&mut db).await.unwrap();
        }
        let explain = format!("EXPLAIN QUERY PLAN {}", adapter_sqlite::OUTBOX_CLAIM);
        let now = Utc::now().timestamp_micros();
        let plan = sqlite_plan(
            &mut db,
            sqlx::query_as(AssertSqlSafe(explain))
                .bind("chat")
                .bind(now)
                .bind(BATCH)
                .bind(now + 15_000_000),
        )
        .await;
        let state = format!("analyzed before: {analyze_before}, after: {analyze_after}");
        assert!(
            !plan.iter().any(|step| step.starts_with("SCAN")),
            "{state}: no step scans the table or an index: {plan:#?}"
        );
        assert!(
            plan.iter().any(|step| step
                .starts_with("SEARCH candidate USING INDEX outbox_pending_by_sink_id (sink=?)")),
            "{state}: candidates come from the pending ids of the sink, in order: {plan:#?}"
        );
        assert!(
            plan.iter().any(|step| step.starts_with(
                "SEARCH older USING INDEX outbox_unfinished_by_lane (sink=? AND aggregate_id=?)"
            )),
            "{state}: the ordering check is one lane-index search: {plan:#?}"
        );
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE")),
            "{state}: nothing is sorted, the index gives the order: {plan:#?}"
        );
    }
}
