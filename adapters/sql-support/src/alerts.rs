//! One `alerts` row, and the mapping between it and the aggregate.

use std::fmt::Display;

use application::ports::RepositoryError;
use chrono::{DateTime, Utc};
use domain::{
    Alert, AlertId, AlertState, AlertStatus, ChatDestination, DedupKey, Description, Identity,
    Severity, Title,
};
use uuid::Uuid;

use crate::errors::corrupt;
use crate::save::AggregateRow;

/// The columns of `alerts`. These are the types PostgreSQL's columns decode to, so its
/// `query_as!` fills this row directly; SQLite converts the times it stores as integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRow {
    pub id: Uuid,
    pub severity: String,
    pub summary: String,
    pub details: String,
    pub destination: String,
    pub dedup_key: String,
    pub raised_by: String,
    pub status: String,
    pub count: i64,
    pub created_at: DateTime<Utc>,
    pub last_raised_at: DateTime<Utc>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl AggregateRow for AlertRow {
    const AGGREGATE_TYPE: &'static str = "alert";

    fn id_and_version(&self) -> (Uuid, i64) {
        (self.id, self.version)
    }
}

impl AlertRow {
    /// The row that stores `alert`.
    pub fn from_alert(alert: &Alert) -> Self {
        let state = alert.state();
        Self {
            id: state.id.as_uuid(),
            severity: state.severity.as_str().to_owned(),
            summary: state.summary.to_string(),
            details: state.details.to_string(),
            destination: state.destination.to_string(),
            dedup_key: state.dedup_key.to_string(),
            raised_by: state.raised_by.to_string(),
            status: state.status.as_str().to_owned(),
            count: i64::from(state.count),
            created_at: state.created_at,
            last_raised_at: state.last_raised_at,
            acknowledged_by: state.acknowledged_by.as_ref().map(ToString::to_string),
            acknowledged_at: state.acknowledged_at,
            resolved_by: state.resolved_by.as_ref().map(ToString::to_string),
            resolved_at: state.resolved_at,
            version: state.version,
        }
    }

    /// Rebuilds the aggregate, re-validating every field.
    ///
    /// # Errors
    /// `Corrupt`, naming the alert and the field, when a stored value is one the domain
    /// forbids.
    pub fn into_alert(self) -> Result<Alert, RepositoryError> {
        let id = self.id;
        let identity = |field, raw: Option<&str>| {
            raw.map(Identity::parse)
                .transpose()
                .map_err(invalid(id, field))
        };
        Ok(Alert::restore(AlertState {
            id: AlertId::from_uuid(id),
            severity: self
                .severity
                .parse::<Severity>()
                .map_err(invalid(id, "severity"))?,
            summary: Title::parse(&self.summary).map_err(invalid(id, "summary"))?,
            details: Description::parse(&self.details).map_err(invalid(id, "details"))?,
            destination: ChatDestination::parse(&self.destination)
                .map_err(invalid(id, "destination"))?,
            dedup_key: DedupKey::parse(&self.dedup_key).map_err(invalid(id, "dedup_key"))?,
            raised_by: Identity::parse(&self.raised_by).map_err(invalid(id, "raised_by"))?,
            status: AlertStatus::parse(&self.status).map_err(invalid(id, "status"))?,
            count: u32::try_from(self.count).map_err(invalid(id, "count"))?,
            created_at: self.created_at,
            last_raised_at: self.last_raised_at,
            acknowledged_by: identity("acknowledged_by", self.acknowledged_by.as_deref())?,
            acknowledged_at: self.acknowledged_at,
            resolved_by: identity("resolved_by", self.resolved_by.as_deref())?,
            resolved_at: self.resolved_at,
            version: self.version,
        }))
    }
}

/// Names the alert and the field that failed to load.
fn invalid<E: Display>(id: Uuid, field: &'static str) -> impl FnOnce(E) -> RepositoryError {
    move |e| corrupt(&format!("alert {id}: {field}"), e)
}
