//! The chat sink: shows each aggregate's current state in its chat message, posting it on
//! the first event and updating it on every later one.

use std::sync::Arc;

use async_trait::async_trait;
use domain::{Alert, AlertEvent, ApprovalEvent, ApprovalRequest};

use crate::ports::{
    AlertRepository, ApprovalRepository, ChatError, ChatGateway, ChatMessages, OutboxMessage, Sink,
    SinkError,
};

/// The name chat rows are stored under.
pub const CHAT_SINK: &str = "chat";

/// Delivers events to chat through the [`ChatGateway`].
#[derive(Clone)]
pub struct ChatSink {
    approvals: Arc<dyn ApprovalRepository>,
    alerts: Arc<dyn AlertRepository>,
    chat: Arc<dyn ChatGateway>,
    messages: Arc<dyn ChatMessages>,
}

/// What an outbox message is about, loaded in its current state.
enum Subject {
    Approval(ApprovalRequest),
    Alert(Alert),
}

impl ChatSink {
    pub fn new(
        approvals: Arc<dyn ApprovalRepository>,
        alerts: Arc<dyn AlertRepository>,
        chat: Arc<dyn ChatGateway>,
        messages: Arc<dyn ChatMessages>,
    ) -> Self {
        Self {
            approvals,
            alerts,
            chat,
            messages,
        }
    }

    /// Reads the event and loads the aggregate it is about.
    async fn load_subject(&self, message: &OutboxMessage) -> Result<Subject, SinkError> {
        let permanent = |reason: String| SinkError::Permanent { reason };
        let unreadable = |e: serde_json::Error| permanent(format!("unreadable payload: {e}"));
        match message.aggregate_type.as_str() {
            "approval" => {
                let event = serde_json::from_value::<ApprovalEvent>(message.payload.clone())
                    .map_err(unreadable)?;
                self.approvals
                    .get(event.approval_id())
                    .await?
                    .map(Subject::Approval)
                    .ok_or_else(|| permanent("the approval request no longer exists".into()))
            }
            "alert" => {
                let event = serde_json::from_value::<AlertEvent>(message.payload.clone())
                    .map_err(unreadable)?;
                self.alerts
                    .get(event.alert_id())
                    .await?
                    .map(Subject::Alert)
                    .ok_or_else(|| permanent("the alert no longer exists".into()))
            }
            other => Err(permanent(format!("unknown aggregate type {other:?}"))),
        }
    }
}

#[async_trait]
impl Sink for ChatSink {
    fn name(&self) -> &'static str {
        CHAT_SINK
    }

    async fn deliver(&self, message: &OutboxMessage) -> Result<(), SinkError> {
        let subject = self.load_subject(message).await?;
        // Every message shows the aggregate's *current* state, so a redelivered or late event
        // can never roll the message back to an older state.
        let result = match self.messages.get(message.aggregate_id).await? {
            Some(existing) => match &subject {
                Subject::Approval(approval) => self.chat.update_approval(&existing, approval).await,
                Subject::Alert(alert) => self.chat.update_alert(&existing, alert).await,
            },
            None => {
                let posted = match &subject {
                    Subject::Approval(approval) => self.chat.post_approval(approval).await,
                    Subject::Alert(alert) => self.chat.post_alert(alert).await,
                };
                match posted {
                    // If recording fails, the retry posts again: a duplicate message, never a
                    // lost one (at-least-once).
                    Ok(posted) => Ok(self.messages.put(message.aggregate_id, &posted).await?),
                    Err(e) => Err(e),
                }
            }
        };
        result.map_err(|error| match error {
            ChatError::RateLimited {
                reason,
                retry_after,
            } => SinkError::RateLimited {
                reason,
                retry_after,
            },
            ChatError::Retryable {
                reason,
                retry_after,
            } => SinkError::Retryable {
                reason,
                retry_after,
            },
            ChatError::Permanent { reason } => SinkError::Permanent { reason },
        })
    }
}
