//! Approval requests as callbacks: a request calls its requester back when it settles
//! (approved, rejected, expired or cancelled), with the request and its decisions as the
//! event's `data`.

use async_trait::async_trait;
use chrono::SecondsFormat;
use domain::{ApprovalId, ApprovalRequest};
use serde_json::json;
use uuid::Uuid;

use super::{CallbackEvent, CallbackSubject, Recipient};
use crate::Ports;
use crate::ports::RepositoryError;
use crate::use_cases::{GetApproval, GetApprovalError};

/// The events that settle a request: the callbacks' `type` values.
pub const SETTLED: &[&str] = &[
    "approval.approved",
    "approval.rejected",
    "approval.expired",
    "approval.cancelled",
];

/// Approval requests as a [`CallbackSubject`], read through [`GetApproval`].
#[derive(Clone)]
pub struct ApprovalCallbacks {
    get: GetApproval,
}

impl ApprovalCallbacks {
    pub fn new(ports: &Ports) -> Self {
        Self {
            get: GetApproval::new(ports.approvals.clone()),
        }
    }
}

#[async_trait]
impl CallbackSubject for ApprovalCallbacks {
    fn kind(&self) -> &'static str {
        "approval"
    }

    fn events(&self) -> &'static [&'static str] {
        SETTLED
    }

    async fn recipient(&self, id: Uuid) -> Result<Option<Recipient>, RepositoryError> {
        let approval = match self.get.execute(ApprovalId::from_uuid(id)).await {
            Ok(approval) => approval,
            Err(GetApprovalError::NotFound) => return Ok(None),
            Err(GetApprovalError::Store(error)) => return Err(error),
        };
        Ok(Some(match approval.callback_url() {
            None => Recipient::Nobody,
            Some(url) => Recipient::Requester(CallbackEvent {
                url: url.clone(),
                requester: approval.requester().clone(),
                data: data(&approval),
            }),
        }))
    }
}

/// The request as the REST API shows it, in the same field names and time format, so a
/// receiver can share its parsing with a client of `GET /v1/approvals/{id}`.
fn data(approval: &ApprovalRequest) -> serde_json::Value {
    let time = |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let decisions: Vec<_> = approval
        .decisions()
        .iter()
        .map(|decision| {
            json!({
                "approver": decision.approver.as_str(),
                "verdict": decision.verdict.as_str(),
                "comment": decision.comment.as_ref().map(|c| c.as_str()),
                "decided_at": time(decision.decided_at),
            })
        })
        .collect();
    json!({
        "id": approval.id(),
        "title": approval.title().as_str(),
        "description": approval.description().as_str(),
        "status": approval.status().as_str(),
        "requester": approval.requester().as_str(),
        "destination": approval.destination().as_str(),
        "metadata": approval.metadata(),
        "created_at": time(approval.created_at()),
        "expires_at": time(approval.expires_at()),
        "resolved_at": approval.resolved_at().map(time),
        "decisions": decisions,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use domain::{ApprovalEvent, Identity};

    use super::*;

    #[test]
    fn every_settling_event_of_the_domain_is_listed() {
        let id = ApprovalId::from_uuid(Uuid::nil());
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let by = Identity::parse("slack:U1").unwrap();
        let settling = [
            ApprovalEvent::Approved {
                approval_id: id,
                at,
            },
            ApprovalEvent::Rejected {
                approval_id: id,
                by: by.clone(),
                at,
            },
            ApprovalEvent::Expired {
                approval_id: id,
                at,
            },
            ApprovalEvent::Cancelled {
                approval_id: id,
                by,
                at,
            },
        ];
        let types: Vec<&str> = settling.iter().map(ApprovalEvent::event_type).collect();
        assert_eq!(types, SETTLED);
    }
}
