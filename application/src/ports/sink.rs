//! Where outbox events go: one [`Sink`] per destination (chat, a requester's webhook, an
//! event stream), each fed by its own relay loop.
//!
//! A sink knows nothing about the aggregates whose events it carries: it gets the stored
//! event ([`OutboxMessage`]) and delivers it, loading whatever current state it needs through
//! ports of its own. Which events reach which sink is decided when the events are written
//! ([`DeliveryRoutes`](super::DeliveryRoutes)), so each (event, sink) pair is one outbox row
//! with its own attempts, backoff, lease and dead letter, and a sink that is down never holds
//! up another.

use std::time::Duration;

use async_trait::async_trait;

use super::{OutboxMessage, RepositoryError};

/// The name of the chat sink: the one destination every service has (the console stands in
/// for a chat platform), and the one that rows written before the fan-out belong to.
pub const CHAT_SINK: &str = "chat";

/// The name of the callback sink, which tells requesters the outcome at their callback URL.
pub const CALLBACK_SINK: &str = "callback";

/// Why a delivery failed, classified by what the relay should do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The destination asked us to slow down (HTTP 429, a platform's own rate-limit error).
    /// The relay pauses this sink for `retry_after` and tries the same message again; the
    /// failure does not count against the message's retry budget, because nothing is wrong
    /// with the message.
    #[error("rate limited for {retry_after:?}: {reason}")]
    RateLimited {
        reason: String,
        retry_after: Duration,
    },
    /// Try again later (5xx, timeout, network, the store being down). `retry_after` is the
    /// destination's own hint when it gave one; otherwise the relay backs off exponentially.
    /// A timeout is retryable even though the destination may have acted on the call:
    /// delivery is at-least-once.
    #[error("temporary delivery failure: {reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Retrying cannot succeed (unknown channel, bad credentials, an event this sink cannot
    /// read, an aggregate that no longer exists). The message is dead-lettered at once.
    #[error("permanent delivery failure: {reason}")]
    Permanent { reason: String },
}

impl From<RepositoryError> for SinkError {
    /// A store failure while preparing a delivery is temporary; stored data that cannot be
    /// read will not become readable by retrying.
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::Corrupt(reason) => Self::Permanent { reason },
            other => Self::Retryable {
                reason: other.to_string(),
                retry_after: None,
            },
        }
    }
}

/// One destination of outbox events.
///
/// The relay calls [`deliver`](Self::deliver) for the oldest undelivered message of each
/// aggregate only, so a sink sees one aggregate's events in the order they were raised, and
/// never two of them at once. Delivery is at-least-once: after a crash, a timeout or a lost
/// acknowledgement the same message comes again, so `deliver` must be safe to repeat (render
/// current state, send an id the receiver can deduplicate on, …).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Sink: Send + Sync {
    /// The sink's stable name, as stored in each outbox row and used as the `sink` label of
    /// the relay metrics: lower case, e.g. `chat`. Never change it for a running service:
    /// rows stored under the old name would wait forever.
    fn name(&self) -> &'static str;

    /// Delivers one stored event.
    ///
    /// # Errors
    /// [`SinkError`], classified as its variants describe. Must return within the sink's own
    /// timeout, never hang: the relay holds the message's lease while it waits.
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), SinkError>;
}
