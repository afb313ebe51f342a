//! How many events per second the sink stores in JetStream, with two relays publishing at
//! once.
//!
//! ```text
//! cargo run -p adapter-nats --example publish_bench --release [EVENTS] [PUBLISHERS]
//! ```
//!
//! Defaults: 5000 events, 2 publishers, the server at `NATS_URL` (or 127.0.0.1:4222). Each
//! publisher behaves like one relay: it delivers one event at a time and waits for
//! JetStream's ack before the next, over aggregates of its own (ten events each), so the
//! figure is the throughput of acknowledged, deduplicated publishes — not of fire-and-forget
//! ones. The stream is a fresh one, on file storage like the service's, deleted at the end.

// A benchmark's output is its figures.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use adapter_nats::{JetStreamSink, NatsSettings};
use application::ports::{OutboxMessage, Sink};
use chrono::Utc;
use secrecy::SecretString;
use uuid::Uuid;

const EVENTS_PER_AGGREGATE: usize = 10;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let events: usize = args.next().map_or(Ok(5000), |n| n.parse())?;
    let publishers: usize = args.next().map_or(Ok(2), |n| n.parse())?;
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned());

    let token = Uuid::now_v7().simple().to_string();
    let settings = NatsSettings {
        stream: format!("SVC_BENCH_{}", token.to_uppercase()),
        subject_prefix: format!("svc.bench.{token}"),
        ..NatsSettings::new(SecretString::from(url.clone()))
    };
    let sink = JetStreamSink::connect(&settings).await?;
    let inspector = async_nats::jetstream::new(async_nats::connect(&url).await?);
    // Connected (in the background), with the stream created, before the clock starts.
    let mut ready = sink.ensure_stream().await;
    for _ in 0..100 {
        if ready.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        ready = sink.ensure_stream().await;
    }
    ready?;

    let per_publisher = events / publishers;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for publisher in 0..publishers {
        let sink = sink.clone();
        tasks.push(tokio::spawn(async move {
            let first_id = (publisher * per_publisher) as i64;
            let mut aggregate = Uuid::now_v7();
            for n in 0..per_publisher {
                if n % EVENTS_PER_AGGREGATE == 0 {
                    aggregate = Uuid::now_v7();
                }
                sink.deliver(&event(first_id + n as i64, aggregate)).await?;
            }
            Ok::<_, application::ports::SinkError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();

    let stored = inspector
        .get_stream(&settings.stream)
        .await?
        .get_info()
        .await?
        .state
        .messages;
    inspector.delete_stream(&settings.stream).await?;

    let published = per_publisher * publishers;
    println!(
        "{published} events, {publishers} concurrent publishers: {:.2} s, {:.0} events/s \
         ({stored} in the stream)",
        elapsed.as_secs_f64(),
        published as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

fn event(id: i64, aggregate_id: Uuid) -> OutboxMessage {
    let at = Utc::now();
    OutboxMessage {
        id,
        sink: "events".into(),
        aggregate_type: "approval".to_owned(),
        aggregate_id,
        event_type: "approval.requested".to_owned(),
        payload: serde_json::json!({ "type": "requested", "approval_id": aggregate_id, "at": at }),
        attempts: 0,
        created_at: at,
        trying_since: at,
    }
}
