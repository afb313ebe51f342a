//! Wait until an approval request has its outcome: the read behind a long-poll.
//!
//! The wait costs no store connection and no polling: it reads the request, and while it is
//! pending parks on the change feed until the request changes or the caller gives up, then
//! reads it again. It subscribes *before* each read, so a decision taken between the read and
//! the wait still wakes it.

use std::pin::pin;
use std::sync::Arc;

use domain::{ApprovalId, ApprovalRequest, Status};
use futures_util::future::{self, Either};

use super::{GetApproval, GetApprovalError};
use crate::ports::{ApprovalRepository, ChangeFeed};

/// The kind the stores announce approval saves under: the `aggregate_type` of their outbox
/// rows. The change-feed contract suite checks that the two agree.
pub const APPROVAL_KIND: &str = "approval";

#[derive(Clone)]
pub struct WaitForOutcome {
    get: GetApproval,
    changes: Arc<dyn ChangeFeed>,
}

impl WaitForOutcome {
    pub fn new(approvals: Arc<dyn ApprovalRepository>, changes: Arc<dyn ChangeFeed>) -> Self {
        Self {
            get: GetApproval::new(approvals),
            changes,
        }
    }

    /// The request once it is no longer pending, or, when `give_up` completes first (the
    /// caller's wait ran out, the process is shutting down), as it is then.
    ///
    /// # Errors
    /// As [`GetApproval::execute`]: `NotFound` for an unknown id, `Store` when a read fails.
    pub async fn execute(
        &self,
        id: ApprovalId,
        give_up: impl Future<Output = ()>,
    ) -> Result<ApprovalRequest, GetApprovalError> {
        let mut give_up = pin!(give_up);
        loop {
            let changed = self.changes.subscribe(APPROVAL_KIND, id.as_uuid());
            let approval = self.get.execute(id).await?;
            if approval.status() != Status::Pending {
                return Ok(approval);
            }
            if let Either::Right(((), _)) = future::select(changed, give_up.as_mut()).await {
                // The state may have moved since the read above; answer the latest.
                return self.get.execute(id).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::future::{pending, ready};

    use chrono::{TimeZone, Utc};
    use domain::{
        ChatDestination, Description, Identity, Metadata, NewApproval, Policy, RequiredApprovals,
        Title, Ttl,
    };
    use mockall::Sequence;

    use super::*;
    use crate::ports::{MockApprovalRepository, MockChangeFeed, Subscription};

    fn requester() -> Identity {
        Identity::parse("ci").unwrap()
    }

    fn pending_request() -> ApprovalRequest {
        let mut approval = ApprovalRequest::open(
            ApprovalId::from_uuid(uuid::Uuid::nil()),
            NewApproval {
                title: Title::parse("t").unwrap(),
                description: Description::default(),
                requester: requester(),
                destination: ChatDestination::parse("C1").unwrap(),
                metadata: Metadata::default(),
                callback_url: None,
                policy: Policy::new(
                    RequiredApprovals::new(1).unwrap(),
                    BTreeSet::new(),
                    false,
                    &requester(),
                )
                .unwrap(),
                ttl: Ttl::default(),
            },
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        );
        approval.take_events();
        approval
    }

    fn cancelled_request() -> ApprovalRequest {
        let mut approval = pending_request();
        approval
            .cancel(
                &requester(),
                Utc.with_ymd_and_hms(2026, 1, 1, 0, 1, 0).unwrap(),
            )
            .unwrap();
        approval
    }

    /// A repository whose reads answer `states` in turn.
    fn reads(states: Vec<ApprovalRequest>) -> Arc<MockApprovalRepository> {
        let mut approvals = MockApprovalRepository::new();
        let mut sequence = Sequence::new();
        for state in states {
            approvals
                .expect_get()
                .times(1)
                .in_sequence(&mut sequence)
                .returning(move |_| Ok(Some(state.clone())));
        }
        Arc::new(approvals)
    }

    /// A feed whose subscriptions complete at once (`changed`) or never.
    fn feed(changed: bool) -> Arc<MockChangeFeed> {
        let mut changes = MockChangeFeed::new();
        changes
            .expect_subscribe()
            .withf(|kind, _| kind == APPROVAL_KIND)
            .returning(move |_, _| {
                if changed {
                    Subscription::ready()
                } else {
                    Subscription::new(pending())
                }
            });
        Arc::new(changes)
    }

    fn id() -> ApprovalId {
        ApprovalId::from_uuid(uuid::Uuid::nil())
    }

    #[tokio::test]
    async fn a_settled_request_is_answered_at_once() {
        let wait = WaitForOutcome::new(reads(vec![cancelled_request()]), feed(false));
        let approval = wait.execute(id(), pending()).await.unwrap();
        assert_eq!(approval.status(), Status::Cancelled);
    }

    #[tokio::test]
    async fn a_change_wakes_the_wait_and_the_new_state_is_answered() {
        let approvals = reads(vec![pending_request(), cancelled_request()]);
        let wait = WaitForOutcome::new(approvals, feed(true));
        let approval = wait.execute(id(), pending()).await.unwrap();
        assert_eq!(approval.status(), Status::Cancelled);
    }

    #[tokio::test]
    async fn giving_up_answers_the_state_as_it_is_then() {
        let approvals = reads(vec![pending_request(), pending_request()]);
        let wait = WaitForOutcome::new(approvals, feed(false));
        let approval = wait.execute(id(), ready(())).await.unwrap();
        assert_eq!(approval.status(), Status::Pending);
    }

    #[tokio::test]
    async fn an_unknown_request_is_not_found() {
        let mut approvals = MockApprovalRepository::new();
        approvals.expect_get().returning(|_| Ok(None));
        let wait = WaitForOutcome::new(Arc::new(approvals), feed(false));
        let error = wait.execute(id(), pending()).await.unwrap_err();
        assert_eq!(error, GetApprovalError::NotFound);
    }
}
