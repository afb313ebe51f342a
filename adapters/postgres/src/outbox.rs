//! The outbox on PostgreSQL: the rows each save inserts, in the transaction of the change
//! they describe, and the [`Outbox`] port, the relay's side, which leases, finishes and counts
//! them.
//!
//! Every time comparison uses the caller's `now`, never the database's `now()`: the relay's
//! clock is a port, and a test moves it by hand.

use application::ports::{
    DeadLetter, DeadLetterSelection, NewOutboxMessage, Outbox, OutboxMessage, Receipt,
    RepositoryError, SinkStats,
};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sql_support::{OutboxRow, SaveStatements, dead_letter_filter, lease_end, sink_stats};
use sqlx::PgConnection;

use crate::PostgresStore;
use crate::errors::translate;
use crate::idempotency::store_receipt;

/// The connection of a save's open transaction, on which [`Save`](sql_support::Save) runs
/// its statements: the two every save shares here, each aggregate's row in its own module.
pub(crate) struct SaveTransaction<'c>(pub(crate) &'c mut PgConnection);

#[async_trait]
impl SaveStatements for SaveTransaction<'_> {
    async fn store_receipt(&mut self, receipt: &Receipt) -> Result<(), RepositoryError> {
        store_receipt(self.0, receipt).await
    }

    /// The identity column numbers the rows.
    async fn insert_outbox(&mut self, row: &NewOutboxMessage) -> Result<(), RepositoryError> {
        sqlx::query!(
            "INSERT INTO outbox (sink, aggregate_type, aggregate_id, event_type, payload,
                                     next_attempt_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            row.sink,
            row.aggregate_type,
            row.aggregate_id,
            row.event_type,
            row.payload,
            // The event's own time, not the database's: a relay driven by the same clock
            // finds the row due, which keeps tests with a manual clock deterministic.
            row.at,
        )
        .execute(&mut *self.0)
        .await
        .map_err(translate)?;
        Ok(())
    }
}

/// The statement that leases a batch for one sink: `$1` the sink, `$2` now, `$3` the batch
/// size, `$4` the lease's end. It is a constant rather than a `query!` literal so that the
/// plan test (tests/tests/claim_plan.rs) can `EXPLAIN` exactly what the store runs.
///
/// Why it is safe with several relays, each running it in its own READ COMMITTED
/// transaction:
///
/// * **No row is handed out twice.** `FOR UPDATE SKIP LOCKED` passes over rows another
///   claim is leasing right now. A row whose lease another claim *committed* after our
///   snapshot was taken is not locked any more, so we lock it — and PostgreSQL then
///   re-checks our `WHERE` against its newest version, sees the fresh `locked_until`, and
///   drops it.
/// * **An update never overtakes the post of its aggregate.** A row qualifies only when it
///   is the oldest unfinished row of its lane (its sink and aggregate). That subquery reads
///   the statement's snapshot and takes no locks, so an older row that another relay holds
///   still counts: its successor waits until it is delivered or dead — final states, which
///   once committed are seen by every later snapshot. The snapshot cannot miss an older row
///   either: writes to one aggregate are serialized by its version check (writing version
///   v + 1 needs committed version v), so its outbox ids grow in commit order.
///
/// Why its cost follows the batch, not the backlog, **whatever the planner's statistics
/// say**: statistics taken while nothing was pending (what autovacuum records on a quiet
/// system) make every `status = 'pending'` index look empty, and a `NOT EXISTS` check then
/// became a nested loop over every pending row for each candidate — quadratic in the
/// backlog (docs/performance.md). So the ordering check is a scalar subquery, which
/// PostgreSQL never turns into a join: it runs once per candidate. It filters on
/// `finished_at IS NULL` (the same rows as `status = 'pending'`, by the table's check
/// constraint), which only the lane index `outbox_unfinished_by_lane` (migration 0009)
/// answers, so each run is one index descent.
///
/// The CTE is `MATERIALIZED` so the locking subquery runs exactly once; as an
/// `IN (subquery)` the planner may re-run it inside a join and lease more than `$3`.
pub const OUTBOX_CLAIM: &str = "\
    WITH claimable AS MATERIALIZED (
        SELECT candidate.id
        FROM outbox AS candidate
        WHERE candidate.sink = $1
          AND candidate.status = 'pending'
          AND candidate.next_attempt_at <= $2
          AND (candidate.locked_until IS NULL OR candidate.locked_until <= $2)
          AND candidate.id = (
              SELECT min(older.id)
              FROM outbox AS older
              WHERE older.sink = candidate.sink
                AND older.aggregate_id = candidate.aggregate_id
                AND older.finished_at IS NULL)
        ORDER BY candidate.id
        LIMIT $3
        FOR UPDATE OF candidate SKIP LOCKED
    ),
    claimed AS (
        UPDATE outbox
        SET locked_until = $4
        FROM claimable
        WHERE outbox.id = claimable.id
        RETURNING outbox.id, outbox.sink, outbox.aggregate_type, outbox.aggregate_id,
                  outbox.event_type, outbox.payload, outbox.attempts, outbox.created_at,
                  outbox.trying_since
    )
    SELECT * FROM claimed ORDER BY id";

