//! The sweeper's "when is the next deadline?" reads one entry of each partial index, not
//! every pending request, on SQLite, whatever `ANALYZE` last recorded or never did.
//!
//! Left to its planner, SQLite answered the query through `approvals_by_status`, reading
//! every pending request: 42 ms at 50,000 pending, asked once per save under load. The
//! statement under test is the store's own ([`adapter_sqlite::NEXT_DEADLINE`]). PostgreSQL
//! plans the same query on the partial indexes by itself.

// Helpers outside `#[test]` functions are test code too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sqlx::{AssertSqlSafe, SqliteConnection};
use tests::plans::{migrated_sqlite, sqlite_plan};

/// A migrated SQLite database in `dir` holding 2,000 pending requests, analyzed when
/// `analyze`.
async fn sqlite_with_pending(dir: &tempfile::TempDir, analyze: bool) -> SqliteConnection {
    let mut db = migrated_sqlite(dir).await;
    sqlx::raw_sql(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
         INSERT INTO approvals (id, title, description, requester, destination, metadata,
                                required_approvals, allowed_approvers, allow_self_approval,
                                status, decisions, created_at, expires_at, version)
         SELECT randomblob(16), 'Deploy?', '', 'ci', 'C1', '{}', 1, '[]', 0, 'pending', '[]',
                i, i + 3600000000, 1
         FROM n",
    )
    .execute(&mut db)
    .await
    .unwrap();
    if analyze {
        sqlx::raw_sql("ANALYZE").execute(&mut db).await.unwrap();
    }
    db
}

#[tokio::test]
async fn sqlite_next_deadline_reads_the_first_entry_of_each_partial_index() {
    for analyze in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut db = sqlite_with_pending(&dir, analyze).await;
        let explain = format!("EXPLAIN QUERY PLAN {}", adapter_sqlite::NEXT_DEADLINE);
        let plan = sqlite_plan(&mut db, sqlx::query_as(AssertSqlSafe(explain))).await;
        for index in [
            "approvals_pending_by_expiry",
            "approvals_pending_by_reminder",
        ] {
            assert!(
                plan.iter()
                    .any(|step| step.starts_with("SEARCH approvals USING")
                        && step.contains(&format!("INDEX {index}"))),
                "analyzed: {analyze}: one search of {index}: {plan:#?}"
            );
        }
        assert!(
            !plan
                .iter()
                .any(|step| step.contains("approvals_by_status")
                    || step.starts_with("SCAN approvals")),
            "analyzed: {analyze}: no step reads the pending requests one by one: {plan:#?}"
        );
        // And it answers: the earliest expiry of the 2,000, no reminder.
        let (expiry, reminder): (Option<i64>, Option<i64>) =
            sqlx::query_as(adapter_sqlite::NEXT_DEADLINE)
                .fetch_one(&mut db)
                .await
                .unwrap();
        assert_eq!((expiry, reminder), (Some(3_600_000_001), None));
    }
}
