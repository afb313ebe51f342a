//! The alert shapes: the body of `POST /v1/alerts` and the alert as the API shows it.

use application::use_cases::{RaiseAlertInput, Raised};
use chrono::{DateTime, Utc};
use domain::{Alert, AlertStatus, DedupKey, Description, Severity, Title};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::Type;
use uuid::Uuid;

use crate::dto::rules::{self, MULTI_LINE, ONE_LINE, Object, multi_line, required, single_line};

/// Body of `POST /v1/alerts`. Only the shape is checked here; the rules (lengths, control
/// characters, destination form) are the domain's and are checked by the use case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewAlert)]
pub(crate) struct RaiseAlertBody {
    severity: SeverityJson,
    /// What is wrong: 1–200 characters, one line.
    #[schema(schema_with = summary)]
    summary: String,
    /// Context for whoever responds: up to 4000 characters.
    #[schema(schema_with = details)]
    details: Option<String>,
    /// Where to tell, e.g. a Slack channel id.
    #[schema(schema_with = rules::destination)]
    destination: String,
    /// Your name for "the same problem": 1–200 characters, one line. Raising a key again while
    /// its alert is unresolved counts a repeat on that alert instead of opening another.
    #[schema(schema_with = dedup_key)]
    dedup_key: String,
}

impl From<RaiseAlertBody> for RaiseAlertInput {
    fn from(body: RaiseAlertBody) -> Self {
        Self {
            // The use case reads the domain's names, which `SeverityJson` spells the same
            // (checked by a test below).
            severity: body.severity.as_str().to_owned(),
            summary: body.summary,
            details: body.details,
            destination: body.destination,
            dedup_key: body.dedup_key,
        }
    }
}

/// A severity on the wire: `"info"`, `"warning"` or `"critical"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Severity)]
pub(crate) enum SeverityJson {
    Info,
    Warning,
    Critical,
}

