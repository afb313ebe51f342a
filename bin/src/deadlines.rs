//! Waking the sweeper when a deadline moves closer.
//!
//! The sweeper sleeps until the earliest deadline of any pending request (an expiry, a
//! reminder), so that an expired request loses its buttons when it expires, not at the next
//! sweep. A request created (or changed) while it sleeps may have an earlier deadline than
//! the one it sleeps until, so every save in this process tells the [`DeadlineBell`] its
//! request's deadline, and the bell wakes the sweeper only for one sooner than it sleeps
//! until. A save on another instance rings nothing here; the sweep interval bounds how late
//! this instance notices it, and that instance's own sweeper is awake for it anyway.
//!
//! Ringing for every save would make the sweeper ask the store for its next deadline once
//! per save, a query beside every write under load; requests created with the same time to
//! live all fall due after the one it already waits for, so nearly none rings.
//!
//! This is a decorator of the repository, in the composition root, because waking a loop is
//! the process's business: the use cases and the stores stay unaware of it.

use std::sync::{Arc, Mutex, PoisonError};

use application::ports::{ApprovalRepository, ListQuery, Receipt, RepositoryError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{ApprovalEvent, ApprovalId, ApprovalRequest};
use tokio::sync::Notify;

/// What the sweeper waits for, and the bell that wakes it for a sooner deadline.
#[derive(Debug, Default)]
pub struct DeadlineBell {
    watch: Mutex<Watch>,
    rung: Notify,
}

#[derive(Debug, Default)]
struct Watch {
    /// The sweeper is reading the next deadline: a save now may be missing from what it reads.
    looking: bool,
    /// The earliest deadline saved while it was looking.
    saved_while_looking: Option<DateTime<Utc>>,
    /// The deadline it sleeps until; `None`: none (nothing pending, or the store could not
    /// say), so any deadline is sooner.
    sleeps_until: Option<DateTime<Utc>>,
}

impl DeadlineBell {
    /// The sweeper is about to read the next deadline from the store.
    pub fn looking(&self) {
        let mut watch = self.lock();
        watch.looking = true;
        watch.saved_while_looking = None;
    }

    /// The sweeper read `deadline` (`None`: none, or the read failed) and sleeps until the
    /// earliest of it and what was saved while it read, which this returns.
    pub fn sleeping_until(&self, deadline: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        let mut watch = self.lock();
        let until = earliest(deadline, watch.saved_while_looking.take());
        watch.looking = false;
        watch.sleeps_until = until;
        until
    }

    /// A request with this deadline was saved: wakes the sweeper if it sleeps until later.
    pub fn saved(&self, deadline: Option<DateTime<Utc>>) {
        let Some(deadline) = deadline else { return };
        let mut watch = self.lock();
        if watch.looking {
            watch.saved_while_looking = earliest(watch.saved_while_looking, Some(deadline));
        } else if watch.sleeps_until.is_none_or(|until| deadline < until) {
            watch.sleeps_until = Some(deadline);
            // Stores a permit when the sweeper is busy sweeping, so it is not missed.
            self.rung.notify_one();
        }
    }

    /// Completes when a save brought the next deadline closer.
    pub async fn rung(&self) {
        self.rung.notified().await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Watch> {
        // The state is a few plain values, valid after any panic.
        self.watch.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// An [`ApprovalRepository`] that tells `bell` the deadline of every request it saved.
pub(crate) struct WakingApprovals {
    pub(crate) inner: Arc<dyn ApprovalRepository>,
    pub(crate) bell: Arc<DeadlineBell>,
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
        self.bell.saved(approval.next_deadline());
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;

    fn at(minute: u32) -> Option<DateTime<Utc>> {
        Some(Utc.with_ymd_and_hms(2026, 1, 1, 12, minute, 0).unwrap())
    }

    /// Whether the bell has a wake-up stored, taking it.
    async fn rang(bell: &DeadlineBell) -> bool {
        tokio::time::timeout(Duration::from_millis(10), bell.rung())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn only_a_deadline_sooner_than_the_one_slept_until_rings() {
        let bell = DeadlineBell::default();
        bell.looking();
        assert_eq!(bell.sleeping_until(at(30)), at(30));

        bell.saved(at(40));
        bell.saved(None);
        assert!(
            !rang(&bell).await,
            "later or no deadline: nothing to do sooner"
        );
        bell.saved(at(20));
        assert!(rang(&bell).await);
        bell.saved(at(25));
        assert!(
            !rang(&bell).await,
            "the sweeper now sleeps until 20 at the latest"
        );
    }

    #[tokio::test]
    async fn with_nothing_pending_any_deadline_rings() {
        let bell = DeadlineBell::default();
        bell.looking();
        assert_eq!(bell.sleeping_until(None), None);
        bell.saved(at(59));
        assert!(rang(&bell).await);
    }

    #[tokio::test]
    async fn a_save_while_the_sweeper_reads_is_in_what_it_sleeps_until() {
        let bell = DeadlineBell::default();
        bell.looking();
        // Committed after the read began, so the read may not have seen it.
        bell.saved(at(10));
        bell.saved(at(15));
        assert!(
            !rang(&bell).await,
            "no ring while it reads: it takes the deadline instead"
        );
        assert_eq!(bell.sleeping_until(at(30)), at(10));
        assert_eq!(bell.sleeping_until(at(30)), at(30), "taken once");
    }
}
