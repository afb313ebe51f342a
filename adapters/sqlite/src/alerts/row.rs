//! One `alerts` row as SQLite stores it. Mapping it to the aggregate, and the stored
//! formats, are shared with PostgreSQL ([`AlertRow`]); what is left here is what SQLite
//! stores differently: times as integer microseconds (`crate::time`).

use application::ports::RepositoryError;
use domain::Alert;
use sql_support::AlertRow;
use uuid::Uuid;

use crate::time::{from_micros, from_optional_micros};

/// The columns of `alerts`, in the types SQLite stores them as. Writes bind an [`AlertRow`]
/// directly, converting the times on the way in.
#[derive(sqlx::FromRow)]
pub(crate) struct SqliteAlertRow {
    id: Uuid,
    severity: String,
    summary: String,
    details: String,
    destination: String,
    dedup_key: String,
    raised_by: String,
    status: String,
    count: i64,
    created_at: i64,
    last_raised_at: i64,
    acknowledged_by: Option<String>,
    acknowledged_at: Option<i64>,
    resolved_by: Option<String>,
    resolved_at: Option<i64>,
    version: i64,
}

impl SqliteAlertRow {
    /// Rebuilds the aggregate; see [`AlertRow::into_alert`].
    pub(crate) fn into_alert(self) -> Result<Alert, RepositoryError> {
        AlertRow {
            id: self.id,
            severity: self.severity,
            summary: self.summary,
            details: self.details,
            destination: self.destination,
            dedup_key: self.dedup_key,
            raised_by: self.raised_by,
            status: self.status,
            count: self.count,
            created_at: from_micros(self.created_at)?,
            last_raised_at: from_micros(self.last_raised_at)?,
            acknowledged_by: self.acknowledged_by,
            acknowledged_at: from_optional_micros(self.acknowledged_at)?,
            resolved_by: self.resolved_by,
            resolved_at: from_optional_micros(self.resolved_at)?,
            version: self.version,
        }
        .into_alert()
    }
}
