//! What happened to an approval request. Events drive every notification: the domain never
//! calls out, it records facts and the caller takes them (see `ApprovalRequest::take_events`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ApprovalId, Verdict};
use crate::{DomainEvent, Identity};

/// One state change of an approval request. Serialized as the outbox payload, so variants and
/// fields are a stored format: add, don't rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ApprovalEvent {
    Requested {
        approval_id: ApprovalId,
        at: DateTime<Utc>,
    },
    DecisionRecorded {
        approval_id: ApprovalId,
        approver: Identity,
        verdict: Verdict,
        at: DateTime<Utc>,
    },
    Approved {
        approval_id: ApprovalId,
        at: DateTime<Utc>,
    },
    Rejected {
        approval_id: ApprovalId,
        by: Identity,
        at: DateTime<Utc>,
    },
    Expired {
        approval_id: ApprovalId,
        at: DateTime<Utc>,
    },
    Cancelled {
        approval_id: ApprovalId,
        by: Identity,
        at: DateTime<Utc>,
    },
    /// The approvers were reminded that the request still waits for them.
    Reminded {
        approval_id: ApprovalId,
        at: DateTime<Utc>,
    },
    /// The approvers were warned, once, that the request expires soon.
    ExpiryWarned {
        approval_id: ApprovalId,
        expires_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
}

impl ApprovalEvent {
    /// The type of [`Self::Reminded`], for the code that treats reminders apart.
    pub const REMINDED: &'static str = "approval.reminded";
    /// The type of [`Self::ExpiryWarned`].
    pub const EXPIRY_WARNED: &'static str = "approval.expiry_warned";

    /// A stable dotted name, e.g. `approval.decision_recorded`, stored beside the payload.
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::Requested { .. } => "approval.requested",
            Self::DecisionRecorded { .. } => "approval.decision_recorded",
            Self::Approved { .. } => "approval.approved",
            Self::Rejected { .. } => "approval.rejected",
            Self::Expired { .. } => "approval.expired",
            Self::Cancelled { .. } => "approval.cancelled",
            Self::Reminded { .. } => Self::REMINDED,
            Self::ExpiryWarned { .. } => Self::EXPIRY_WARNED,
        }
    }

    pub fn approval_id(&self) -> ApprovalId {
        match self {
            Self::Requested { approval_id, .. }
            | Self::DecisionRecorded { approval_id, .. }
            | Self::Approved { approval_id, .. }
            | Self::Rejected { approval_id, .. }
            | Self::Expired { approval_id, .. }
            | Self::Cancelled { approval_id, .. }
            | Self::Reminded { approval_id, .. }
            | Self::ExpiryWarned { approval_id, .. } => *approval_id,
        }
    }

    /// When it happened (the use case's clock at the time of the change).
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Requested { at, .. }
            | Self::DecisionRecorded { at, .. }
            | Self::Approved { at, .. }
            | Self::Rejected { at, .. }
            | Self::Expired { at, .. }
            | Self::Cancelled { at, .. }
            | Self::Reminded { at, .. }
            | Self::ExpiryWarned { at, .. } => *at,
        }
    }

    /// True for the events that end a request (approved, rejected, expired, cancelled).
    pub fn is_terminal(&self) -> bool {
        !matches!(
            self,
            Self::Requested { .. }
                | Self::DecisionRecorded { .. }
                | Self::Reminded { .. }
                | Self::ExpiryWarned { .. }
        )
    }
}

impl DomainEvent for ApprovalEvent {
    fn event_type(&self) -> &'static str {
        ApprovalEvent::event_type(self)
    }

    fn at(&self) -> DateTime<Utc> {
        ApprovalEvent::at(self)
    }
}
