//! What a consumer receives: the JSON body of every event message and its `Nats-Msg-Id`.
//!
//! The body is a published contract, like a public API: fields are added, never renamed or
//! removed, and a change that breaks readers raises [`EventEnvelope::SCHEMA_VERSION`].

use application::ports::OutboxMessage;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The JSON body of one event message.
///
/// ```json
/// {
///   "schema_version": 1,
///   "id": "0192f0c4-5b1e-7c3a-9d2e-3f4a5b6c7d8e-42",
///   "event_type": "approval.approved",
///   "aggregate_type": "approval",
///   "aggregate_id": "0192f0c4-5b1e-7c3a-9d2e-3f4a5b6c7d8e",
///   "occurred_at": "2026-12-01T19:30:00.123456Z",
///   "data": { "type": "approved", "approval_id": "0192f0c4-…", "at": "2026-12-01T19:30:00.123456Z" }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// Raised only by a change that breaks readers of the fields below.
    pub schema_version: u32,
    /// Unique per event and the same on every delivery of it: the `Nats-Msg-Id` header.
    /// JetStream drops a repeat within its duplicate window; a consumer that must not act
    /// twice (its ack can be lost too) remembers the ids it has handled.
    pub id: String,
    /// `<aggregate>.<event>`, the subject's last two tokens.
    pub event_type: String,
    pub aggregate_type: String,
    pub aggregate_id: Uuid,
    /// When the event happened, not when it was published: a retried event keeps its time.
    pub occurred_at: DateTime<Utc>,
    /// The domain event itself, as the service stores it.
    pub data: serde_json::Value,
}

impl EventEnvelope {
    pub const SCHEMA_VERSION: u32 = 1;

    /// The envelope of one stored event.
    pub fn of(message: &OutboxMessage) -> Self {
        Self {
            schema_version: Self::SCHEMA_VERSION,
            id: message_id(message),
            event_type: message.event_type.clone(),
            aggregate_type: message.aggregate_type.clone(),
            aggregate_id: message.aggregate_id,
            occurred_at: message.created_at,
            data: message.payload.clone(),
        }
    }
}

/// `<aggregate id>-<outbox row id>`: the same on every retry, because the relay retries the
/// stored row, never a copy. The row id alone is unique only within one database; with the
/// aggregate's UUID in front, two services (or a development database started afresh)
/// publishing into the same stream cannot make JetStream drop each other's events as
/// duplicates.
pub fn message_id(message: &OutboxMessage) -> String {
    format!("{}-{}", message.aggregate_id, message.id)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn message(id: i64) -> OutboxMessage {
        OutboxMessage {
            id,
            sink: "events".into(),
            aggregate_type: "approval".into(),
            aggregate_id: Uuid::from_u128(0x0192_f0c4_5b1e_7c3a_9d2e_3f4a_5b6c_7d8e),
            event_type: "approval.approved".into(),
            payload: json!({ "type": "approved" }),
            attempts: 0,
            created_at: Utc.with_ymd_and_hms(2026, 12, 1, 19, 30, 0).unwrap(),
            trying_since: Utc.with_ymd_and_hms(2026, 12, 1, 19, 30, 0).unwrap(),
        }
    }

    #[test]
    fn the_body_carries_the_event_and_where_it_came_from() {
        let body = serde_json::to_value(EventEnvelope::of(&message(42))).unwrap();
        assert_eq!(
            body,
            json!({
                "schema_version": 1,
                "id": "0192f0c4-5b1e-7c3a-9d2e-3f4a5b6c7d8e-42",
                "event_type": "approval.approved",
                "aggregate_type": "approval",
                "aggregate_id": "0192f0c4-5b1e-7c3a-9d2e-3f4a5b6c7d8e",
                "occurred_at": "2026-12-01T19:30:00Z",
                "data": { "type": "approved" },
            })
        );
    }

    #[test]
    fn a_retry_has_the_id_of_the_first_attempt_and_another_event_does_not() {
        let first = message(42);
        let retry = OutboxMessage {
            attempts: 3,
            ..first.clone()
        };
        assert_eq!(message_id(&first), message_id(&retry));
        assert_ne!(message_id(&first), message_id(&message(43)));
    }
}
