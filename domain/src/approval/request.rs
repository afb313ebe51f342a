//! The approval request aggregate: state machine, decision rules, events and version.
//! Its reminders are in the child module `reminders`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ApprovalEvent, ApprovalId, CallbackUrl, Comment, Metadata, Policy, Ttl};
use crate::{ChatDestination, Description, Identity, Title};

/// Where a request is in its life. Only `Pending` moves; every other status is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Approved,
    Rejected,
    Expired,
    Cancelled,
}

impl Status {
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Approved,
        Self::Rejected,
        Self::Expired,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn is_final(self) -> bool {
        self != Self::Pending
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the five status names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?}; expected one of pending, approved, rejected, expired, cancelled")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// What an approver says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Reject,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
        }
    }
}

impl FromStr for Verdict {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "approve" => Ok(Self::Approve),
            "reject" => Ok(Self::Reject),
            _ => Err(()),
        }
    }
}

/// One approver's recorded verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub approver: Identity,
    pub verdict: Verdict,
    pub comment: Option<Comment>,
    pub decided_at: DateTime<Utc>,
}

/// The validated input for a new request. Building one is the caller's job (an inbound
/// adapter parses its DTO into these newtypes); opening the request cannot fail after that.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApproval {
    pub title: Title,
    pub description: Description,
    pub requester: Identity,
    pub destination: ChatDestination,
    pub metadata: Metadata,
    pub callback_url: Option<CallbackUrl>,
    pub policy: Policy,
    pub ttl: Ttl,
}

/// Why a decision was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error("the request is already {status}")]
    NotPending {
        status: Status,
        /// The decisions that settled it, so a chat reply can say "already decided by …".
        decided_by: Vec<Identity>,
    },
    #[error("the request expired at {expired_at}")]
    Expired { expired_at: DateTime<Utc> },
    #[error("the requester may not decide their own request")]
    SelfApproval,
    #[error("{approver} is not on this request's list of allowed approvers")]
    NotAllowed { approver: Identity },
    #[error("{approver} already decided {previous:?} and cannot change their verdict")]
    ConflictingVerdict {
        approver: Identity,
        previous: Verdict,
    },
}

/// Why a cancellation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancelError {
    #[error("the request is already {status}")]
    NotPending { status: Status },
    #[error("only the requester may cancel a request")]
    NotRequester,
}

/// Why an expiry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpireError {
    #[error("the request is already {status}")]
    NotPending { status: Status },
    #[error("the request is not due until {expires_at}")]
    NotDue { expires_at: DateTime<Utc> },
}

/// What a successful decision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecideOutcome {
    /// A new decision was recorded; `status` is the status after it.
    Recorded { status: Status },
    /// The approver had already given this verdict: nothing changed, no event was raised.
    Unchanged,
}

/// A request for a human decision, and the aggregate root that guards its rules.
///
/// State changes happen only through its methods. Each change appends a domain event; the
/// caller takes them with [`take_events`](Self::take_events) and stores them together with the
/// new state. `version` supports optimistic concurrency (see `take_events`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRequest {
    id: ApprovalId,
    title: Title,
    description: Description,
    requester: Identity,
    destination: ChatDestination,
    metadata: Metadata,
    callback_url: Option<CallbackUrl>,
    policy: Policy,
    status: Status,
    decisions: Vec<Decision>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    /// When the approvers were last reminded (or warned); `None` before the first time.
    reminded_at: Option<DateTime<Utc>>,
    /// Whether the one warning before expiry went out.
    expiry_warned: bool,
    version: i64,
    pending_events: Vec<ApprovalEvent>,
}

/// Every stored field of an [`ApprovalRequest`], for repositories that rebuild one from storage.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalState {
    pub id: ApprovalId,
    pub title: Title,
    pub description: Description,
    pub requester: Identity,
    pub destination: ChatDestination,
    pub metadata: Metadata,
    pub callback_url: Option<CallbackUrl>,
    pub policy: Policy,
    pub status: Status,
    pub decisions: Vec<Decision>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub reminded_at: Option<DateTime<Utc>>,
    pub expiry_warned: bool,
    pub version: i64,
}

impl ApprovalRequest {
    /// Opens a new pending request and raises `Requested`.
    pub fn open(id: ApprovalId, new: NewApproval, now: DateTime<Utc>) -> Self {
        let expires_at = now + new.ttl.as_duration();
        Self {
            id,
            title: new.title,
            description: new.description,
            requester: new.requester,
            destination: new.destination,
            metadata: new.metadata,
            callback_url: new.callback_url,
            policy: new.policy,
            status: Status::Pending,
            decisions: Vec::new(),
            created_at: now,
            expires_at,
            resolved_at: None,
            reminded_at: None,
            expiry_warned: false,
            version: 0,
            pending_events: vec![ApprovalEvent::Requested {
                approval_id: id,
                at: now,
            }],
        }
    }

    /// Rebuilds a stored request. Raises no event: nothing happened, it was only loaded.
    pub fn restore(state: ApprovalState) -> Self {
        Self {
            id: state.id,
            title: state.title,
            description: state.description,
            requester: state.requester,
            destination: state.destination,
            metadata: state.metadata,
            callback_url: state.callback_url,
            policy: state.policy,
            status: state.status,
            decisions: state.decisions,
            created_at: state.created_at,
            expires_at: state.expires_at,
            resolved_at: state.resolved_at,
            reminded_at: state.reminded_at,
            expiry_warned: state.expiry_warned,
            version: state.version,
            pending_events: Vec::new(),
        }
    }

