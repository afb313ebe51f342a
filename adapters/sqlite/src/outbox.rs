//! The outbox on SQLite: the rows each save inserts, in the transaction of the change they
//! describe, and the [`Outbox`] port, the relay's side, which leases, finishes and counts them.
//!
//! Every time comparison uses the caller's `now`, never the database's clock: the relay's
//! clock is a port, and a test moves it by hand.

use application::ports::{
    DeadLetter, DeadLetterSelection, NewOutboxMessage, Outbox, OutboxMessage, Receipt,
    RepositoryError, SinkStats,
};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sql_support::{OutboxRow, SaveStatements, dead_letter_filter, lease_end, sink_stats};
use sqlx::SqliteConnection;
use uuid::Uuid;

use crate::SqliteStore;
use crate::errors::{corrupt, translate};
use crate::idempotency::store_receipt;
use crate::time::{from_micros, to_micros};

/// The connection of a save's write transaction, on which [`Save`](sql_support::Save) runs
/// its statements: the two every save shares here, each aggregate's row in its own module.
pub(crate) struct SaveTransaction<'c>(pub(crate) &'c mut SqliteConnection);

#[async_trait]
impl SaveStatements for SaveTransaction<'_> {
    async fn store_receipt(&mut self, receipt: &Receipt) -> Result<(), RepositoryError> {
        store_receipt(self.0, receipt).await
    }

    /// `AUTOINCREMENT` numbers the rows.
    async fn insert_outbox(&mut self, row: &NewOutboxMessage) -> Result<(), RepositoryError> {
        sqlx::query(
            "INSERT INTO outbox (sink, aggregate_type, aggregate_id, event_type, payload,
                                 next_attempt_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        )
        .bind(row.sink)
        .bind(row.aggregate_type)
        .bind(row.aggregate_id)
        .bind(row.event_type)
        .bind(row.payload.to_string())
        // The event's own time, not the database's: a relay driven by the same clock finds
        // the row due, which keeps tests with a manual clock deterministic.
        .bind(to_micros(row.at))
        .execute(&mut *self.0)
        .await
        .map_err(translate)?;
        Ok(())
    }
}

/// The columns of an outbox row the relay sees, in the types SQLite stores them as: times
/// as integer microseconds, the payload as JSON text.
#[derive(sqlx::FromRow)]
struct SqliteOutboxRow {
    id: i64,
    sink: String,
    aggregate_type: String,
    aggregate_id: Uuid,
    event_type: String,
    payload: String,
    attempts: i32,
    created_at: i64,
    trying_since: Option<i64>,
}

impl SqliteOutboxRow {
    fn into_row(self) -> Result<OutboxRow, RepositoryError> {
        Ok(OutboxRow {
            id: self.id,
            payload: serde_json::from_str(&self.payload)
                .map_err(|e| corrupt(&format!("outbox message {}: payload", self.id), e))?,
            sink: self.sink,
            aggregate_type: self.aggregate_type,
            aggregate_id: self.aggregate_id,
            event_type: self.event_type,
            attempts: self.attempts,
            created_at: from_micros(self.created_at)?,
            trying_since: self.trying_since.map(from_micros).transpose()?,
        })
    }
}

/// The statement that leases a batch for one sink: `?1` the sink, `?2` now, `?3` the batch
/// size, `?4` the lease's end, times in microseconds. Public so that the plan test
/// (tests/tests/claim_plan.rs) can `EXPLAIN QUERY PLAN` exactly what the store runs.
///
/// One `UPDATE … WHERE id IN (SELECT …) RETURNING` statement. A write statement takes
/// SQLite's single write lock before it reads, so no other claim can run between choosing
/// the rows and leasing them (PostgreSQL needs `FOR UPDATE SKIP LOCKED` for that). A row
/// qualifies only when it is the oldest unfinished row of its lane (its sink and aggregate),
/// so an update never overtakes the post of its aggregate, and another sink's rows never
/// hold it back.
///
/// The ordering check filters on `finished_at IS NULL` (the same rows as
/// `status = 'pending'`, by the table's check constraint) so that only the lane index
/// `outbox_unfinished_by_lane` (migration 0009) can answer it: one index search per
/// candidate whatever `ANALYZE` last recorded, never a scan of the backlog per candidate.
pub const OUTBOX_CLAIM: &str = "\
    UPDATE outbox
    SET locked_until = ?4
    WHERE id IN (
        SELECT candidate.id
        FROM outbox AS candidate
        WHERE candidate.sink = ?1
          AND candidate.status = 'pending'
          AND candidate.next_attempt_at <= ?2
          AND (candidate.locked_until IS NULL OR candidate.locked_until <= ?2)
          AND candidate.id = (
              SELECT min(older.id)
              FROM outbox AS older
              WHERE older.sink = candidate.sink
                AND older.aggregate_id = candidate.aggregate_id
                AND older.finished_at IS NULL)
        ORDER BY candidate.id
        LIMIT ?3)
    RETURNING id, sink, aggregate_type, aggregate_id, event_type, payload, attempts,
              created_at, trying_since";