#[async_trait]
impl Outbox for PostgresStore {
    /// Runs [`OUTBOX_CLAIM`]; why it is safe with several relays is said there.
    #[tracing::instrument(
        name = "postgres.outbox.claim",
        skip(self, now, lease),
        level = "debug"
    )]
    async fn claim(
        &self,
        sink: &str,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutboxMessage>, RepositoryError> {
        let rows = sqlx::query_as::<_, OutboxRow>(OUTBOX_CLAIM)
            .bind(sink)
            .bind(now)
            .bind(i64::from(limit))
            .bind(lease_end(now, lease))
            .fetch_all(&self.pool)
            .await
            .map_err(translate)?;
        Ok(rows.into_iter().map(OutboxRow::into_message).collect())
    }

    #[tracing::instrument(name = "postgres.outbox.extend", skip_all, fields(count = ids.len()), level = "debug")]
    async fn extend(&self, ids: &[i64], until: DateTime<Utc>) -> Result<(), RepositoryError> {
        sqlx::query!(
            "UPDATE outbox SET locked_until = $2
             WHERE id = ANY($1) AND status = 'pending' AND locked_until IS NOT NULL",
            ids,
            until
        )
        .execute(&self.pool)
        .await
        .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(
        name = "postgres.outbox.mark_delivered",
        skip_all,
        fields(count = ids.len()),
        level = "debug"
    )]
    async fn mark_delivered(&self, ids: &[i64], now: DateTime<Utc>) -> Result<(), RepositoryError> {
        // `status = 'pending'` makes a repeated call (a relay whose lease ran out) a no-op.
        sqlx::query!(
            "UPDATE outbox
             SET status = 'delivered', locked_until = NULL, finished_at = $2
             WHERE id = ANY($1) AND status = 'pending'",
            ids,
            now
        )
        .execute(&self.pool)
        .await
        .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(
        name = "postgres.outbox.reschedule",
        skip(self, error),
        level = "debug"
    )]
    async fn reschedule(
        &self,
        id: i64,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), RepositoryError> {
        sqlx::query!(
            "UPDATE outbox
             SET attempts = attempts + 1, next_attempt_at = $2, locked_until = NULL,
                 last_error = $3
             WHERE id = $1 AND status = 'pending'",
            id,
            next_attempt_at,
            error
        )
        .execute(&self.pool)
        .await
        .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(name = "postgres.outbox.release", skip_all, fields(count = ids.len()), level = "debug")]
    async fn release(&self, ids: &[i64], not_before: DateTime<Utc>) -> Result<(), RepositoryError> {
        sqlx::query!(
            "UPDATE outbox
             SET locked_until = NULL, next_attempt_at = GREATEST(next_attempt_at, $2)
             WHERE id = ANY($1) AND status = 'pending'",
            ids,
            not_before
        )
        .execute(&self.pool)
        .await
        .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(
        name = "postgres.outbox.dead_letter",
        skip(self, now, error),
        level = "debug"
    )]
    async fn dead_letter(
        &self,
        id: i64,
        now: DateTime<Utc>,
        error: &str,
    ) -> Result<(), RepositoryError> {
        sqlx::query!(
            "UPDATE outbox
             SET status = 'dead', attempts = attempts + 1, locked_until = NULL,
                 last_error = $3, finished_at = $2
             WHERE id = $1 AND status = 'pending'",
            id,
            now,
            error
        )
        .execute(&self.pool)
        .await
        .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(name = "postgres.outbox.dead_letters", skip(self), level = "debug")]
    async fn dead_letters(
        &self,
        sink: Option<String>,
        limit: u32,
    ) -> Result<Vec<DeadLetter>, RepositoryError> {
        let rows = sqlx::query!(
            r#"SELECT id, sink, aggregate_type, aggregate_id, event_type, payload, attempts,
                      created_at, trying_since, COALESCE(last_error, '') AS "last_error!",
                      finished_at AS "finished_at!"
               FROM outbox
               WHERE status = 'dead' AND ($1::text IS NULL OR sink = $1)
               ORDER BY id DESC
               LIMIT $2"#,
            sink,
            i64::from(limit)
        )
        .fetch_all(&self.pool)
        .await
        .map_err(translate)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                OutboxRow {
                    id: row.id,
                    sink: row.sink,
                    aggregate_type: row.aggregate_type,
                    aggregate_id: row.aggregate_id,
                    event_type: row.event_type,
                    payload: row.payload,
                    attempts: row.attempts,
                    created_at: row.created_at,
                    trying_since: row.trying_since,
                }
                .into_dead_letter(row.last_error, row.finished_at)
            })
            .collect())
    }

    #[tracing::instrument(
        name = "postgres.outbox.retry_dead_letters",
        skip(self, now),
        level = "debug"
    )]
    async fn retry_dead_letters(
        &self,
        selection: DeadLetterSelection,
        now: DateTime<Utc>,
    ) -> Result<u64, RepositoryError> {
        let (ids, sink) = dead_letter_filter(selection);
        let result = sqlx::query!(
            "UPDATE outbox
             SET status = 'pending', attempts = 0, next_attempt_at = $1, trying_since = $1,
                 locked_until = NULL, finished_at = NULL
             WHERE status = 'dead'
               AND ($2::bigint[] IS NULL OR id = ANY($2))
               AND ($3::text IS NULL OR sink = $3)",
            now,
            ids.as_deref(),
            sink
        )
        .execute(&self.pool)
        .await
        .map_err(translate)?;
        Ok(result.rows_affected())
    }

    #[tracing::instrument(name = "postgres.outbox.stats", skip_all, level = "debug")]
    async fn stats(&self) -> Result<Vec<SinkStats>, RepositoryError> {
        // One grouped count per state, so each walks its own partial index and never the
        // delivered rows.
        let rows = sqlx::query!(
            r#"SELECT sink AS "sink!", sum(pending)::bigint AS "pending!",
                      sum(dead)::bigint AS "dead!"
               FROM (SELECT sink, count(*) AS pending, 0 AS dead
                     FROM outbox WHERE status = 'pending' GROUP BY sink
                     UNION ALL
                     SELECT sink, 0, count(*) FROM outbox WHERE status = 'dead' GROUP BY sink)
                    AS counts
               GROUP BY sink
               ORDER BY sink"#
        )
        .fetch_all(&self.pool)
        .await
        .map_err(translate)?;
        rows.into_iter()
            .map(|row| sink_stats(row.sink, row.pending, row.dead))
            .collect()
    }

    #[tracing::instrument(name = "postgres.outbox.purge_delivered", skip_all, level = "debug")]
    async fn purge_delivered(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        // An identity column never hands a deleted row's id out again.
        let result = sqlx::query!(
            "DELETE FROM outbox WHERE id IN (
                 SELECT id FROM outbox
                 WHERE status = 'delivered' AND finished_at < $1
                 ORDER BY finished_at
                 LIMIT $2)",
            before,
            i64::from(limit),
        )
        .execute(&self.pool)
        .await
        .map_err(translate)?;
        Ok(result.rows_affected())
    }
}
