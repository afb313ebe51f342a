//! `ApprovalRepository` on PostgreSQL — and the transaction boundary of the whole service:
//! `save` writes the aggregate and its outbox rows in one transaction.

use application::ports::{ApprovalRepository, ListQuery, Receipt, RepositoryError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{ApprovalEvent, ApprovalId, ApprovalRequest};
use sql_support::{AggregateRow, ApprovalRow, RowStatements, Save, keyset_page};

use crate::PostgresStore;
use crate::changes;
use crate::errors::translate;
use crate::outbox::SaveTransaction;
use crate::store::begin;

#[async_trait]
impl ApprovalRepository for PostgresStore {
    #[tracing::instrument(name = "postgres.approvals.get", skip_all, fields(approval_id = %id), level = "debug")]
    async fn get(&self, id: ApprovalId) -> Result<Option<ApprovalRequest>, RepositoryError> {
        sqlx::query_as!(
            ApprovalRow,
            "SELECT id, title, description, requester, destination, metadata, callback_url,
                    required_approvals, allowed_approvers, allow_self_approval, status,
                    decisions, created_at, expires_at, resolved_at, version,
                    remind_after_seconds, reminded_at, expiry_warned, next_reminder_at
             FROM approvals
             WHERE id = $1",
            id.as_uuid()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(translate)?
        .map(ApprovalRow::into_approval)
        .transpose()
    }

    #[tracing::instrument(
        name = "postgres.approvals.save",
        skip_all,
        fields(approval_id = %approval.id(), version = approval.version(), events = events.len()),
        level = "debug"
    )]
    async fn save(
        &self,
        approval: &ApprovalRequest,
        events: &[ApprovalEvent],
        receipt: Option<Receipt>,
    ) -> Result<(), RepositoryError> {
        // Everything that can fail without the database fails before the transaction opens.
        let save = Save::new(ApprovalRow::from_approval(approval)?, events, &self.routes)?;
        let id = save.id();
        // The transaction boundary (`Save::write` says what it holds), and the news of the
        // change, sent when it commits.
        let mut tx = begin(&self.pool).await?;
        save.write(&mut SaveTransaction(&mut tx), receipt.as_ref())
            .await?;
        // Not for a creation: nobody can be waiting on a request before it exists, and each
        // NOTIFY costs a statement and a commit behind PostgreSQL's notification-queue lock.
        if approval.version() > 1 {
            changes::notify(&mut *tx, ApprovalRow::AGGREGATE_TYPE, id).await?;
        }
        tx.commit().await.map_err(translate)
    }

    #[tracing::instrument(name = "postgres.approvals.list", skip_all, level = "debug")]
    async fn list(&self, query: &ListQuery) -> Result<Vec<ApprovalRequest>, RepositoryError> {
        let (before, limit) = keyset_page(query);
        let rows = match query.status {
            Some(status) => {
                sqlx::query_as!(
                    ApprovalRow,
                    "SELECT id, title, description, requester, destination, metadata,
                            callback_url, required_approvals, allowed_approvers,
                            allow_self_approval, status, decisions, created_at, expires_at,
                            resolved_at, version, remind_after_seconds, reminded_at,
                            expiry_warned, next_reminder_at
                     FROM approvals
                     WHERE status = $1 AND id < $2
                     ORDER BY id DESC
                     LIMIT $3",
                    status.as_str(),
                    before,
                    limit
                )
                .fetch_all(&self.pool)
                .await
            }
            None => {
                sqlx::query_as!(
                    ApprovalRow,
                    "SELECT id, title, description, requester, destination, metadata,
                            callback_url, required_approvals, allowed_approvers,
                            allow_self_approval, status, decisions, created_at, expires_at,
                            resolved_at, version, remind_after_seconds, reminded_at,
                            expiry_warned, next_reminder_at
                     FROM approvals
                     WHERE id < $1
                     ORDER BY id DESC
                     LIMIT $2",
                    before,
                    limit
                )
                .fetch_all(&self.pool)
                .await
            }
        }
        .map_err(translate)?;
        rows.into_iter().map(ApprovalRow::into_approval).collect()
    }

    #[tracing::instrument(name = "postgres.approvals.overdue", skip_all, level = "debug")]
    async fn overdue(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ApprovalId>, RepositoryError> {
        // `status = 'pending'` is spelled out, not bound: only a literal lets the planner use
        // the partial index `approvals_pending_by_expiry`.
        let ids = sqlx::query_scalar!(
            "SELECT id
             FROM approvals
             WHERE status = 'pending' AND expires_at <= $1
             ORDER BY expires_at, id
             LIMIT $2",
            now,
            i64::from(limit)
        )
        .fetch_all(&self.pool)
        .await
        .map_err(translate)?;
        Ok(ids.into_iter().map(ApprovalId::from_uuid).collect())
    }

    #[tracing::instrument(name = "postgres.approvals.reminders_due", skip_all, level = "debug")]
    async fn reminders_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ApprovalId>, RepositoryError> {
        // Spelled out like `overdue`'s, so the partial index `approvals_pending_by_reminder`
        // applies.
        let ids = sqlx::query_scalar!(
            "SELECT id
             FROM approvals
             WHERE status = 'pending' AND next_reminder_at IS NOT NULL
                   AND next_reminder_at <= $1
             ORDER BY next_reminder_at, id
             LIMIT $2",
            now,
            i64::from(limit)
        )
        .fetch_all(&self.pool)
        .await
        .map_err(translate)?;
        Ok(ids.into_iter().map(ApprovalId::from_uuid).collect())
    }

    #[tracing::instrument(name = "postgres.approvals.next_deadline", skip_all, level = "debug")]
    async fn next_deadline(&self) -> Result<Option<DateTime<Utc>>, RepositoryError> {
        // Each `MIN` reads the first entry of its partial index; `LEAST` skips a NULL.
        sqlx::query_scalar!(
            r#"SELECT LEAST(
                   (SELECT MIN(expires_at) FROM approvals WHERE status = 'pending'),
                   (SELECT MIN(next_reminder_at) FROM approvals
                    WHERE status = 'pending' AND next_reminder_at IS NOT NULL)
               ) AS "deadline""#
        )
        .fetch_one(&self.pool)
        .await
        .map_err(translate)
    }
}

