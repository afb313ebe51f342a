//! Storage of approval requests, and the transaction boundary that keeps events with state.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{ApprovalEvent, ApprovalId, ApprovalRequest, Status};

use super::{Receipt, RepositoryError};

/// One page request of a keyset-paginated listing, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Only requests in this status, or all.
    pub status: Option<Status>,
    /// Start strictly after (older than) this id; `None` starts at the newest.
    pub after: Option<ApprovalId>,
    /// Maximum number of requests to return.
    pub limit: u32,
}

/// Stores approval requests together with the events their changes raised.
///
/// **Transaction boundary.** [`save`](Self::save) is the only write: it stores the aggregate's
/// state *and* appends its events to the outbox in one atomic step. Either both are stored or
/// neither is, so a notification can never be lost (state without event) or invented (event
/// without state). The answer to an idempotent request joins the same step (a [`Receipt`]),
/// so a change is never committed without the answer its retries replay. See
/// ARCHITECTURE.md, "Decision: save(state, events)".
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ApprovalRepository: Send + Sync {
    /// Loads one request by id.
    ///
    /// # Errors
    /// - `Unavailable` when the store cannot be reached.
    /// - `Corrupt` when the stored row cannot be rebuilt into a valid aggregate.
    ///
    /// An unknown id is `Ok(None)`, not an error.
    async fn get(&self, id: ApprovalId) -> Result<Option<ApprovalRequest>, RepositoryError>;

    /// Atomically stores `approval` at `approval.version()`, appends `events` to the outbox,
    /// and, given a `receipt`, stores its response as the answer of its idempotency key.
    ///
    /// Version 1 is an insert; any higher version updates the stored row only if it is still at
    /// `version - 1` (optimistic concurrency). On any error nothing is written.
    ///
    /// # Errors
    /// - `ClaimLost` when the receipt's claim no longer holds its key (or the key already has
    ///   an answer).
    /// - `Duplicate` when inserting (version 1) an id that already exists.
    /// - `Conflict` when updating and the stored version is not `version - 1`, or the row is gone.
    /// - `Unavailable` when the store cannot be reached; nothing was committed.
    async fn save(
        &self,
        approval: &ApprovalRequest,
        events: &[ApprovalEvent],
        receipt: Option<Receipt>,
    ) -> Result<(), RepositoryError>;

    /// Lists requests newest first (by id, which is time-ordered), filtered by status,
    /// starting strictly after `query.after`, at most `query.limit` of them.
    ///
    /// The order is stable: concurrent inserts never make a request appear twice across pages.
    ///
    /// # Errors
    /// `Unavailable` or `Corrupt`, as for [`get`](Self::get).
    async fn list(&self, query: &ListQuery) -> Result<Vec<ApprovalRequest>, RepositoryError>;

    /// Ids of pending requests whose expiry time is at or before `now`, oldest first, at most
    /// `limit` of them.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn overdue(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ApprovalId>, RepositoryError>;

    /// Ids of pending requests whose next reminder or expiry warning
    /// ([`ApprovalRequest::next_reminder_at`]) is at or before `now`, earliest first, at
    /// most `limit` of them.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn reminders_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ApprovalId>, RepositoryError>;

    /// The earliest time at which a pending request expires or has a reminder due, so a
    /// sweeper can sleep until then; `None` when no request is pending. The time may be in
    /// the past (something is overdue now).
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn next_deadline(&self) -> Result<Option<DateTime<Utc>>, RepositoryError>;
}
