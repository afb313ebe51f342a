//! `AlertRepository` on SQLite: the same transaction boundary as approvals, plus the dedup
//! invariant, which the unique index `alerts_unresolved_dedup_key` enforces
//! (migrations/0006_alerts.sql).

mod row;

use application::ports::{AlertRepository, Receipt, RepositoryError};
use async_trait::async_trait;
use domain::{Alert, AlertEvent, AlertId, DedupKey};
use sql_support::{AlertRow, RowStatements, Save};
use sqlx::Sqlite;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;

use self::row::SqliteAlertRow;
use crate::SqliteStore;
use crate::errors::translate;
use crate::outbox::SaveTransaction;
use crate::time::to_micros;

/// `SELECT <every column of SqliteAlertRow> FROM alerts <rest>`, as one static string.
macro_rules! select_alerts {
    ($rest:literal) => {
        concat!(
            "SELECT id, severity, summary, details, destination, dedup_key, raised_by, status,
                    count, created_at, last_raised_at, acknowledged_by, acknowledged_at,
                    resolved_by, resolved_at, version
             FROM alerts ",
            $rest
        )
    };
}

#[async_trait]
impl AlertRepository for SqliteStore {
    #[tracing::instrument(name = "sqlite.alerts.get", skip_all, fields(alert_id = %id), level = "debug")]
    async fn get(&self, id: AlertId) -> Result<Option<Alert>, RepositoryError> {
        sqlx::query_as::<_, SqliteAlertRow>(select_alerts!("WHERE id = ?"))
            .bind(id.as_uuid())
            .fetch_optional(self.readers())
            .await
            .map_err(translate)?
            .map(SqliteAlertRow::into_alert)
            .transpose()
    }

    #[tracing::instrument(
        name = "sqlite.alerts.find_unresolved",
        skip_all,
        fields(dedup_key = %key),
        level = "debug"
    )]
    async fn find_unresolved(&self, key: &DedupKey) -> Result<Option<Alert>, RepositoryError> {
        // `status <> 'resolved'` is spelled out, not bound: SQLite uses a partial index only
        // when the query's WHERE contains the index's condition literally. That index,
        // `alerts_unresolved_dedup_key`, also guarantees at most one row.
        sqlx::query_as::<_, SqliteAlertRow>(select_alerts!(
            "WHERE dedup_key = ? AND status <> 'resolved'"
        ))
        .bind(key.as_str())
        .fetch_optional(self.readers())
        .await
        .map_err(translate)?
        .map(SqliteAlertRow::into_alert)
        .transpose()
    }

    #[tracing::instrument(
        name = "sqlite.alerts.save",
        skip_all,
        fields(alert_id = %alert.id(), version = alert.version(), events = events.len()),
        level = "debug"
    )]
    async fn save(
        &self,
        alert: &Alert,
        events: &[AlertEvent],
        receipt: Option<Receipt>,
    ) -> Result<(), RepositoryError> {
        // Everything that can fail without the database fails before the transaction opens.
        let save = Save::new(AlertRow::from_alert(alert), events, &self.routes)?;
        // The transaction boundary: `Save::write` says what it holds.
        let mut tx = self.begin_write().await?;
        save.write(&mut SaveTransaction(&mut tx), receipt.as_ref())
            .await?;
        tx.commit().await.map_err(translate)
    }
}

/// The alert's own statements of a save.
#[async_trait]
impl RowStatements<AlertRow> for SaveTransaction<'_> {
    /// Two unique indexes can refuse this row, and `translate` turns either violation into
    /// `Duplicate`: the primary key (the id exists) and `alerts_unresolved_dedup_key` (the key
    /// already has an unresolved alert). We hold the write lock, so no other insert of the
    /// same key can be in flight.
    async fn insert(&mut self, row: &AlertRow) -> Result<(), RepositoryError> {
        let insert = sqlx::query(
            "INSERT INTO alerts (
                 id, severity, summary, details, destination, dedup_key, raised_by, status,
                 count, created_at, last_raised_at, acknowledged_by, acknowledged_at,
                 resolved_by, resolved_at, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        );
        bind_columns(insert, row)
            .execute(&mut *self.0)
            .await
            .map_err(translate)?;
        Ok(())
    }

    /// We hold the write lock, so nobody can change the row between this check and the
    /// commit.
    async fn update(&mut self, row: &AlertRow) -> Result<u64, RepositoryError> {
        let update = sqlx::query(
            "UPDATE alerts
             SET severity = ?2, summary = ?3, details = ?4, destination = ?5,
                 dedup_key = ?6, raised_by = ?7, status = ?8, count = ?9, created_at = ?10,
                 last_raised_at = ?11, acknowledged_by = ?12, acknowledged_at = ?13,
                 resolved_by = ?14, resolved_at = ?15, version = ?16
             WHERE id = ?1 AND version = ?17",
        );
        bind_columns(update, row)
            .bind(row.version - 1)
            .execute(&mut *self.0)
            .await
            .map(|done| done.rows_affected())
            .map_err(translate)
    }
}

/// Binds the columns of `row` to `?1` … `?16`, in the order of `select_alerts!`: the INSERT
/// and the UPDATE of `save` both number their parameters this way.
fn bind_columns<'q>(
    query: Query<'q, Sqlite, SqliteArguments>,
    row: &AlertRow,
) -> Query<'q, Sqlite, SqliteArguments> {
    query
        .bind(row.id)
        .bind(&row.severity)
        .bind(&row.summary)
        .bind(&row.details)
        .bind(&row.destination)
        .bind(&row.dedup_key)
        .bind(&row.raised_by)
        .bind(&row.status)
        .bind(row.count)
        .bind(to_micros(row.created_at))
        .bind(to_micros(row.last_raised_at))
        .bind(&row.acknowledged_by)
        .bind(row.acknowledged_at.map(to_micros))
        .bind(&row.resolved_by)
        .bind(row.resolved_at.map(to_micros))
        .bind(row.version)
}
