//! Expire pending requests whose time ran out. Run periodically by the composition root.

use std::sync::Arc;

use domain::ExpireError;

use super::sweep::save_each_changed;
use crate::ports::{ApprovalRepository, Clock, RepositoryError};

#[derive(Clone)]
pub struct ExpireOverdue {
    approvals: Arc<dyn ApprovalRepository>,
    clock: Arc<dyn Clock>,
}

impl ExpireOverdue {
    pub fn new(approvals: Arc<dyn ApprovalRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { approvals, clock }
    }

    /// Expires up to `batch` overdue requests and returns how many it expired.
    ///
    /// A request that changed meanwhile (a last-second decision won the race, another
    /// instance expired it) is skipped, not an error: the sweep is safe to run anywhere,
    /// any number of times.
    ///
    /// # Errors
    /// `Store` errors other than a lost race.
    #[tracing::instrument(skip_all)]
    pub async fn execute(&self, batch: u32) -> Result<usize, RepositoryError> {
        let now = self.clock.now();
        let due = self.approvals.overdue(now, batch).await?;
        let expired = save_each_changed(&*self.approvals, due, |approval| {
            match approval.expire(now) {
                Ok(()) => true,
                Err(ExpireError::NotPending { .. } | ExpireError::NotDue { .. }) => false,
            }
        })
        .await?;
        if expired > 0 {
            tracing::info!(expired, "expired overdue approval requests");
        }
        Ok(expired)
    }
}