impl SeverityJson {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

impl From<Severity> for SeverityJson {
    fn from(severity: Severity) -> Self {
        match severity {
            Severity::Info => Self::Info,
            Severity::Warning => Self::Warning,
            Severity::Critical => Self::Critical,
        }
    }
}

/// An alert's state on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = AlertStatus)]
pub(crate) enum AlertStatusJson {
    Open,
    Acknowledged,
    Resolved,
}

impl From<AlertStatus> for AlertStatusJson {
    fn from(status: AlertStatus) -> Self {
        match status {
            AlertStatus::Open => Self::Open,
            AlertStatus::Acknowledged => Self::Acknowledged,
            AlertStatus::Resolved => Self::Resolved,
        }
    }
}

/// An alert as the API shows it. Every field is always present; optional ones are `null`
/// when unset.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Alert)]
pub(crate) struct AlertResponse {
    id: Uuid,
    /// The severity of the latest raise.
    severity: SeverityJson,
    /// The summary of the latest raise.
    summary: String,
    /// The details of the latest raise; empty when it had none.
    details: String,
    destination: String,
    dedup_key: String,
    status: AlertStatusJson,
    /// How often the alert was raised: 1 when opened, plus one per repeat.
    count: u32,
    /// The API key name that opened the alert.
    raised_by: String,
    created_at: DateTime<Utc>,
    /// When the alert was last opened or repeated.
    last_raised_at: DateTime<Utc>,
    #[schema(required)]
    acknowledged_by: Option<String>,
    #[schema(required)]
    acknowledged_at: Option<DateTime<Utc>>,
    #[schema(required)]
    resolved_by: Option<String>,
    #[schema(required)]
    resolved_at: Option<DateTime<Utc>>,
    /// Increases with every change.
    version: i64,
}

impl From<&Alert> for AlertResponse {
    fn from(alert: &Alert) -> Self {
        let state = alert.state();
        Self {
            id: state.id.as_uuid(),
            severity: state.severity.into(),
            summary: state.summary.to_string(),
            details: state.details.to_string(),
            destination: state.destination.to_string(),
            dedup_key: state.dedup_key.to_string(),
            status: state.status.into(),
            count: state.count,
            raised_by: state.raised_by.to_string(),
            created_at: state.created_at,
            last_raised_at: state.last_raised_at,
            acknowledged_by: state.acknowledged_by.as_ref().map(ToString::to_string),
            acknowledged_at: state.acknowledged_at,
            resolved_by: state.resolved_by.as_ref().map(ToString::to_string),
            resolved_at: state.resolved_at,
            version: state.version,
        }
    }
}

/// What a raise did: `"opened"` a new alert, or counted a `"repeated"` raise of an
/// unresolved alert with the same dedup key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = RaiseOutcome)]
pub(crate) enum RaiseOutcomeJson {
    Opened,
    Repeated,
}

impl From<Raised> for RaiseOutcomeJson {
    fn from(raised: Raised) -> Self {
        match raised {
            Raised::Opened => Self::Opened,
            // The count is the alert's own `count`, already in the body.
            Raised::Repeated { .. } => Self::Repeated,
        }
    }
}

/// Answer of `POST /v1/alerts`: the alert, and what this raise did to it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RaisedAlert)]
pub(crate) struct RaisedAlertResponse {
    outcome: RaiseOutcomeJson,
    #[serde(flatten)]
    alert: AlertResponse,
}

impl RaisedAlertResponse {
    pub(crate) fn new(alert: &Alert, raised: Raised) -> Self {
        Self {
            outcome: raised.into(),
            alert: alert.into(),
        }
    }
}

// --- The rules of alert fields, as schemas (see `dto/rules.rs`) ---

/// `summary` of an alert: the same rules as a title.
fn summary() -> Object {
    single_line(Title::MAX_CHARS, required(Type::String)).description(Some(format!(
        "What is wrong: 1–{} characters on one line{ONE_LINE}",
        Title::MAX_CHARS
    )))
}

/// `dedup_key` of an alert: one line, 1–200 characters, not blank.
fn dedup_key() -> Object {
    single_line(DedupKey::MAX_CHARS, required(Type::String)).description(Some(format!(
        "Your name for \"the same problem\": 1–{} characters on one line{ONE_LINE} Raising \
         a key again while its alert is unresolved counts a repeat on that alert instead of \
         opening another.",
        DedupKey::MAX_CHARS
    )))
}

/// `details` of an alert: the same rules as a description.
fn details() -> Object {
    multi_line(Description::MAX_CHARS).description(Some(format!(
        "Context for whoever responds: up to {} characters{MULTI_LINE}",
        Description::MAX_CHARS
    )))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn severity_names_are_the_domains() {
        for severity in [Severity::Info, Severity::Warning, Severity::Critical] {
            let json = SeverityJson::from(severity);
            assert_eq!(json.as_str(), severity.as_str());
            assert_eq!(
                serde_json::to_value(json).unwrap(),
                Value::from(severity.as_str())
            );
        }
    }

    #[test]
    fn status_names_are_the_domains() {
        for status in [
            AlertStatus::Open,
            AlertStatus::Acknowledged,
            AlertStatus::Resolved,
        ] {
            assert_eq!(
                serde_json::to_value(AlertStatusJson::from(status)).unwrap(),
                Value::from(status.as_str())
            );
        }
    }

    #[test]
    fn a_raise_body_passes_every_field_to_the_use_case() {
        let body: RaiseAlertBody = serde_json::from_str(
            r#"{"severity":"critical","summary":"s","details":"d","destination":"C1","dedup_key":"k"}"#,
        )
        .unwrap();
        assert_eq!(
            RaiseAlertInput::from(body),
            RaiseAlertInput {
                severity: "critical".into(),
                summary: "s".into(),
                details: Some("d".into()),
                destination: "C1".into(),
                dedup_key: "k".into(),
            }
        );
    }

    #[test]
    fn an_unknown_severity_or_field_is_refused_rather_than_ignored() {
        for text in [
            r#"{"severity":"fatal","summary":"s","destination":"C1","dedup_key":"k"}"#,
            r#"{"severity":"info","summary":"s","destination":"C1","dedup_key":"k","sevrity":1}"#,
        ] {
            assert!(
                serde_json::from_str::<RaiseAlertBody>(text).is_err(),
                "{text}"
            );
        }
    }
}
