//! Read one approval request.

use std::sync::Arc;

use domain::{ApprovalId, ApprovalRequest};

use crate::ports::{ApprovalRepository, RepositoryError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GetApprovalError {
    #[error("no approval request has this id")]
    NotFound,
    #[error(transparent)]
    Store(RepositoryError),
}

#[derive(Clone)]
pub struct GetApproval {
    approvals: Arc<dyn ApprovalRepository>,
}

impl GetApproval {
    pub fn new(approvals: Arc<dyn ApprovalRepository>) -> Self {
        Self { approvals }
    }

    /// # Errors
    /// `NotFound` for an unknown id, `Store` when the repository fails.
    pub async fn execute(&self, id: ApprovalId) -> Result<ApprovalRequest, GetApprovalError> {
        self.approvals
            .get(id)
            .await
            .map_err(GetApprovalError::Store)?
            .ok_or(GetApprovalError::NotFound)
    }
}
