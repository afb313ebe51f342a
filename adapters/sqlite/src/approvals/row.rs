//! One `approvals` row as SQLite stores it. Mapping it to the aggregate, and the stored
//! formats, are shared with PostgreSQL ([`ApprovalRow`]); what is left here is what SQLite
//! stores differently: times as integer microseconds (`crate::time`) and the approver set as
//! a JSON array, SQLite having no array type. The JSON columns are TEXT, which sqlx reads and
//! writes as `serde_json::Value`.

use application::ports::RepositoryError;
use domain::ApprovalRequest;
use serde_json::Value;
use sql_support::ApprovalRow;
use sqlx::types::Json;
use uuid::Uuid;

use crate::time::{from_micros, from_optional_micros};

/// The columns of `approvals`, in the types SQLite stores them as. Writes bind an
/// [`ApprovalRow`] directly, converting the same columns on the way in.
#[derive(sqlx::FromRow)]
pub(crate) struct SqliteApprovalRow {
    id: Uuid,
    title: String,
    description: String,
    requester: String,
    destination: String,
    metadata: Value,
    callback_url: Option<String>,
    required_approvals: i16,
    allowed_approvers: Json<Vec<String>>,
    allow_self_approval: bool,
    status: String,
    decisions: Value,
    created_at: i64,
    expires_at: i64,
    resolved_at: Option<i64>,
    version: i64,
    remind_after_seconds: Option<i64>,
    reminded_at: Option<i64>,
    expiry_warned: bool,
    next_reminder_at: Option<i64>,
}

impl SqliteApprovalRow {
    /// Rebuilds the aggregate; see [`ApprovalRow::into_approval`].
    pub(crate) fn into_approval(self) -> Result<ApprovalRequest, RepositoryError> {
        ApprovalRow {
            id: self.id,
            title: self.title,
            description: self.description,
            requester: self.requester,
            destination: self.destination,
            metadata: self.metadata,
            callback_url: self.callback_url,
            required_approvals: self.required_approvals,
            allowed_approvers: self.allowed_approvers.0,
            allow_self_approval: self.allow_self_approval,
            status: self.status,
            decisions: self.decisions,
            created_at: from_micros(self.created_at)?,
            expires_at: from_micros(self.expires_at)?,
            resolved_at: from_optional_micros(self.resolved_at)?,
            version: self.version,
            remind_after_seconds: self.remind_after_seconds,
            reminded_at: from_optional_micros(self.reminded_at)?,
            expiry_warned: self.expiry_warned,
            next_reminder_at: from_optional_micros(self.next_reminder_at)?,
        }
        .into_approval()
    }
}
