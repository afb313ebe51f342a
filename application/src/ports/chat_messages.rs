//! Where each aggregate's chat message lives.

use async_trait::async_trait;
use uuid::Uuid;

use super::{MessageRef, RepositoryError};

/// Remembers the chat message posted for an aggregate, so later events update that message
/// instead of posting a new one. Kept apart from the aggregate's state on purpose: recording a
/// message must not bump the aggregate's version and race with a decision.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ChatMessages: Send + Sync {
    /// The message recorded for this aggregate, if any.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn get(&self, aggregate_id: Uuid) -> Result<Option<MessageRef>, RepositoryError>;

    /// Records (or replaces) the message for this aggregate.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn put(&self, aggregate_id: Uuid, message: &MessageRef) -> Result<(), RepositoryError>;
}
