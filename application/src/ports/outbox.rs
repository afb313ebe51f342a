//! The transactional outbox: events waiting to be turned into chat messages.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use domain::DomainEvent;
use uuid::Uuid;

use super::RepositoryError;

/// One stored event, as the relay sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    /// Increasing in insertion order; the delivery order within one aggregate.
    pub id: i64,
    /// `approval` or `alert`.
    pub aggregate_type: String,
    pub aggregate_id: Uuid,
    /// The event's stable name, e.g. `approval.requested`.
    pub event_type: String,
    /// The serialized domain event.
    pub payload: serde_json::Value,
    /// Delivery attempts that already failed.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

/// An outbox row about to be written by a repository's `save`, in the save's transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutboxMessage {
    pub aggregate_type: &'static str,
    pub aggregate_id: Uuid,
    pub event_type: &'static str,
    /// The serialized domain event.
    pub payload: serde_json::Value,
    /// When the event happened: the row's creation time and first attempt time. The event's
    /// own time, not the database's, so a relay driven by the same clock finds it due.
    pub at: DateTime<Utc>,
}

impl NewOutboxMessage {
    /// One row per event, in the order they were raised. Stores call it before opening their
    /// transaction: it needs no database, so its failure leaves nothing to roll back.
    ///
    /// # Errors
    /// `Corrupt` when an event cannot be serialized.
    pub fn from_events<E: DomainEvent>(
        aggregate_type: &'static str,
        aggregate_id: Uuid,
        events: &[E],
    ) -> Result<Vec<Self>, RepositoryError> {
        events
            .iter()
            .map(|event| {
                Ok(Self {
                    aggregate_type,
                    aggregate_id,
                    event_type: event.event_type(),
                    payload: serde_json::to_value(event).map_err(|e| {
                        RepositoryError::Corrupt(format!("serializing an event: {e}"))
                    })?,
                    at: event.at(),
                })
            })
            .collect()
    }
}

/// Counts for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Not yet delivered and not dead-lettered.
    pub pending: u64,
    /// Given up on; kept for an operator to inspect.
    pub dead: u64,
}

/// The relay's view of the outbox. Messages are *written* only by repository saves, in the
/// same transaction as the state they describe (see `ApprovalRepository::save`).
///
/// A message is in one of three states: pending (waiting or leased), delivered, or dead.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Leases up to `limit` due messages to the caller until `now + lease`, oldest first.
    ///
    /// A message is due when it is pending, its next attempt time has come, and no unexpired
    /// lease holds it. Only the **oldest pending message of each aggregate** is ever claimable,
    /// so an update can never overtake the post it updates, even with several relays. Two
    /// concurrent callers never receive the same message. A lease that runs out (a relay died)
    /// makes the message claimable again: delivery is at-least-once.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached; nothing was leased.
    async fn claim(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutboxMessage>, RepositoryError>;

    /// Marks a message delivered. Marking an already delivered message again is a no-op.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn mark_delivered(&self, id: i64, now: DateTime<Utc>) -> Result<(), RepositoryError>;

    /// Records a failed attempt and makes the message due again at `next_attempt_at`.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn reschedule(
        &self,
        id: i64,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), RepositoryError>;

    /// Records a final failed attempt and gives up on the message. It stays stored, visible
    /// through [`dead_letters`](Self::dead_letters), and no longer blocks later messages of
    /// its aggregate.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn dead_letter(
        &self,
        id: i64,
        now: DateTime<Utc>,
        error: &str,
    ) -> Result<(), RepositoryError>;

    /// Ends the leases on these messages without counting an attempt (graceful shutdown).
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn release(&self, ids: &[i64]) -> Result<(), RepositoryError>;

    /// The most recent dead-lettered messages with their last error, newest first.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn dead_letters(
        &self,
        limit: u32,
    ) -> Result<Vec<(OutboxMessage, String)>, RepositoryError>;

    /// Pending and dead counts.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn stats(&self) -> Result<OutboxStats, RepositoryError>;
}
