//! The sink against a real NATS server with JetStream: what lands in the stream, what a retry
//! leaves there, and how each failure is classified for the relay.

// The helpers in `support` are not `#[test]` functions, which clippy's test allowances cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use adapter_nats::{EventEnvelope, JetStreamSink, NatsSettings, NatsSetupError, message_id};
use application::ports::{Readiness, Sink, SinkError};
use async_nats::header::NATS_MESSAGE_ID;
use secrecy::SecretString;
use support::{TestStream, event, retrying_store_race};
use uuid::Uuid;

#[tokio::test]
async fn an_event_lands_on_its_subject_with_the_envelope_and_its_message_id() {
    let test = TestStream::new().await;
    let sink = test.sink().await;
    let approved = event(1, Uuid::now_v7(), "approval.approved");

    retrying_store_race(|| sink.deliver(&approved))
        .await
        .unwrap();

    let messages = test.messages().await;
    assert_eq!(messages.len(), 1);
    let stored = &messages[0];
    assert_eq!(
        stored.subject.as_str(),
        format!("{}.approval.approved", test.settings.subject_prefix)
    );
    assert_eq!(
        stored.headers.get(NATS_MESSAGE_ID).map(|id| id.as_str()),
        Some(message_id(&approved).as_str())
    );
    let body: EventEnvelope = serde_json::from_slice(&stored.payload).unwrap();
    assert_eq!(body, EventEnvelope::of(&approved));
}

#[tokio::test]
async fn a_retried_event_is_stored_once() {
    let test = TestStream::new().await;
    let sink = test.sink().await;
    let requested = event(7, Uuid::now_v7(), "approval.requested");
    // The relay's second attempt: same row, one more failed attempt on record.
    let retry = application::ports::OutboxMessage {
        attempts: requested.attempts + 1,
        ..requested.clone()
    };

    sink.deliver(&requested).await.unwrap();
    sink.deliver(&retry).await.unwrap();

    let messages = test.messages().await;
    assert_eq!(
        messages.len(),
        1,
        "the repeat must be dropped as a duplicate"
    );
    assert_eq!(
        messages[0]
            .headers
            .get(NATS_MESSAGE_ID)
            .map(|id| id.as_str()),
        Some(message_id(&requested).as_str())
    );
}

#[tokio::test]
async fn events_of_one_aggregate_are_stored_in_the_order_they_were_delivered() {
    let test = TestStream::new().await;
    let sink = test.sink().await;
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    let events = [
        event(1, first, "approval.requested"),
        event(2, second, "approval.requested"),
        event(3, first, "approval.decision_recorded"),
        event(4, second, "approval.cancelled"),
        event(5, first, "approval.approved"),
    ];

    for event in &events {
        sink.deliver(event).await.unwrap();
    }

    let stored: Vec<EventEnvelope> = test
        .messages()
        .await
        .iter()
        .map(|message| serde_json::from_slice(&message.payload).unwrap())
        .collect();
    let of = |aggregate: Uuid| -> Vec<String> {
        stored
            .iter()
            .filter(|envelope| envelope.aggregate_id == aggregate)
            .map(|envelope| envelope.event_type.clone())
            .collect()
    };
    assert_eq!(
        of(first),
        [
            "approval.requested",
            "approval.decision_recorded",
            "approval.approved"
        ]
    );
    assert_eq!(of(second), ["approval.requested", "approval.cancelled"]);
}

#[tokio::test]
async fn a_missing_stream_is_created_with_the_event_subjects_and_the_duplicate_window() {
    let test = TestStream::new().await;
    assert!(
        test.jetstream
            .get_stream(&test.settings.stream)
            .await
            .is_err(),
        "a fresh test stream must not exist yet"
    );
    let sink = test.sink_without_stream().await;
    let requested = event(1, Uuid::now_v7(), "approval.requested");

    retrying_store_race(|| sink.deliver(&requested))
        .await
        .unwrap();

    let info = test.stream().await.get_info().await.unwrap();
    assert_eq!(
        info.config.subjects,
        [format!("{}.>", test.settings.subject_prefix)]
    );
    assert_eq!(
        info.config.duplicate_window,
        NatsSettings::DEFAULT_DUPLICATE_WINDOW
    );
    assert_eq!(info.state.messages, 1);
}

