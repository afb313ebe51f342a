//! Cancel a pending approval request (its requester changed their mind).

use std::sync::Arc;

use domain::{ApprovalId, ApprovalRequest, CancelError, Identity};

use super::answer::{Answer, receipt};
use super::retry::{Attempt, MAX_CONFLICT_RETRIES, retry_lost_races};
use crate::ports::{ApprovalRepository, Clock, RepositoryError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancelApprovalError {
    #[error("no approval request has this id")]
    NotFound,
    #[error(transparent)]
    Refused(#[from] CancelError),
    #[error("the request kept changing concurrently; try again")]
    Conflict,
    #[error(transparent)]
    Store(RepositoryError),
}

#[derive(Clone)]
pub struct CancelApproval {
    approvals: Arc<dyn ApprovalRepository>,
    clock: Arc<dyn Clock>,
}

impl CancelApproval {
    pub fn new(approvals: Arc<dyn ApprovalRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { approvals, clock }
    }

    /// Cancels the request, storing the `answer` of an idempotent request with the change.
    ///
    /// # Errors
    /// `NotFound`, `Refused` (not the requester, or already settled), `Conflict` after
    /// repeated lost races, `Store`.
    #[tracing::instrument(skip_all, fields(approval_id = %id, by = %by))]
    pub async fn execute(
        &self,
        id: ApprovalId,
        by: Identity,
        answer: Option<Answer<'_, ApprovalRequest>>,
    ) -> Result<ApprovalRequest, CancelApprovalError> {
        // Borrowed once, so that every attempt's future can copy them in.
        let (by, answer) = (&by, answer.as_ref());
        let attempt = || async move {
            let mut approval = self
                .approvals
                .get(id)
                .await
                .map_err(CancelApprovalError::Store)?
                .ok_or(CancelApprovalError::NotFound)?;
            approval.cancel(by, self.clock.now())?;
            let events = approval.take_events();
            match self
                .approvals
                .save(&approval, &events, receipt(answer, &approval))
                .await
            {
                Ok(()) => Ok(Attempt::Done(approval)),
                Err(RepositoryError::Conflict) => Ok(Attempt::Lost),
                Err(e) => Err(CancelApprovalError::Store(e)),
            }
        };
        retry_lost_races(MAX_CONFLICT_RETRIES, CancelApprovalError::Conflict, attempt).await
    }
}
