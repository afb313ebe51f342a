//! Posting and updating chat messages (Slack, the console, later Discord).

use std::time::Duration;

use async_trait::async_trait;
use domain::{Alert, ApprovalRequest};

/// Where a posted message lives, so later events update it instead of posting again.
/// For Slack: the channel id and the message `ts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRef {
    pub channel: String,
    pub message_id: String,
}

/// Why a chat call failed, classified by what the caller should do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// The platform asked us to slow down: wait `retry_after` before the next call.
    #[error("chat rate limited: {reason}")]
    RateLimited {
        reason: String,
        retry_after: Duration,
    },
    /// Try again later (5xx, timeout, network). `retry_after` is the platform's
    /// own hint when it gave one.
    #[error("temporary chat failure: {reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Retrying the same call cannot succeed (unknown channel, invalid payload, bad token).
    #[error("permanent chat failure: {reason}")]
    Permanent { reason: String },
}

/// Renders approval requests and alerts as chat messages with buttons.
///
/// Implementations render the *current* state of what they are given: a pending request gets
/// Approve/Reject buttons and a settled one shows its outcome without buttons; an unresolved
/// alert gets Acknowledge/Resolve buttons and its repeat count, a resolved one shows who
/// resolved it.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ChatGateway: Send + Sync {
    /// Posts a new message for this request to its destination.
    ///
    /// # Errors
    /// `Retryable` for transient failures, `Permanent` when retrying cannot help. A timeout
    /// is `Retryable` even though the platform may have posted the message: delivery is
    /// at-least-once, and such a retry can show a duplicate message.
    async fn post_approval(&self, approval: &ApprovalRequest) -> Result<MessageRef, ChatError>;

    /// Replaces the message at `message` with the request's current state.
    ///
    /// # Errors
    /// As for [`post_approval`](Self::post_approval).
    async fn update_approval(
        &self,
        message: &MessageRef,
        approval: &ApprovalRequest,
    ) -> Result<(), ChatError>;

    /// Posts a new message for this alert to its destination.
    ///
    /// # Errors
    /// As for [`post_approval`](Self::post_approval).
    async fn post_alert(&self, alert: &Alert) -> Result<MessageRef, ChatError>;

    /// Replaces the message at `message` with the alert's current state (count, status).
    ///
    /// # Errors
    /// As for [`post_approval`](Self::post_approval).
    async fn update_alert(&self, message: &MessageRef, alert: &Alert) -> Result<(), ChatError>;
}
