//! Cancel a pending approval request (its requester changed their mind).

use std::sync::Arc;

use domain::{ApprovalId, ApprovalRequest, CancelError, Identity};

use super::MAX_CONFLICT_RETRIES;
use super::answer::{Answer, receipt};
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
        for _ in 0..MAX_CONFLICT_RETRIES {
            let mut approval = self
                .approvals
                .get(id)
                .await
                .map_err(CancelApprovalError::Store)?
                .ok_or(CancelApprovalError::NotFound)?;
            approval.cancel(&by, self.clock.now())?;
            let events = approval.take_events();
            match self
                .approvals
                .save(&approval, &events, receipt(answer.as_ref(), &approval))
                .await
            {
                Ok(()) => return Ok(approval),
                Err(RepositoryError::Conflict) => continue,
                Err(e) => return Err(CancelApprovalError::Store(e)),
            }
        }
        Err(CancelApprovalError::Conflict)
    }
}
