//! The callback sink: delivers a settling event to the requester's callback URL.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::SecondsFormat;

use super::{CallbackSubjects, Recipient};
use crate::ports::{
    ApiKeyStore, CALLBACK_SINK, Callback, CallbackSender, Clock, OutboxMessage, Sink, SinkError,
};

/// Turns an outbox event into a signed callback.
///
/// The body is `{"type": <event type>, "timestamp": <when it happened>, "data": …}`, with
/// `data` from the aggregate's [`CallbackSubject`](super::CallbackSubject) as it is now (a
/// settled aggregate no longer changes). An event its subject does not call back on, and an
/// aggregate whose requester gave no callback URL, are delivered by doing nothing.
#[derive(Clone)]
pub struct CallbackSink {
    subjects: CallbackSubjects,
    keys: Arc<dyn ApiKeyStore>,
    sender: Arc<dyn CallbackSender>,
    clock: Arc<dyn Clock>,
}

impl CallbackSink {
    pub fn new(
        subjects: CallbackSubjects,
        keys: Arc<dyn ApiKeyStore>,
        sender: Arc<dyn CallbackSender>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            subjects,
            keys,
            sender,
            clock,
        }
    }
}

/// The `webhook-id` of an event: its outbox row is this sink's alone and keeps its id for
/// every attempt (and a re-drive), and ids are never reused, so the row id names the event
/// for this receiver. The aggregate id in front keeps ids unique across databases too.
pub fn webhook_id(event: &OutboxMessage) -> String {
    format!("msg_{}_{}", event.aggregate_id.simple(), event.id)
}

#[async_trait]
impl Sink for CallbackSink {
    fn name(&self) -> &'static str {
        CALLBACK_SINK
    }

    /// # Errors
    /// `Permanent` for an aggregate type no subject is registered for, an aggregate that no
    /// longer exists, and a requester without a webhook secret; otherwise the store's or the
    /// sender's error, classified.
    #[tracing::instrument(skip_all, fields(kind = %event.aggregate_type, id = %event.aggregate_id, event_type = %event.event_type))]
    async fn deliver(&self, event: &OutboxMessage) -> Result<(), SinkError> {
        let kind = &event.aggregate_type;
        let subject = self
            .subjects
            .get(kind)
            .ok_or_else(|| SinkError::Permanent {
                reason: format!("no callback subject is registered for aggregate type {kind:?}"),
            })?;
        if !subject.events().contains(&event.event_type.as_str()) {
            return Ok(());
        }
        let recipient = subject
            .recipient(event.aggregate_id)
            .await?
            .ok_or_else(|| SinkError::Permanent {
                reason: format!("the {kind} {} no longer exists", event.aggregate_id),
            })?;
        let Recipient::Requester(callback) = recipient else {
            return Ok(());
        };
        let secrets = self
            .keys
            .webhook_secrets(&callback.requester)
            .await?
            .ok_or_else(|| SinkError::Permanent {
                reason: format!(
                    "the API client {} has no webhook secret; rotate one to give it one",
                    callback.requester
                ),
            })?;
        let body = serde_json::json!({
            "type": event.event_type,
            "timestamp": event.created_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            "data": callback.data,
        });
        let now = self.clock.now();
        self.sender
            .send(&Callback {
                url: callback.url,
                id: webhook_id(event),
                timestamp: now,
                body: body.to_string().into_bytes(),
                secrets: secrets.signing_at(now),
            })
            .await
    }
}

#[cfg(test)]
#[path = "sink/tests.rs"]
mod tests;
