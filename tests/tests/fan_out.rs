//! The relay's fan-out on every store: one event delivered to two sinks, one of which fails
//! for a while. The healthy sink gets each event once and at once, the failing one gets
//! them after it recovers, each exactly once, and each sink sees every aggregate's events in
//! the order they were raised — with one relay per sink, and with two racing relays per sink
//! on the SQL stores.

// Helpers outside `#[test]` functions are test code too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use adapter_memory::ManualClock;
use application::ports::CHAT_SINK;
use application::use_cases::{DeliverNotifications, RelayPolicy};
use domain::Verdict;
use tests::contract::fixtures::{Fixture, pending};
use tests::contract::{Store, WEBHOOK};
use tests::sinks::RecordingSink;
use uuid::Uuid;

/// Retries within milliseconds, so the test needs no clock tricks.
fn policy() -> RelayPolicy {
    RelayPolicy {
        base_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..RelayPolicy::default()
    }
}

/// Runs `relays` until `sink` has nothing pending, for at most 30 seconds.
async fn drain(store: &Store, sink: &str, relays: &[DeliverNotifications]) {
    for _ in 0..3000 {
        if pending(store.outbox.as_ref(), sink).await == 0 {
            return;
        }
        let rounds: Vec<_> = relays.iter().map(DeliverNotifications::execute).collect();
        for result in futures_util::future::join_all(rounds).await {
            result.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{sink} still has pending rows after 30 s");
}

/// `received`, grouped by aggregate, in delivery order.
fn by_aggregate(received: &[(Uuid, String)]) -> HashMap<Uuid, Vec<&str>> {
    let mut grouped: HashMap<Uuid, Vec<&str>> = HashMap::new();
    for (aggregate, event_type) in received {
        grouped.entry(*aggregate).or_default().push(event_type);
    }
    grouped
}

async fn one_event_reaches_two_sinks_each_once_while_one_of_them_is_down(
    store: Store,
    relays_per_sink: usize,
) {
    const REQUESTS: usize = 12;
    let fixture = Fixture::default();
    for _ in 0..REQUESTS {
        let mut approval = fixture.create_pending(&store).await;
        fixture
            .decide(&store, &mut approval, "alice", Verdict::Approve)
            .await;
    }
    let chat = RecordingSink::new(CHAT_SINK, false);
    let webhook = RecordingSink::new(WEBHOOK, true);
    let clock = Arc::new(ManualClock::new(fixture.now()));
    let relays_of = |sink: &Arc<RecordingSink>| -> Vec<DeliverNotifications> {
        (0..relays_per_sink)
            .map(|_| {
                DeliverNotifications::new(
                    store.outbox.clone(),
                    sink.clone(),
                    clock.clone(),
                    policy(),
                )
            })
            .collect()
    };
    let (chat_relays, webhook_relays) = (relays_of(&chat), relays_of(&webhook));

    // The webhook is down: its relays fail every attempt, and chat is not held back.
    for relay in &webhook_relays {
        relay.execute().await.unwrap();
    }
    drain(&store, CHAT_SINK, &chat_relays).await;
    assert_eq!(
        chat.received().len(),
        REQUESTS * 3,
        "chat got everything at once"
    );
    assert!(webhook.received().is_empty());
    assert_eq!(
        pending(store.outbox.as_ref(), WEBHOOK).await,
        REQUESTS as u64
    );

    // It recovers, and its retries fall due: the relays' clock moves past the backoff.
    webhook.down.store(false, Ordering::SeqCst);
    clock.advance(chrono::Duration::seconds(1));
    drain(&store, WEBHOOK, &webhook_relays).await;

    let chat_received = chat.received();
    let webhook_received = webhook.received();
    assert_eq!(
        webhook_received.len(),
        REQUESTS,
        "each approval once, after recovery"
    );
    for (aggregate, events) in by_aggregate(&chat_received) {
        assert_eq!(
            events,
            [
                "approval.requested",
                "approval.decision_recorded",
                "approval.approved"
            ],
            "chat got {aggregate}'s events once each, in order"
        );
    }
    for (aggregate, events) in by_aggregate(&webhook_received) {
        assert_eq!(events, ["approval.approved"], "{aggregate}");
    }
    assert_eq!(pending(store.outbox.as_ref(), CHAT_SINK).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_delivers_to_each_sink_once_while_the_other_is_down() {
    one_event_reaches_two_sinks_each_once_while_one_of_them_is_down(
        tests::backends::memory().await,
        1,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_delivers_to_each_sink_once_while_the_other_is_down_with_two_relays_each() {
    one_event_reaches_two_sinks_each_once_while_one_of_them_is_down(
        tests::backends::sqlite().await,
        2,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_delivers_to_each_sink_once_while_the_other_is_down_with_two_relays_each() {
    one_event_reaches_two_sinks_each_once_while_one_of_them_is_down(
        tests::backends::postgres().await,
        2,
    )
    .await;
}
