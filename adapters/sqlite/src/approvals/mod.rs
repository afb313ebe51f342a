//! `ApprovalRepository` on SQLite — and the transaction boundary of the whole service:
//! `save` writes the aggregate and its outbox rows in one transaction.

mod row;

use application::ports::{ApprovalRepository, ListQuery, Receipt, RepositoryError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{ApprovalEvent, ApprovalId, ApprovalRequest};
use sql_support::{AggregateRow, ApprovalRow, RowStatements, Save, keyset_page};
use sqlx::Sqlite;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::types::Json;
use uuid::Uuid;

use self::row::SqliteApprovalRow;
use crate::SqliteStore;
use crate::errors::translate;
use crate::outbox::SaveTransaction;
use crate::time::{from_optional_micros, to_micros};

/// `SELECT <every column of SqliteApprovalRow> FROM approvals <rest>`, as one static string.
macro_rules! select_approvals {
    ($rest:literal) => {
        concat!(
            "SELECT id, title, description, requester, destination, metadata, callback_url,
                    required_approvals, allowed_approvers, allow_self_approval, status,
                    decisions, created_at, expires_at, resolved_at, version,
                    remind_after_seconds, reminded_at, expiry_warned, next_reminder_at
             FROM approvals ",
            $rest
        )
    };
}

/// The earliest expiry and the earliest reminder of a pending request: two index lookups,
/// each `MIN` reading the first entry of its partial index. `INDEXED BY` holds SQLite to
/// them: left to itself, without statistics, it reads every pending request through
/// `approvals_by_status` instead (42 ms at 50,000 pending, against 3 µs), and the sweeper
/// asks this whenever a save may have brought a deadline closer. `tests/tests/deadline_plan.rs`
/// checks the plan.
pub const NEXT_DEADLINE: &str = "\
SELECT (SELECT MIN(expires_at) FROM approvals INDEXED BY approvals_pending_by_expiry
        WHERE status = 'pending'),
       (SELECT MIN(next_reminder_at) FROM approvals INDEXED BY approvals_pending_by_reminder
        WHERE status = 'pending' AND next_reminder_at IS NOT NULL)";

#[async_trait]
impl ApprovalRepository for SqliteStore {
    #[tracing::instrument(name = "sqlite.approvals.get", skip_all, fields(approval_id = %id), level = "debug")]
    async fn get(&self, id: ApprovalId) -> Result<Option<ApprovalRequest>, RepositoryError> {
        sqlx::query_as::<_, SqliteApprovalRow>(select_approvals!("WHERE id = ?"))
            .bind(id.as_uuid())
            .fetch_optional(self.readers())
            .await
            .map_err(translate)?
            .map(SqliteApprovalRow::into_approval)
            .transpose()
    }

    #[tracing::instrument(
        name = "sqlite.approvals.save",
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
        // The transaction boundary: `Save::write` says what it holds.
        let mut tx = self.begin_write().await?;
        save.write(&mut SaveTransaction(&mut tx), receipt.as_ref())
            .await?;
        tx.commit().await.map_err(translate)?;
        // After the commit, so a woken reader sees the change; not for a creation, which
        // nobody can be waiting on.
        if approval.version() > 1 {
            self.changes.announce(ApprovalRow::AGGREGATE_TYPE, id);
        }
        Ok(())
    }

    #[tracing::instrument(name = "sqlite.approvals.list", skip_all, level = "debug")]
    async fn list(&self, query: &ListQuery) -> Result<Vec<ApprovalRequest>, RepositoryError> {
        let (before, limit) = keyset_page(query);
        let rows = match query.status {
            Some(status) => {
                sqlx::query_as::<_, SqliteApprovalRow>(select_approvals!(
                    "WHERE status = ? AND id < ? ORDER BY id DESC LIMIT ?"
                ))
                .bind(status.as_str())
                .bind(before)
                .bind(limit)
                .fetch_all(self.readers())
                .await
            }
            None => {
                sqlx::query_as::<_, SqliteApprovalRow>(select_approvals!(
                    "WHERE id < ? ORDER BY id DESC LIMIT ?"
                ))
                .bind(before)
                .bind(limit)
                .fetch_all(self.readers())
                .await
            }
        }
        .map_err(translate)?;
        rows.into_iter()
            .map(SqliteApprovalRow::into_approval)
            .collect()
    }

    #[tracing::instrument(name = "sqlite.approvals.overdue", skip_all, level = "debug")]
    async fn overdue(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ApprovalId>, RepositoryError> {
        // `status = 'pending'` is spelled out, not bound: only a literal lets the planner use
        // the partial index `approvals_pending_by_expiry`.
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id
             FROM approvals
             WHERE status = 'pending' AND expires_at <= ?
             ORDER BY expires_at, id
             LIMIT ?",
        )
        .bind(to_micros(now))
        .bind(i64::from(limit))
        .fetch_all(self.readers())
        .await
        .map_err(translate)?;
        Ok(ids.into_iter().map(ApprovalId::from_uuid).collect())
    }

    #[tracing::instrument(name = "sqlite.approvals.reminders_due", skip_all, level = "debug")]
    async fn reminders_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ApprovalId>, RepositoryError> {
        // Spelled out like `overdue`'s, so the partial index `approvals_pending_by_reminder`
        // applies.
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id
             FROM approvals
             WHERE status = 'pending' AND next_reminder_at IS NOT NULL
                   AND next_reminder_at <= ?
             ORDER BY next_reminder_at, id
             LIMIT ?",
        )
        .bind(to_micros(now))
        .bind(i64::from(limit))
        .fetch_all(self.readers())
        .await
        .map_err(translate)?;
        Ok(ids.into_iter().map(ApprovalId::from_uuid).collect())
    }

    #[tracing::instrument(name = "sqlite.approvals.next_deadline", skip_all, level = "debug")]
    async fn next_deadline(&self) -> Result<Option<DateTime<Utc>>, RepositoryError> {
        // SQLite's two-argument `min` would be NULL when either is.
        let (expiry, reminder): (Option<i64>, Option<i64>) = sqlx::query_as(NEXT_DEADLINE)
            .fetch_one(self.readers())
            .await
            .map_err(translate)?;
        let earliest = [expiry, reminder].into_iter().flatten().min();
        from_optional_micros(earliest)
    }
}