    /// Records a decision.
    ///
    /// Rules, in the order they are checked:
    /// 1. The same approver repeating the same verdict is a no-op success, even after the
    ///    request settled — so a retried request or a double click is harmless.
    /// 2. Only a pending request takes decisions, and not after its expiry time (even if the
    ///    expiry sweeper has not run yet).
    /// 3. The requester may not decide unless the policy allows self-approval (four eyes).
    /// 4. A non-empty allow-list must name the approver.
    /// 5. An approver cannot change their verdict.
    ///
    /// A reject settles the request at once; the N-th distinct approval approves it.
    ///
    /// # Errors
    /// The [`DecisionError`] naming the rule that refused.
    pub fn decide(
        &mut self,
        approver: Identity,
        verdict: Verdict,
        comment: Option<Comment>,
        now: DateTime<Utc>,
    ) -> Result<DecideOutcome, DecisionError> {
        let previous = self
            .decisions
            .iter()
            .find(|d| d.approver == approver)
            .map(|d| d.verdict);
        if previous == Some(verdict) {
            return Ok(DecideOutcome::Unchanged);
        }
        if self.status != Status::Pending {
            return Err(DecisionError::NotPending {
                status: self.status,
                decided_by: self.decisions.iter().map(|d| d.approver.clone()).collect(),
            });
        }
        if self.is_overdue(now) {
            return Err(DecisionError::Expired {
                expired_at: self.expires_at,
            });
        }
        if approver == self.requester && !self.policy.allow_self_approval() {
            return Err(DecisionError::SelfApproval);
        }
        if !self.policy.allows(&approver) {
            return Err(DecisionError::NotAllowed { approver });
        }
        if let Some(previous) = previous {
            return Err(DecisionError::ConflictingVerdict { approver, previous });
        }

        self.decisions.push(Decision {
            approver: approver.clone(),
            verdict,
            comment,
            decided_at: now,
        });
        self.pending_events.push(ApprovalEvent::DecisionRecorded {
            approval_id: self.id,
            approver: approver.clone(),
            verdict,
            at: now,
        });
        match verdict {
            Verdict::Reject => self.settle(
                Status::Rejected,
                ApprovalEvent::Rejected {
                    approval_id: self.id,
                    by: approver,
                    at: now,
                },
                now,
            ),
            Verdict::Approve
                if self.approvals() >= usize::from(self.policy.required_approvals().get()) =>
            {
                self.settle(
                    Status::Approved,
                    ApprovalEvent::Approved {
                        approval_id: self.id,
                        at: now,
                    },
                    now,
                );
            }
            Verdict::Approve => {}
        }
        Ok(DecideOutcome::Recorded {
            status: self.status,
        })
    }

    /// Withdraws a pending request. Only its requester may.
    ///
    /// # Errors
    /// `NotRequester` for anyone else, `NotPending` once it has settled.
    pub fn cancel(&mut self, by: &Identity, now: DateTime<Utc>) -> Result<(), CancelError> {
        if *by != self.requester {
            return Err(CancelError::NotRequester);
        }
        if self.status != Status::Pending {
            return Err(CancelError::NotPending {
                status: self.status,
            });
        }
        self.settle(
            Status::Cancelled,
            ApprovalEvent::Cancelled {
                approval_id: self.id,
                by: by.clone(),
                at: now,
            },
            now,
        );
        Ok(())
    }

    /// Moves an overdue pending request to `Expired`.
    ///
    /// # Errors
    /// `NotPending` once settled, `NotDue` before its expiry time.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Result<(), ExpireError> {
        if self.status != Status::Pending {
            return Err(ExpireError::NotPending {
                status: self.status,
            });
        }
        if !self.is_overdue(now) {
            return Err(ExpireError::NotDue {
                expires_at: self.expires_at,
            });
        }
        self.settle(
            Status::Expired,
            ApprovalEvent::Expired {
                approval_id: self.id,
                at: now,
            },
            now,
        );
        Ok(())
    }

    /// Hands the events raised since the last call to the caller, which must store them with
    /// this state. Taking a non-empty list closes one unit of change: `version` moves on by
    /// one, and that is the version the repository stores (it refuses the write if someone
    /// else stored that version first).
    pub fn take_events(&mut self) -> Vec<ApprovalEvent> {
        let events = std::mem::take(&mut self.pending_events);
        if !events.is_empty() {
            self.version += 1;
        }
        events
    }

    /// True once `now` has reached the expiry time.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }

    /// Number of distinct approve verdicts recorded.
    pub fn approvals(&self) -> usize {
        self.decisions
            .iter()
            .filter(|d| d.verdict == Verdict::Approve)
            .count()
    }

    fn settle(&mut self, status: Status, event: ApprovalEvent, now: DateTime<Utc>) {
        self.status = status;
        self.resolved_at = Some(now);
        self.pending_events.push(event);
    }

    pub fn id(&self) -> ApprovalId {
        self.id
    }
    pub fn title(&self) -> &Title {
        &self.title
    }
    pub fn description(&self) -> &Description {
        &self.description
    }
    pub fn requester(&self) -> &Identity {
        &self.requester
    }
    pub fn destination(&self) -> &ChatDestination {
        &self.destination
    }
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }
    pub fn callback_url(&self) -> Option<&CallbackUrl> {
        self.callback_url.as_ref()
    }
    pub fn policy(&self) -> &Policy {
        &self.policy
    }
    pub fn status(&self) -> Status {
        self.status
    }
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
    pub fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.resolved_at
    }
    pub fn reminded_at(&self) -> Option<DateTime<Utc>> {
        self.reminded_at
    }
    pub fn expiry_warned(&self) -> bool {
        self.expiry_warned
    }
    pub fn version(&self) -> i64 {
        self.version
    }
}

mod reminders;

pub use reminders::{RemindError, Reminder};

#[cfg(test)]
mod tests;
