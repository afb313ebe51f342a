//! The chat sink: delivers an outbox event by showing its aggregate's current state in chat.

use std::sync::Arc;

use async_trait::async_trait;

use super::{ChatSubjects, Showing};
use crate::ports::{
    CHAT_SINK, ChatError, ChatGateway, ChatMessages, OutboxMessage, Sink, SinkError,
};

/// Posts an aggregate's message on its first event and updates that message on every later
/// one. Every delivery renders the aggregate as it is *now*, not as the event describes it,
/// so a redelivered or late event can never roll a message back to an older state; the event
/// itself only says which aggregate to show.
///
/// The aggregate's subject decides per event ([`ChatSubject::showing`]) whether the event is
/// such a change or a reply in the message's thread (a reminder), or no longer worth showing.
///
/// [`ChatSubject::showing`]: super::ChatSubject::showing
#[derive(Clone)]
pub struct ChatSink {
    subjects: ChatSubjects,
    gateway: Arc<dyn ChatGateway>,
    messages: Arc<dyn ChatMessages>,
}

impl ChatSink {
    pub fn new(
        subjects: ChatSubjects,
        gateway: Arc<dyn ChatGateway>,
        messages: Arc<dyn ChatMessages>,
    ) -> Self {
        Self {
            subjects,
            gateway,
            messages,
        }
    }
}

#[async_trait]
impl Sink for ChatSink {
    fn name(&self) -> &'static str {
        CHAT_SINK
    }

    /// # Errors
    /// `Permanent` for an aggregate type no subject is registered for and for an aggregate
    /// that no longer exists; otherwise the store's or the gateway's error, classified.
    #[tracing::instrument(skip_all, fields(kind = %event.aggregate_type, id = %event.aggregate_id))]
    async fn deliver(&self, event: &OutboxMessage) -> Result<(), SinkError> {
        let kind = &event.aggregate_type;
        let subject = self
            .subjects
            .get(kind)
            .ok_or_else(|| SinkError::Permanent {
                reason: format!("no chat subject is registered for aggregate type {kind:?}"),
            })?;
        match subject
            .showing(&event.event_type, event.aggregate_id)
            .await?
        {
            Showing::Message => {}
            Showing::Nothing => return Ok(()),
            Showing::Reply(reply) => {
                if let Some(posted) = self.messages.get(event.aggregate_id).await? {
                    return Ok(self.gateway.reply(&posted, &reply).await?);
                }
                // Nothing to reply to (its post was dead-lettered, say): post the message,
                // which shows the subject as it is now.
            }
        }
        let message =
            subject
                .message(event.aggregate_id)
                .await?
                .ok_or_else(|| SinkError::Permanent {
                    reason: format!("the {kind} {} no longer exists", event.aggregate_id),
                })?;
        match self.messages.get(event.aggregate_id).await? {
            Some(posted) => self.gateway.update(&posted, &message).await?,
            None => {
                let posted = self.gateway.post(&message).await?;
                // If recording fails, the retry posts again: a duplicate message, never a
                // lost one (at-least-once).
                self.messages.put(event.aggregate_id, &posted).await?;
            }
        }
        Ok(())
    }
}

impl From<ChatError> for SinkError {
    fn from(error: ChatError) -> Self {
        match error {
            ChatError::RateLimited {
                reason,
                retry_after,
            } => Self::RateLimited {
                reason,
                retry_after,
            },
            ChatError::Retryable {
                reason,
                retry_after,
            } => Self::Retryable {
                reason,
                retry_after,
            },
            ChatError::Permanent { reason } => Self::Permanent { reason },
        }
    }
}

#[cfg(test)]
#[path = "sink/tests.rs"]
mod tests;
