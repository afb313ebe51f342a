//! What happened to an alert. Like approval events, these are stored in the outbox and drive
//! every chat message.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AlertId;
use crate::{DomainEvent, Identity};

/// One state change of an alert. Serialized as the outbox payload: add, don't rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AlertEvent {
    Raised {
        alert_id: AlertId,
        at: DateTime<Utc>,
    },
    /// The same dedup key was raised again while the alert was open.
    Repeated {
        alert_id: AlertId,
        count: u32,
        at: DateTime<Utc>,
    },
    Acknowledged {
        alert_id: AlertId,
        by: Identity,
        at: DateTime<Utc>,
    },
    Resolved {
        alert_id: AlertId,
        by: Identity,
        at: DateTime<Utc>,
    },
}

impl AlertEvent {
    /// A stable dotted name, e.g. `alert.repeated`, stored beside the payload.
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::Raised { .. } => "alert.raised",
            Self::Repeated { .. } => "alert.repeated",
            Self::Acknowledged { .. } => "alert.acknowledged",
            Self::Resolved { .. } => "alert.resolved",
        }
    }

    pub fn alert_id(&self) -> AlertId {
        match self {
            Self::Raised { alert_id, .. }
            | Self::Repeated { alert_id, .. }
            | Self::Acknowledged { alert_id, .. }
            | Self::Resolved { alert_id, .. } => *alert_id,
        }
    }

    /// When it happened (the use case's clock at the time of the change).
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Raised { at, .. }
            | Self::Repeated { at, .. }
            | Self::Acknowledged { at, .. }
            | Self::Resolved { at, .. } => *at,
        }
    }
}

impl DomainEvent for AlertEvent {
    fn event_type(&self) -> &'static str {
        AlertEvent::event_type(self)
    }

    fn at(&self) -> DateTime<Utc> {
        AlertEvent::at(self)
    }
}
