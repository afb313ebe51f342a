//! Another service reacting to the service's `approval.approved` events, read from JetStream.
//!
//! Run the service with `NATS_URL` set, then this (both default to `nats://127.0.0.1:4222`):
//!
//! ```text
//! cargo run -p approval-consumer
//! ```
//!
//! and approve a request: this service logs `approval approved; starting the gated work`.
//!
//! The pattern, in the order it matters:
//!
//! - **A durable pull consumer** (`approval-consumer`): the server remembers how far this
//!   service has read, so a restart resumes there and events published while it was down are
//!   not missed. Several copies of the service share one durable consumer, and each event goes
//!   to one of them.
//! - **A subject filter** (`<service>.events.approval.approved`): the stream holds every event
//!   of every aggregate; this service asks only for the one it reacts to.
//! - **Explicit acks, after the work**: an event is acknowledged once its effect is done. A
//!   crash before the ack means JetStream delivers it again after `ack_wait`, so nothing is
//!   lost, and the same event can arrive twice. The handler therefore remembers the event ids
//!   it has acted on (the envelope's `id`, equal to the `Nats-Msg-Id` header) and acks a
//!   repeat without acting again.
//! - **Poison messages are terminated**, not retried: a body this service cannot read will not
//!   become readable, and redelivering it would only fill the logs.
//!
//! Configuration: `NATS_URL`, `<PREFIX>_NATS_STREAM` (default `<PREFIX>_EVENTS`),
//! `<PREFIX>_NATS_SUBJECT_PREFIX` (default `<service>.events`), and `CONSUMER_NAME` (default
//! `approval-consumer`), all from the environment.

use std::collections::HashSet;
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::{self, AckKind};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Deserialize;
use uuid::Uuid;

/// The fields of the service's event body this consumer reads; the rest is ignored, so fields
/// the service adds later do not break it.
#[derive(Debug, Deserialize)]
struct Event {
    schema_version: u32,
    id: String,
    event_type: String,
    aggregate_id: Uuid,
    occurred_at: DateTime<Utc>,
}

/// The body versions this service understands.
const SCHEMA_VERSION: u32 = 1;

/// Why a message is refused for good.
#[derive(Debug, PartialEq)]
enum Unreadable {
    NotAnEvent(String),
    UnknownVersion(u32),
}

fn decode(body: &[u8]) -> Result<Event, Unreadable> {
    let event: Event =
        serde_json::from_slice(body).map_err(|e| Unreadable::NotAnEvent(e.to_string()))?;
    if event.schema_version != SCHEMA_VERSION {
        return Err(Unreadable::UnknownVersion(event.schema_version));
    }
    Ok(event)
}

fn setting(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), async_nats::Error> {
    tracing_subscriber::fmt().init();
    let url = setting("NATS_URL", "nats://127.0.0.1:4222");
    let stream_name = setting(
        concat!(env!("SERVICE_ENV_PREFIX"), "_NATS_STREAM"),
        concat!(env!("SERVICE_ENV_PREFIX"), "_EVENTS"),
    );
    let prefix = setting(
        concat!(env!("SERVICE_ENV_PREFIX"), "_NATS_SUBJECT_PREFIX"),
        concat!(env!("SERVICE_NAME"), ".events"),
    );
    let consumer_name = setting("CONSUMER_NAME", "approval-consumer");

    let client = async_nats::connect(&url).await?;
    let jetstream = jetstream::new(client);
    let consumer = approval_consumer(&jetstream, &stream_name, &prefix, &consumer_name).await?;
    tracing::info!(stream = %stream_name, consumer = %consumer_name, "waiting for approvals");

    // Stand-in for a table of handled ids in this service's own database, written in the
    // same transaction as the work's effect, so that "done" and "remembered" cannot diverge.
    let mut handled = HashSet::new();
    let mut messages = consumer.messages().await?;
    loop {
        let message = tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            next = messages.next() => match next {
                Some(message) => message?,
                None => break,
            },
        };
        match decode(&message.payload) {
            Ok(event) => {
                if handled.insert(event.id.clone()) {
                    tracing::info!(
                        approval_id = %event.aggregate_id,
                        event_type = %event.event_type,
                        occurred_at = %event.occurred_at,
                        "approval approved; starting the gated work"
                    );
                } else {
                    tracing::info!(event_id = %event.id, "already handled; acknowledging again");
                }
                // `double_ack` waits for the server to confirm the ack: once it returns, this
                // event will not come again.
                message.double_ack().await?;
            }
            Err(reason) => {
                tracing::error!(subject = %message.subject, ?reason, "unreadable event; dropped");
                message.ack_with(AckKind::Term).await?;
            }
        }
    }
    Ok(())
}

/// The durable consumer of approvals, created on first use. The service creates the stream with
/// its first event, so until then this waits.
async fn approval_consumer(
    jetstream: &jetstream::Context,
    stream_name: &str,
    prefix: &str,
    consumer_name: &str,
) -> Result<PullConsumer, async_nats::Error> {
    let stream = loop {
        match jetstream.get_stream(stream_name).await {
            Ok(stream) => break stream,
            Err(error) => {
                tracing::info!(%error, "stream {stream_name} not there yet; retrying in 5s");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    };
    let config = pull::Config {
        durable_name: Some(consumer_name.to_owned()),
        filter_subject: format!("{prefix}.approval.approved"),
        // From the first approval in the stream; a consumer created later that must not
        // replay history uses `DeliverPolicy::New`.
        deliver_policy: DeliverPolicy::All,
        ack_policy: AckPolicy::Explicit,
        // How long one event may take before JetStream gives it to another copy.
        ack_wait: Duration::from_secs(30),
        // Past this, JetStream stops redelivering and reports an advisory an operator sees.
        max_deliver: 10,
        ..pull::Config::default()
    };
    Ok(stream.get_or_create_consumer(consumer_name, config).await?)
}

#[cfg(test)]
mod tests {
    use adapter_nats::EventEnvelope;
    use application::ports::OutboxMessage;
    use serde_json::json;

    use super::*;

    #[test]
    fn it_reads_the_body_service_publishes() {
        let approval_id = Uuid::now_v7();
        let message = OutboxMessage {
            id: 7,
            sink: "events".into(),
            aggregate_type: "approval".into(),
            aggregate_id: approval_id,
            event_type: "approval.approved".into(),
            payload: json!({ "type": "approved", "approval_id": approval_id }),
            attempts: 0,
            created_at: Utc::now(),
            trying_since: Utc::now(),
        };
        let published = serde_json::to_vec(&EventEnvelope::of(&message)).unwrap();

        let event = decode(&published).unwrap();
        assert_eq!(event.aggregate_id, approval_id);
        assert_eq!(event.event_type, "approval.approved");
        assert_eq!(event.id, adapter_nats::message_id(&message));
    }

    #[test]
    fn bodies_it_cannot_read_are_refused_for_good() {
        assert!(matches!(
            decode(b"not json"),
            Err(Unreadable::NotAnEvent(_))
        ));
        let future = json!({
            "schema_version": 2, "id": "x", "event_type": "approval.approved",
            "aggregate_id": Uuid::nil(), "occurred_at": "2026-12-01T00:00:00Z",
        });
        assert_eq!(
            decode(future.to_string().as_bytes()).unwrap_err(),
            Unreadable::UnknownVersion(2)
        );
    }
}
