//! `AlertRepository` on PostgreSQL: the same transaction boundary as approvals, plus the
//! dedup invariant, which the unique index `alerts_unresolved_dedup_key` enforces
//! (migrations/0006_alerts.sql).

use application::ports::{AlertRepository, Receipt, RepositoryError};
use async_trait::async_trait;
use domain::{Alert, AlertEvent, AlertId, DedupKey};
use sql_support::{AlertRow, RowStatements, Save};

use crate::PostgresStore;
use crate::errors::translate;
use crate::outbox::SaveTransaction;
use crate::store::begin;

#[async_trait]
impl AlertRepository for PostgresStore {
    #[tracing::instrument(name = "postgres.alerts.get", skip_all, fields(alert_id = %id), level = "debug")]
    async fn get(&self, id: AlertId) -> Result<Option<Alert>, RepositoryError> {
        sqlx::query_as!(
            AlertRow,
            "SELECT id, severity, summary, details, destination, dedup_key, raised_by, status,
                    count, created_at, last_raised_at, acknowledged_by, acknowledged_at,
                    resolved_by, resolved_at, version
             FROM alerts
             WHERE id = $1",
            id.as_uuid()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(translate)?
        .map(AlertRow::into_alert)
        .transpose()
    }

    #[tracing::instrument(
        name = "postgres.alerts.find_unresolved",
        skip_all,
        fields(dedup_key = %key),
        level = "debug"
    )]
    async fn find_unresolved(&self, key: &DedupKey) -> Result<Option<Alert>, RepositoryError> {
        // `status <> 'resolved'` is spelled out, not bound: only a literal lets the planner use
        // the partial index `alerts_unresolved_dedup_key`. That index also guarantees at most
        // one row.
        sqlx::query_as!(
            AlertRow,
            "SELECT id, severity, summary, details, destination, dedup_key, raised_by, status,
                    count, created_at, last_raised_at, acknowledged_by, acknowledged_at,
                    resolved_by, resolved_at, version
             FROM alerts
             WHERE dedup_key = $1 AND status <> 'resolved'",
            key.as_str()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(translate)?
        .map(AlertRow::into_alert)
        .transpose()
    }

    #[tracing::instrument(
        name = "postgres.alerts.save",
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
        let mut tx = begin(&self.pool).await?;
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
    /// already has an unresolved alert). When another transaction is inserting the same key
    /// right now, this statement waits for it to end, then fails if it committed and
    /// succeeds if it rolled back.
    async fn insert(&mut self, row: &AlertRow) -> Result<(), RepositoryError> {
        sqlx::query!(
            "INSERT INTO alerts (
                     id, severity, summary, details, destination, dedup_key, raised_by, status,
                     count, created_at, last_raised_at, acknowledged_by, acknowledged_at,
                     resolved_by, resolved_at, version)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            row.id,
            row.severity,
            row.summary,
            row.details,
            row.destination,
            row.dedup_key,
            row.raised_by,
            row.status,
            row.count,
            row.created_at,
            row.last_raised_at,
            row.acknowledged_by,
            row.acknowledged_at,
            row.resolved_by,
            row.resolved_at,
            row.version,
        )
        .execute(&mut *self.0)
        .await
        .map_err(translate)?;
        Ok(())
    }

    /// In one statement, as for approvals: a concurrent writer of the same row waits for our
    /// row lock, then finds the version moved on and updates nothing.
    async fn update(&mut self, row: &AlertRow) -> Result<u64, RepositoryError> {
        sqlx::query!(
            "UPDATE alerts
                 SET severity = $2, summary = $3, details = $4, destination = $5,
                     dedup_key = $6, raised_by = $7, status = $8, count = $9, created_at = $10,
                     last_raised_at = $11, acknowledged_by = $12, acknowledged_at = $13,
                     resolved_by = $14, resolved_at = $15, version = $16
                 WHERE id = $1 AND version = $17",
            row.id,
            row.severity,
            row.summary,
            row.details,
            row.destination,
            row.dedup_key,
            row.raised_by,
            row.status,
            row.count,
            row.created_at,
            row.last_raised_at,
            row.acknowledged_by,
            row.acknowledged_at,
            row.resolved_by,
            row.resolved_at,
            row.version,
            row.version - 1,
        )
        .execute(&mut *self.0)
        .await
        .map(|done| done.rows_affected())
        .map_err(translate)
    }
}
