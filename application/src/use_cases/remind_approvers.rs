//! Remind the approvers of pending requests that asked for it, and warn them once before a
//! request expires. Run by the composition root's sweeper, beside the expiry sweep; the
//! rules of when are the domain's (`ApprovalRequest::remind`).

use std::sync::Arc;

use domain::RemindError;

use super::sweep::save_each_changed;
use crate::ports::{ApprovalRepository, Clock, RepositoryError};

#[derive(Clone)]
pub struct RemindApprovers {
    approvals: Arc<dyn ApprovalRepository>,
    clock: Arc<dyn Clock>,
}

impl RemindApprovers {
    pub fn new(approvals: Arc<dyn ApprovalRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { approvals, clock }
    }

    /// Sends up to `batch` due reminders (each an event the chat sink shows in the request's
    /// thread) and returns how many it sent.
    ///
    /// A request that changed meanwhile (settled, reminded by another instance) is skipped,
    /// not an error: like the expiry sweep, this is safe to run anywhere, any number of
    /// times, and a reminder is sent at most once per interval.
    ///
    /// # Errors
    /// `Store` errors other than a lost race.
    #[tracing::instrument(skip_all)]
    pub async fn execute(&self, batch: u32) -> Result<usize, RepositoryError> {
        let now = self.clock.now();
        let due = self.approvals.reminders_due(now, batch).await?;
        let sent = save_each_changed(&*self.approvals, due, |approval| {
            match approval.remind(now) {
                Ok(_) => true,
                Err(
                    RemindError::NotPending { .. }
                    | RemindError::Overdue { .. }
                    | RemindError::NotDue { .. },
                ) => false,
            }
        })
        .await?;
        if sent > 0 {
            tracing::info!(sent, "reminded approvers of pending requests");
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::{DateTime, Duration, TimeZone, Utc};
    use domain::{
        ApprovalEvent, ApprovalId, ApprovalRequest, ChatDestination, Description, Identity,
        Metadata, NewApproval, Policy, RemindAfter, RequiredApprovals, Title, Ttl,
    };
    use mockall::predicate::always;

    use super::*;
    use crate::ports::{MockApprovalRepository, MockClock};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
    }

    fn reminding_request() -> ApprovalRequest {
        let requester = Identity::parse("ci").unwrap();
        let policy = Policy::new(
            RequiredApprovals::default(),
            BTreeSet::new(),
            false,
            &requester,
        )
        .unwrap()
        .with_remind_after(Some(RemindAfter::from_seconds(600).unwrap()));
        let mut request = ApprovalRequest::open(
            ApprovalId::from_uuid(uuid::Uuid::nil()),
            NewApproval {
                title: Title::parse("Deploy v7?").unwrap(),
                description: Description::default(),
                requester,
                destination: ChatDestination::parse("C1").unwrap(),
                metadata: Metadata::default(),
                callback_url: None,
                policy,
                ttl: Ttl::default(),
            },
            t0(),
        );
        request.take_events();
        request
    }

    fn clock_at(at: DateTime<Utc>) -> Arc<MockClock> {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(at);
        Arc::new(clock)
    }

    #[tokio::test]
    async fn a_due_request_is_saved_with_one_reminded_event() {
        let request = reminding_request();
        let id = request.id();
        let now = t0() + Duration::minutes(11);
        let mut approvals = MockApprovalRepository::new();
        approvals
            .expect_reminders_due()
            .returning(move |_, _| Ok(vec![id]));
        approvals
            .expect_get()
            .returning(move |_| Ok(Some(request.clone())));
        approvals
            .expect_save()
            .withf(move |saved, events, receipt| {
                saved.reminded_at() == Some(now)
                    && events
                        == [ApprovalEvent::Reminded {
                            approval_id: id,
                            at: now,
                        }]
                    && receipt.is_none()
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let remind = RemindApprovers::new(Arc::new(approvals), clock_at(now));
        assert_eq!(remind.execute(10).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_request_not_due_after_all_or_lost_to_a_race_is_skipped() {
        let request = reminding_request();
        let id = request.id();
        let mut approvals = MockApprovalRepository::new();
        approvals
            .expect_reminders_due()
            .returning(move |_, _| Ok(vec![id, id]));
        approvals
            .expect_get()
            .returning(move |_| Ok(Some(request.clone())));
        approvals
            .expect_save()
            .with(always(), always(), always())
            .times(2)
            .returning(|_, _, _| Err(RepositoryError::Conflict));
        let remind = RemindApprovers::new(Arc::new(approvals), clock_at(t0() + Duration::hours(2)));
        assert_eq!(remind.execute(10).await.unwrap(), 0);

        // Before the first interval has passed, nothing is saved at all.
        let request = reminding_request();
        let mut approvals = MockApprovalRepository::new();
        approvals
            .expect_reminders_due()
            .returning(move |_, _| Ok(vec![id]));
        approvals
            .expect_get()
            .returning(move |_| Ok(Some(request.clone())));
        approvals.expect_save().never();
        let remind = RemindApprovers::new(Arc::new(approvals), clock_at(t0()));
        assert_eq!(remind.execute(10).await.unwrap(), 0);
    }
}