#[async_trait]
impl Outbox for SqliteStore {
    /// Runs [`OUTBOX_CLAIM`]; why it is safe and why its plan holds is said there.
    #[tracing::instrument(name = "sqlite.outbox.claim", skip(self, now, lease), level = "debug")]
    async fn claim(
        &self,
        sink: &str,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutboxMessage>, RepositoryError> {
        let rows = sqlx::query_as::<_, SqliteOutboxRow>(OUTBOX_CLAIM)
            .bind(sink)
            .bind(to_micros(now))
            .bind(i64::from(limit))
            .bind(to_micros(lease_end(now, lease)))
            .fetch_all(self.writer())
            .await
            .map_err(translate)?;
        // RETURNING yields rows in no particular order; the port promises oldest first.
        let mut messages = rows
            .into_iter()
            .map(|row| row.into_row().map(OutboxRow::into_message))
            .collect::<Result<Vec<_>, _>>()?;
        messages.sort_by_key(|m| m.id);
        Ok(messages)
    }

    #[tracing::instrument(name = "sqlite.outbox.extend", skip_all, fields(count = ids.len()), level = "debug")]
    async fn extend(&self, ids: &[i64], until: DateTime<Utc>) -> Result<(), RepositoryError> {
        sqlx::query(
            "UPDATE outbox SET locked_until = ?2
             WHERE id IN (SELECT value FROM json_each(?1))
               AND status = 'pending' AND locked_until IS NOT NULL",
        )
        .bind(id_list(ids)?)
        .bind(to_micros(until))
        .execute(self.writer())
        .await
        .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(
        name = "sqlite.outbox.mark_delivered",
        skip_all,
        fields(count = ids.len()),
        level = "debug"
    )]
    async fn mark_delivered(&self, ids: &[i64], now: DateTime<Utc>) -> Result<(), RepositoryError> {
        // `status = 'pending'` makes a repeated call (a relay whose lease ran out) a no-op.
        sqlx::query(
            "UPDATE outbox
             SET status = 'delivered', locked_until = NULL, finished_at = ?2
             WHERE id IN (SELECT value FROM json_each(?1)) AND status = 'pending'",
        )
        .bind(id_list(ids)?)
        .bind(to_micros(now))
        .execute(self.writer())
        .await
        .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(name = "sqlite.outbox.reschedule", skip(self, error), level = "debug")]
    async fn reschedule(
        &self,
        id: i64,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), RepositoryError> {
        sqlx::query(
            "UPDATE outbox
             SET attempts = attempts + 1, next_attempt_at = ?2, locked_until = NULL,
                 last_error = ?3
             WHERE id = ?1 AND status = 'pending'",
        )
        .bind(id)
        .bind(to_micros(next_attempt_at))
        .bind(error)
        .execute(self.writer())
        .await
        .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(name = "sqlite.outbox.release", skip_all, fields(count = ids.len()), level = "debug")]
    async fn release(&self, ids: &[i64], not_before: DateTime<Utc>) -> Result<(), RepositoryError> {
        sqlx::query(
            "UPDATE outbox
             SET locked_until = NULL, next_attempt_at = max(next_attempt_at, ?2)
             WHERE id IN (SELECT value FROM json_each(?1)) AND status = 'pending'",
        )
        .bind(id_list(ids)?)
        .bind(to_micros(not_before))
        .execute(self.writer())
        .await
        .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(
        name = "sqlite.outbox.dead_letter",
        skip(self, now, error),
        level = "debug"
    )]
    async fn dead_letter(
        &self,
        id: i64,
        now: DateTime<Utc>,
        error: &str,
    ) -> Result<(), RepositoryError> {
        sqlx::query(
            "UPDATE outbox
             SET status = 'dead', attempts = attempts + 1, locked_until = NULL,
                 last_error = ?3, finished_at = ?2
             WHERE id = ?1 AND status = 'pending'",
        )
        .bind(id)
        .bind(to_micros(now))
        .bind(error)
        .execute(self.writer())
        .await
        .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(name = "sqlite.outbox.dead_letters", skip(self), level = "debug")]
    async fn dead_letters(
        &self,
        sink: Option<String>,
        limit: u32,
    ) -> Result<Vec<DeadLetter>, RepositoryError> {
        #[derive(sqlx::FromRow)]
        struct DeadRow {
            #[sqlx(flatten)]
            message: SqliteOutboxRow,
            last_error: Option<String>,
            finished_at: i64,
        }
        let rows = sqlx::query_as::<_, DeadRow>(
            "SELECT id, sink, aggregate_type, aggregate_id, event_type, payload, attempts,
                    created_at, trying_since, last_error, finished_at
             FROM outbox
             WHERE status = 'dead' AND (?1 IS NULL OR sink = ?1)
             ORDER BY id DESC
             LIMIT ?2",
        )
        .bind(sink)
        .bind(i64::from(limit))
        .fetch_all(self.readers())
        .await
        .map_err(translate)?;
        rows.into_iter()
            .map(|row| {
                Ok(row.message.into_row()?.into_dead_letter(
                    row.last_error.unwrap_or_default(),
                    from_micros(row.finished_at)?,
                ))
            })
            .collect()
    }

    #[tracing::instrument(
        name = "sqlite.outbox.retry_dead_letters",
        skip(self, now),
        level = "debug"
    )]
    async fn retry_dead_letters(
        &self,
        selection: DeadLetterSelection,
        now: DateTime<Utc>,
    ) -> Result<u64, RepositoryError> {
        let (ids, sink) = dead_letter_filter(selection);
        let ids = ids.map(|ids| id_list(&ids)).transpose()?;
        let result = sqlx::query(
            "UPDATE outbox
             SET status = 'pending', attempts = 0, next_attempt_at = ?1, trying_since = ?1,
                 locked_until = NULL, finished_at = NULL
             WHERE status = 'dead'
               AND (?2 IS NULL OR id IN (SELECT value FROM json_each(?2)))
               AND (?3 IS NULL OR sink = ?3)",
        )
        .bind(to_micros(now))
        .bind(ids)
        .bind(sink)
        .execute(self.writer())
        .await
        .map_err(translate)?;
        Ok(result.rows_affected())
    }

    #[tracing::instrument(name = "sqlite.outbox.stats", skip_all, level = "debug")]
    async fn stats(&self) -> Result<Vec<SinkStats>, RepositoryError> {
        // One grouped count per state, so each walks its own partial index and never the
        // delivered rows.
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT sink, sum(pending), sum(dead) FROM (
                 SELECT sink, count(*) AS pending, 0 AS dead
                 FROM outbox WHERE status = 'pending' GROUP BY sink
                 UNION ALL
                 SELECT sink, 0, count(*) FROM outbox WHERE status = 'dead' GROUP BY sink)
             GROUP BY sink
             ORDER BY sink",
        )
        .fetch_all(self.readers())
        .await
        .map_err(translate)?;
        rows.into_iter()
            .map(|(sink, pending, dead)| sink_stats(sink, pending, dead))
            .collect()
    }

    #[tracing::instrument(name = "sqlite.outbox.purge_delivered", skip_all, level = "debug")]
    async fn purge_delivered(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        // The ids are AUTOINCREMENT: SQLite never hands a deleted row's id out again.
        let result = sqlx::query(
            "DELETE FROM outbox WHERE id IN (
                 SELECT id FROM outbox
                 WHERE status = 'delivered' AND finished_at < ?1
                 ORDER BY finished_at
                 LIMIT ?2)",
        )
        .bind(to_micros(before))
        .bind(i64::from(limit))
        .execute(self.writer())
        .await
        .map_err(translate)?;
        Ok(result.rows_affected())
    }
}

/// SQLite has no array parameters; a list of ids goes in as one JSON array.
fn id_list(ids: &[i64]) -> Result<String, RepositoryError> {
    serde_json::to_string(ids).map_err(|e| corrupt("serializing ids", e))
}
