//! A stream of its own for each test on the real NATS server, deleted when the test ends.
//!
//! The server is the one at `NATS_URL` (default `nats://127.0.0.1:4222`, which `.ci/run`
//! makes sure of). Each test gets a fresh stream name and subject prefix, so tests run in
//! parallel without seeing each other's messages, and JetStream (which refuses two streams
//! with overlapping subjects) never makes one test fail another.

use std::time::Duration;

use adapter_nats::{JetStreamSink, NatsSettings};
use application::ports::{OutboxMessage, Readiness, SinkError};
use async_nats::jetstream::message::StreamMessage;
use async_nats::jetstream::{self, stream::Stream};
use chrono::Utc;
use secrecy::SecretString;
use uuid::Uuid;

pub fn nats_url() -> String {
    std::env::var("NATS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "nats://127.0.0.1:4222".to_owned())
}

/// One test's stream: its settings, a plain client to look inside, and cleanup on drop.
pub struct TestStream {
    pub settings: NatsSettings,
    pub jetstream: jetstream::Context,
}

impl TestStream {
    pub async fn new() -> Self {
        let token = Uuid::now_v7().simple().to_string();
        let settings = NatsSettings {
            stream: format!("SVC_TEST_{}", token.to_uppercase()),
            subject_prefix: format!("svc.test.{token}"),
            publish_timeout: Duration::from_secs(5),
            ..NatsSettings::new(SecretString::from(nats_url()))
        };
        let client = async_nats::connect(nats_url()).await.unwrap_or_else(|e| {
            panic!(
                "no NATS server at {} (start `nats-server -js`): {e}",
                nats_url()
            )
        });
        Self {
            settings,
            jetstream: jetstream::new(client),
        }
    }

    /// A sink on this test's stream, connected, with the stream created.
    pub async fn sink(&self) -> JetStreamSink {
        let sink = self.sink_without_stream().await;
        retrying_store_race(|| sink.ensure_stream())
            .await
            .expect("the stream is created");
        sink
    }

    /// A sink on this test's stream, once its connection is up (it connects in the
    /// background, and delivers nothing before). The stream is left to the first delivery.
    pub async fn sink_without_stream(&self) -> JetStreamSink {
        let sink = JetStreamSink::connect(&self.settings)
            .await
            .expect("the test settings are valid");
        let readiness = sink.readiness();
        let connected = async {
            while readiness.check().await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), connected)
            .await
            .expect("the sink connects to NATS");
        sink
    }

    pub async fn stream(&self) -> Stream {
        self.jetstream
            .get_stream(&self.settings.stream)
            .await
            .expect("the stream exists")
    }

    /// Every message in the stream, in stream order.
    pub async fn messages(&self) -> Vec<StreamMessage> {
        let stream = self.stream().await;
        let last = stream
            .get_info()
            .await
            .expect("stream info")
            .state
            .last_sequence;
        let mut messages = Vec::new();
        for sequence in 1..=last {
            messages.push(
                stream
                    .get_raw_message(sequence)
                    .await
                    .expect("a stored message"),
            );
        }
        messages
    }
}

impl Drop for TestStream {
    /// Deletes the stream even when the test failed. Drop cannot await, and the test's
    /// runtime may be shutting down, so a thread of its own does it.
    fn drop(&mut self) {
        let name = self.settings.stream.clone();
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                if let Ok(client) = async_nats::connect(nats_url()).await {
                    // A test that never created its stream has nothing to delete.
                    let _ = jetstream::new(client).delete_stream(&name).await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// Runs `attempt` again while it fails only because JetStream could not create the stream's
/// storage.
///
/// nats-server 2.9 removes an account's stream directory when its last stream is deleted,
/// and a stream created at that moment fails ("error creating store for stream"). On a
/// server shared by parallel tests, each deleting its stream at the end, that happens. The
/// sink reports it as `Retryable` and the relay would simply try again; the tests do the
/// same, for this failure only, so every other outcome is still checked on the first try.
pub async fn retrying_store_race<F, Fut>(mut attempt: F) -> Result<(), SinkError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), SinkError>>,
{
    for _ in 0..10 {
        match attempt().await {
            Err(SinkError::Retryable { reason, .. })
                if reason.starts_with("creating the stream") =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            outcome => return outcome,
        }
    }
    attempt().await
}

/// A stored event as the relay hands it to a sink.
pub fn event(id: i64, aggregate_id: Uuid, event_type: &str) -> OutboxMessage {
    let (aggregate_type, kind) = event_type
        .split_once('.')
        .expect("event types are <aggregate>.<event>");
    OutboxMessage {
        id,
        sink: "events".into(),
        aggregate_type: aggregate_type.to_owned(),
        aggregate_id,
        event_type: event_type.to_owned(),
        payload: serde_json::json!({
            "type": kind,
            "approval_id": aggregate_id,
            "at": Utc::now(),
        }),
        attempts: 0,
        created_at: Utc::now(),
        trying_since: Utc::now(),
    }
}