#[tokio::test]
async fn a_stream_deleted_under_the_sink_is_retried_and_created_again() {
    let test = TestStream::new().await;
    let sink = test.sink().await;
    let aggregate = Uuid::now_v7();
    sink.deliver(&event(1, aggregate, "approval.requested"))
        .await
        .unwrap();
    test.jetstream
        .delete_stream(&test.settings.stream)
        .await
        .unwrap();

    let approved = event(2, aggregate, "approval.approved");
    let first_attempt = sink.deliver(&approved).await;
    assert!(
        matches!(first_attempt, Err(SinkError::Retryable { .. })),
        "{first_attempt:?}"
    );
    retrying_store_race(|| sink.deliver(&approved))
        .await
        .unwrap();

    let messages = test.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0]
            .headers
            .get(NATS_MESSAGE_ID)
            .map(|id| id.as_str()),
        Some(message_id(&approved).as_str())
    );
}

#[tokio::test]
async fn an_event_larger_than_the_server_accepts_is_permanent() {
    let test = TestStream::new().await;
    let sink = test.sink().await;
    let max_payload = test.jetstream.client().server_info().max_payload;
    let mut huge = event(1, Uuid::now_v7(), "approval.requested");
    huge.payload = serde_json::json!({ "summary": "x".repeat(max_payload + 1) });

    let outcome = sink.deliver(&huge).await;

    assert!(
        matches!(outcome, Err(SinkError::Permanent { .. })),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_retryable_and_not_ready() {
    // Nothing listens on port 1; the sink still starts, because NATS being down must not
    // stop the service.
    let settings = NatsSettings {
        publish_timeout: Duration::from_millis(500),
        ..NatsSettings::new(SecretString::from("nats://127.0.0.1:1"))
    };
    let sink = JetStreamSink::connect(&settings).await.unwrap();

    // A guard against a hang, far above the publish timeout; not a speed measurement.
    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        sink.deliver(&event(1, Uuid::now_v7(), "approval.requested")),
    )
    .await
    .expect("deliver must give up within its own timeout");

    assert!(
        matches!(outcome, Err(SinkError::Retryable { .. })),
        "{outcome:?}"
    );
    assert!(sink.readiness().check().await.is_err());
}

#[tokio::test]
async fn a_malformed_url_stops_the_start() {
    let settings = NatsSettings::new(SecretString::from("nats://[not-a-host"));

    let outcome = JetStreamSink::connect(&settings).await;

    assert!(
        matches!(outcome, Err(NatsSetupError::InvalidUrl(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_stream_that_already_exists_is_used_as_it_is() {
    let test = TestStream::new().await;
    let operators = async_nats::jetstream::stream::Config {
        name: test.settings.stream.clone(),
        // Created by someone else: one more subject and a window of its own.
        subjects: vec![
            test.settings.stream_subjects(),
            format!("{}-audit.>", test.settings.subject_prefix),
        ],
        duplicate_window: Duration::from_secs(60 * 60),
        ..Default::default()
    };
    retrying_store_race(|| async {
        test.jetstream
            .create_stream(operators.clone())
            .await
            .map(drop)
            .map_err(|e| SinkError::Retryable {
                reason: format!("creating the stream: {e}"),
                retry_after: None,
            })
    })
    .await
    .unwrap();
    let sink = test.sink_without_stream().await;

    sink.deliver(&event(1, Uuid::now_v7(), "approval.requested"))
        .await
        .unwrap();

    let info = test.stream().await.get_info().await.unwrap();
    assert_eq!(info.config.subjects, operators.subjects);
    assert_eq!(info.config.duplicate_window, operators.duplicate_window);
    assert_eq!(info.state.messages, 1);
}
