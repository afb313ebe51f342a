//! Storage of alerts, with the same transaction boundary as approvals.

use async_trait::async_trait;
use domain::{Alert, AlertEvent, AlertId, DedupKey};

use super::{Receipt, RepositoryError};

/// Stores alerts together with the events their changes raised (outbox rows with aggregate
/// type `alert`), atomically, like `ApprovalRepository::save`.
///
/// **Dedup invariant:** at most one unresolved alert per dedup key. The store enforces it
/// (a unique index over unresolved rows), so two processes raising the same key at once
/// cannot both open an alert.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AlertRepository: Send + Sync {
    /// Loads one alert. An unknown id is `Ok(None)`.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached, `Corrupt` for invalid stored data.
    async fn get(&self, id: AlertId) -> Result<Option<Alert>, RepositoryError>;

    /// The unresolved (open or acknowledged) alert with this dedup key, if any.
    ///
    /// # Errors
    /// As for [`get`](Self::get).
    async fn find_unresolved(&self, key: &DedupKey) -> Result<Option<Alert>, RepositoryError>;

    /// Atomically stores `alert` at `alert.version()`, appends `events` to the outbox, and,
    /// given a `receipt`, stores its response as the answer of its idempotency key. Version 1
    /// inserts; a higher version updates only if the stored version is `version - 1`. On any
    /// error nothing is written.
    ///
    /// # Errors
    /// - `ClaimLost` when the receipt's claim no longer holds its key (or the key already has
    ///   an answer).
    /// - `Duplicate` when inserting an id that exists, or an alert whose dedup key already has
    ///   an unresolved alert.
    /// - `Conflict` when updating and the stored version is not `version - 1`.
    /// - `Unavailable` when the store cannot be reached; nothing was committed.
    async fn save(
        &self,
        alert: &Alert,
        events: &[AlertEvent],
        receipt: Option<Receipt>,
    ) -> Result<(), RepositoryError>;
}