/// The approval's own statements of a save: a unique violation on the primary key becomes
/// `Duplicate` in `translate`.
#[async_trait]
impl RowStatements<ApprovalRow> for SaveTransaction<'_> {
    async fn insert(&mut self, row: &ApprovalRow) -> Result<(), RepositoryError> {
        sqlx::query!(
            "INSERT INTO approvals (
                     id, title, description, requester, destination, metadata, callback_url,
                     required_approvals, allowed_approvers, allow_self_approval, status,
                     decisions, created_at, expires_at, resolved_at, version,
                     remind_after_seconds, reminded_at, expiry_warned, next_reminder_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                         $17, $18, $19, $20)",
            row.id,
            row.title,
            row.description,
            row.requester,
            row.destination,
            row.metadata,
            row.callback_url,
            row.required_approvals,
            &row.allowed_approvers,
            row.allow_self_approval,
            row.status,
            row.decisions,
            row.created_at,
            row.expires_at,
            row.resolved_at,
            row.version,
            row.remind_after_seconds,
            row.reminded_at,
            row.expiry_warned,
            row.next_reminder_at,
        )
        .execute(&mut *self.0)
        .await
        .map_err(translate)?;
        Ok(())
    }

    /// In one statement: a concurrent writer of the same row waits for our row lock, then
    /// re-checks `version` against our committed value and updates nothing, so exactly one
    /// of two racing saves wins.
    async fn update(&mut self, row: &ApprovalRow) -> Result<u64, RepositoryError> {
        sqlx::query!(
            "UPDATE approvals
                 SET title = $2, description = $3, requester = $4, destination = $5,
                     metadata = $6, callback_url = $7, required_approvals = $8,
                     allowed_approvers = $9, allow_self_approval = $10, status = $11,
                     decisions = $12, created_at = $13, expires_at = $14, resolved_at = $15,
                     version = $16, remind_after_seconds = $18, reminded_at = $19,
                     expiry_warned = $20, next_reminder_at = $21
                 WHERE id = $1 AND version = $17",
            row.id,
            row.title,
            row.description,
            row.requester,
            row.destination,
            row.metadata,
            row.callback_url,
            row.required_approvals,
            &row.allowed_approvers,
            row.allow_self_approval,
            row.status,
            row.decisions,
            row.created_at,
            row.expires_at,
            row.resolved_at,
            row.version,
            row.version - 1,
            row.remind_after_seconds,
            row.reminded_at,
            row.expiry_warned,
            row.next_reminder_at,
        )
        .execute(&mut *self.0)
        .await
        .map(|done| done.rows_affected())
        .map_err(translate)
    }
}