/// The approval's own statements of a save.
#[async_trait]
impl RowStatements<ApprovalRow> for SaveTransaction<'_> {
    /// A unique violation on the primary key becomes `Duplicate` in `translate`.
    async fn insert(&mut self, row: &ApprovalRow) -> Result<(), RepositoryError> {
        let insert = sqlx::query(
            "INSERT INTO approvals (
                 id, title, description, requester, destination, metadata, callback_url,
                 required_approvals, allowed_approvers, allow_self_approval, status,
                 decisions, created_at, expires_at, resolved_at, version,
                 remind_after_seconds, reminded_at, expiry_warned, next_reminder_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19, ?20)",
        );
        bind_columns(insert, row)
            .execute(&mut *self.0)
            .await
            .map_err(translate)?;
        Ok(())
    }

    /// We hold the write lock, so nobody can change the row between this check and the
    /// commit.
    async fn update(&mut self, row: &ApprovalRow) -> Result<u64, RepositoryError> {
        let update = sqlx::query(
            "UPDATE approvals
             SET title = ?2, description = ?3, requester = ?4, destination = ?5,
                 metadata = ?6, callback_url = ?7, required_approvals = ?8,
                 allowed_approvers = ?9, allow_self_approval = ?10, status = ?11,
                 decisions = ?12, created_at = ?13, expires_at = ?14, resolved_at = ?15,
                 version = ?16, remind_after_seconds = ?17, reminded_at = ?18,
                 expiry_warned = ?19, next_reminder_at = ?20
             WHERE id = ?1 AND version = ?21",
        );
        bind_columns(update, row)
            .bind(row.version - 1)
            .execute(&mut *self.0)
            .await
            .map(|done| done.rows_affected())
            .map_err(translate)
    }
}

/// Binds the columns of `row` to `?1` … `?20`, in the order of `select_approvals!`: the INSERT
/// and the UPDATE of `save` both number their parameters this way.
fn bind_columns<'q>(
    query: Query<'q, Sqlite, SqliteArguments>,
    row: &ApprovalRow,
) -> Query<'q, Sqlite, SqliteArguments> {
    query
        .bind(row.id)
        .bind(&row.title)
        .bind(&row.description)
        .bind(&row.requester)
        .bind(&row.destination)
        .bind(&row.metadata)
        .bind(&row.callback_url)
        .bind(row.required_approvals)
        .bind(Json(&row.allowed_approvers))
        .bind(row.allow_self_approval)
        .bind(&row.status)
        .bind(&row.decisions)
        .bind(to_micros(row.created_at))
        .bind(to_micros(row.expires_at))
        .bind(row.resolved_at.map(to_micros))
        .bind(row.version)
        .bind(row.remind_after_seconds)
        .bind(row.reminded_at.map(to_micros))
        .bind(row.expiry_warned)
        .bind(row.next_reminder_at.map(to_micros))
}
