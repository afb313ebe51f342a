//! Waking the sweeper when a deadline may have moved closer.
//!
//! The sweeper sleeps until the earliest deadline of any pending request (an expiry, a
//! reminder), so that an expired request loses its buttons when it expires, not at the next
//! sweep. A request created (or changed) while it sleeps may have an earlier deadline than
//! the one it sleeps until, so every save in this process rings a [`Notify`] and the sweeper
//! looks again. A save on another instance rings nothing here; the sweep interval bounds how
//! late this instance notices it, and that instance's own sweeper is awake for it anyway.
//!
//! This is a decorator of the repository, in the composition root, because waking a loop is
//! the process's business: the use cases and the stores stay unaware of it.

use std::sync::Arc;

use application::ports::{ApprovalRepository, ListQuery, Receipt, RepositoryError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{ApprovalEvent, ApprovalId, ApprovalRequest};
use tokio::sync::Notify;

/// An [`ApprovalRepository`] that rings `saved` after every successful save.
pub(crate) struct WakingApprovals {
    pub(crate) inner: Arc<dyn ApprovalRepository>,
    pub(crate) saved: Arc<Notify>,
}

#[async_trait]
impl ApprovalRepository for WakingApprovals {
    async fn get(&self, id: ApprovalId) -> Result<Option<ApprovalRequest>, RepositoryError> {
        self.inner.get(id).await
    }

    async fn save(
        &self,
        approval: &ApprovalRequest,
        events: &[ApprovalEvent],
        receipt: Option<Receipt>,
    ) -> Result<(), RepositoryError> {
        self.inner.save(approval, events, receipt).await?;
        // Stores a permit when the sweeper is busy, so a save during a sweep is not missed.
        self.saved.notify_one();
        Ok(())
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<ApprovalRequest>, RepositoryError> {
        self.inner.list(query).await
    }

    async fn overdue(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ApprovalId>, RepositoryError> {
        self.inner.overdue(now, limit).await
    }

    async fn reminders_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ApprovalId>, RepositoryError> {
        self.inner.reminders_due(now, limit).await
    }

    async fn next_deadline(&self) -> Result<Option<DateTime<Utc>>, RepositoryError> {
        self.inner.next_deadline().await
    }
}
