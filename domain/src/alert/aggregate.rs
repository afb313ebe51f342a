//! Alert state, deduplication and the acknowledge/resolve transitions.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AlertEvent;
use crate::validation::{ValidationError, Violation, single_line, string_newtype};
use crate::{ChatDestination, Description, Identity, Title};

/// Identifies an alert. UUID v7, so ids sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AlertId(Uuid);

impl AlertId {
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }
}

/// The text was not one of the three severity names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity {0:?}; expected one of info, warning, critical")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(Self::Info),
            "warning" => Ok(Self::Warning),
            "critical" => Ok(Self::Critical),
            _ => Err(UnknownSeverity(s.to_owned())),
        }
    }
}

/// The caller's name for "the same problem": raising it again while an alert with this key
/// is unresolved counts a repeat instead of opening a new alert. 1–200 printable characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DedupKey(String);

impl DedupKey {
    pub const MAX_CHARS: usize = 200;

    /// # Errors
    /// `Empty`, `TooLong`, `ControlCharacter` or `FormatCharacter`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        single_line("dedup_key", raw, Self::MAX_CHARS).map(Self)
    }
}
string_newtype!(DedupKey);

/// Open alerts want attention; acknowledged ones have an owner; resolved ones are history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Open,
    Acknowledged,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }

    /// Parses the stored name.
    ///
    /// # Errors
    /// `Format` for anything but open, acknowledged, resolved.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "open" => Ok(Self::Open),
            "acknowledged" => Ok(Self::Acknowledged),
            "resolved" => Ok(Self::Resolved),
            _ => Err(ValidationError::new(
                "status",
                Violation::Format("must be open, acknowledged or resolved"),
            )),
        }
    }
}

/// Why an alert transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    #[error("the alert is already resolved")]
    AlreadyResolved,
}

/// Whether a transition changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionOutcome {
    Changed,
    /// Already in that state: a double click, harmless.
    Unchanged,
}

/// The validated input of a new alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub severity: Severity,
    pub summary: Title,
    pub details: Description,
    pub destination: ChatDestination,
    pub dedup_key: DedupKey,
    pub raised_by: Identity,
}

/// Every stored field of an [`Alert`], for repositories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertState {
    pub id: AlertId,
    pub severity: Severity,
    pub summary: Title,
    pub details: Description,
    pub destination: ChatDestination,
    pub dedup_key: DedupKey,
    pub raised_by: Identity,
    pub status: AlertStatus,
    pub count: u32,
    pub created_at: DateTime<Utc>,
    pub last_raised_at: DateTime<Utc>,
    pub acknowledged_by: Option<Identity>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<Identity>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub version: i64,
}

/// An alert, deduplicated by key while unresolved.
///
/// Same event and version discipline as `ApprovalRequest`: methods append events, the caller
/// takes them with [`take_events`](Self::take_events) and saves them with the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    state: AlertState,
    pending_events: Vec<AlertEvent>,
}

impl Alert {
    /// Opens a new alert and raises `Raised`.
    pub fn raise(id: AlertId, new: NewAlert, now: DateTime<Utc>) -> Self {
        Self {
            state: AlertState {
                id,
                severity: new.severity,
                summary: new.summary,
                details: new.details,
                destination: new.destination,
                dedup_key: new.dedup_key,
                raised_by: new.raised_by,
                status: AlertStatus::Open,
                count: 1,
                created_at: now,
                last_raised_at: now,
                acknowledged_by: None,
                acknowledged_at: None,
                resolved_by: None,
                resolved_at: None,
                version: 0,
            },
            pending_events: vec![AlertEvent::Raised {
                alert_id: id,
                at: now,
            }],
        }
    }

    /// Rebuilds a stored alert. Raises no event.
    pub fn restore(state: AlertState) -> Self {
        Self {
            state,
            pending_events: Vec::new(),
        }
    }

    /// The same problem happened again: count it and show the latest summary, details and
    /// severity on the existing message.
    ///
    /// # Errors
    /// `AlreadyResolved`: a resolved alert is history; the caller opens a new one instead.
    pub fn repeat(&mut self, latest: NewAlert, now: DateTime<Utc>) -> Result<u32, AlertError> {
        if self.state.status == AlertStatus::Resolved {
            return Err(AlertError::AlreadyResolved);
        }
        self.state.count = self.state.count.saturating_add(1);
        self.state.severity = latest.severity;
        self.state.summary = latest.summary;
        self.state.details = latest.details;
        self.state.last_raised_at = now;
        self.pending_events.push(AlertEvent::Repeated {
            alert_id: self.state.id,
            count: self.state.count,
            at: now,
        });
        Ok(self.state.count)
    }

