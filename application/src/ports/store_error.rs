//! The errors every store port shares, whatever aggregate or record it stores.

/// What can go wrong in a store. Adapters translate their driver errors into these; nothing
/// above an adapter ever sees `sqlx::Error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepositoryError {
    /// Someone else stored a newer version first (optimistic concurrency).
    #[error("the record was changed concurrently")]
    Conflict,
    /// A record with this identity already exists.
    #[error("a record with this identity already exists")]
    Duplicate,
    /// The store could not be reached or did not answer in time. Retrying later may succeed.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// The store answered with data that does not satisfy the domain's rules.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// A save's [`Receipt`](super::Receipt) names a claim that no longer holds its idempotency key: the
    /// request stalled past its lock and a retry took the key over. Nothing was written;
    /// the retry's answer is the one that counts.
    #[error("the idempotency key was taken over by another request")]
    ClaimLost,
}
