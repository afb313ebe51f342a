//! Posting, updating and replying to chat messages (Slack, Discord, the console).

use std::time::Duration;

use async_trait::async_trait;

use crate::chat::{ChatMessage, ChatReply};

/// Where a posted message lives, so later events update it instead of posting again.
/// For Slack: the channel id and the message `ts`; for Discord, the channel and message ids
/// (the platform router prefixes the channel with `discord:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRef {
    pub channel: String,
    pub message_id: String,
}

/// Why a chat call failed, classified by what the caller should do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// The platform asked us to slow down (HTTP 429, its own rate-limit error code).
    /// `retry_after` is its own hint, or the platform's documented default.
    #[error("rate limited for {retry_after:?}: {reason}")]
    RateLimited {
        reason: String,
        retry_after: Duration,
    },
    /// Try again later (5xx, timeout, network). `retry_after` is the platform's own hint
    /// when it gave one.
    #[error("temporary chat failure: {reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Retrying the same call cannot succeed (unknown channel, invalid payload, bad token).
    #[error("permanent chat failure: {reason}")]
    Permanent { reason: String },
}

/// Renders [`ChatMessage`]s in one platform's format and posts or updates them.
///
/// An implementation knows nothing about what a message is about: it renders the neutral
/// model (headline, facts, outcome, actions) the same way for every subject.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ChatGateway: Send + Sync {
    /// Posts `message` to its destination and returns where it now lives.
    ///
    /// # Errors
    /// `RateLimited` when the platform asks to slow down, `Retryable` for other transient
    /// failures, `Permanent` when retrying cannot help. A timeout is `Retryable` even though
    /// the platform may have posted the message: delivery is at-least-once, and such a retry
    /// can show a duplicate message.
    async fn post(&self, message: &ChatMessage) -> Result<MessageRef, ChatError>;

    /// Replaces the message at `at` with `message`.
    ///
    /// # Errors
    /// As for [`post`](Self::post).
    async fn update(&self, at: &MessageRef, message: &ChatMessage) -> Result<(), ChatError>;

    /// Posts `reply` in the thread of the message at `to`, which stays as it is.
    ///
    /// # Errors
    /// As for [`post`](Self::post); a reply is not deduplicated, so a retry after a timeout
    /// can show it twice.
    async fn reply(&self, to: &MessageRef, reply: &ChatReply) -> Result<(), ChatError>;
}