    /// Someone took ownership. Acknowledging twice is harmless.
    ///
    /// # Errors
    /// `AlreadyResolved`.
    pub fn acknowledge(
        &mut self,
        by: Identity,
        now: DateTime<Utc>,
    ) -> Result<TransitionOutcome, AlertError> {
        match self.state.status {
            AlertStatus::Resolved => Err(AlertError::AlreadyResolved),
            AlertStatus::Acknowledged => Ok(TransitionOutcome::Unchanged),
            AlertStatus::Open => {
                self.state.status = AlertStatus::Acknowledged;
                self.state.acknowledged_by = Some(by.clone());
                self.state.acknowledged_at = Some(now);
                self.pending_events.push(AlertEvent::Acknowledged {
                    alert_id: self.state.id,
                    by,
                    at: now,
                });
                Ok(TransitionOutcome::Changed)
            }
        }
    }

    /// The problem is gone. Resolving twice is harmless; the dedup key is free again.
    pub fn resolve(&mut self, by: Identity, now: DateTime<Utc>) -> TransitionOutcome {
        if self.state.status == AlertStatus::Resolved {
            return TransitionOutcome::Unchanged;
        }
        self.state.status = AlertStatus::Resolved;
        self.state.resolved_by = Some(by.clone());
        self.state.resolved_at = Some(now);
        self.pending_events.push(AlertEvent::Resolved {
            alert_id: self.state.id,
            by,
            at: now,
        });
        TransitionOutcome::Changed
    }

    /// Hands over the events raised since the last call; a non-empty take moves the version
    /// on by one (see `ApprovalRequest::take_events`).
    pub fn take_events(&mut self) -> Vec<AlertEvent> {
        let events = std::mem::take(&mut self.pending_events);
        if !events.is_empty() {
            self.state.version += 1;
        }
        events
    }

    /// Every stored field.
    pub fn state(&self) -> &AlertState {
        &self.state
    }

    pub fn id(&self) -> AlertId {
        self.state.id
    }

    pub fn status(&self) -> AlertStatus {
        self.state.status
    }

    pub fn version(&self) -> i64 {
        self.state.version
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, minute, 0).unwrap()
    }

    fn new_alert(summary: &str) -> NewAlert {
        NewAlert {
            severity: Severity::Warning,
            summary: Title::parse(summary).unwrap(),
            details: Description::default(),
            destination: ChatDestination::parse("C1").unwrap(),
            dedup_key: DedupKey::parse("disk-full:db-1").unwrap(),
            raised_by: Identity::parse("monitor").unwrap(),
        }
    }

    fn open() -> Alert {
        let mut alert = Alert::raise(AlertId::from_uuid(Uuid::nil()), new_alert("disk 91%"), t(0));
        assert_eq!(alert.take_events().len(), 1);
        alert
    }

    #[test]
    fn a_repeat_counts_and_shows_the_latest_summary() {
        let mut alert = open();
        let mut latest = new_alert("disk 97%");
        latest.severity = Severity::Critical;
        assert_eq!(alert.repeat(latest, t(5)), Ok(2));
        assert_eq!(alert.state().summary.as_str(), "disk 97%");
        assert_eq!(alert.state().severity, Severity::Critical);
        assert_eq!(alert.state().last_raised_at, t(5));
        assert!(matches!(
            alert.take_events().as_slice(),
            [AlertEvent::Repeated { count: 2, .. }]
        ));
        assert_eq!(alert.version(), 2);
    }

    #[test]
    fn acknowledging_twice_is_harmless() {
        let mut alert = open();
        let who = Identity::parse("slack:U1").unwrap();
        assert_eq!(
            alert.acknowledge(who.clone(), t(1)),
            Ok(TransitionOutcome::Changed)
        );
        assert_eq!(
            alert.acknowledge(who, t(2)),
            Ok(TransitionOutcome::Unchanged)
        );
        assert_eq!(alert.take_events().len(), 1);
    }

    #[test]
    fn a_resolved_alert_takes_no_repeats_or_acknowledgements() {
        let mut alert = open();
        let who = Identity::parse("slack:U1").unwrap();
        assert_eq!(alert.resolve(who.clone(), t(1)), TransitionOutcome::Changed);
        assert_eq!(
            alert.resolve(who.clone(), t(2)),
            TransitionOutcome::Unchanged
        );
        assert_eq!(
            alert.repeat(new_alert("again"), t(3)),
            Err(AlertError::AlreadyResolved)
        );
        assert_eq!(
            alert.acknowledge(who, t(3)),
            Err(AlertError::AlreadyResolved)
        );
        assert_eq!(alert.status(), AlertStatus::Resolved);
    }

    #[test]
    fn dedup_key_is_validated() {
        assert!(DedupKey::parse("").is_err());
        assert!(DedupKey::parse("a\u{1b}b").is_err());
        assert!(DedupKey::parse(&"k".repeat(201)).is_err());
    }

    #[test]
    fn severity_round_trips() {
        for s in [Severity::Info, Severity::Warning, Severity::Critical] {
            assert_eq!(s.as_str().parse::<Severity>(), Ok(s));
        }
    }
}
