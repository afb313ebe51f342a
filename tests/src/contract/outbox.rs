//! The contract of `Outbox`: due times, leases, per-aggregate order, retries and dead
//! letters — and that concurrent relays never share a message or reorder an aggregate.
//!
//! Rows only ever enter the outbox through `ApprovalRepository::save`, so that is how these
//! tests create them: a new request writes one chat row, a settling approval two more chat
//! rows and one [`WEBHOOK`](super::WEBHOOK) row (every contract store routes as
//! [`super::routes`] says). Most rules are about one sink, chat; the fan-out rules at the end
//! check that sinks never see or wait for each other's rows.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use application::ports::{CHAT_SINK, DeadLetterSelection, OutboxMessage, SinkStats};
use chrono::{DateTime, Duration, Utc};
use domain::{ApprovalRequest, Verdict};
use tokio::sync::Barrier;
use uuid::Uuid;

use super::fixtures::{Fixture, drain, pending};
use super::{Store, WEBHOOK};

const LEASE: Duration = Duration::minutes(5);

async fn claim(store: &Store, now: DateTime<Utc>, limit: u32) -> Vec<OutboxMessage> {
    store
        .outbox
        .claim(CHAT_SINK, now, limit, LEASE)
        .await
        .unwrap()
}

/// The chat sink's (pending, dead) counts.
async fn chat_counts(store: &Store) -> (u64, u64) {
    let stats = store.outbox.stats().await.unwrap();
    stats
        .iter()
        .find(|s| s.sink == CHAT_SINK)
        .map_or((0, 0), |s| (s.pending, s.dead))
}

fn ids(messages: &[OutboxMessage]) -> Vec<i64> {
    messages.iter().map(|m| m.id).collect()
}

/// A request whose three events (requested, decision recorded, approved) are all pending.
async fn approved_request(fixture: &Fixture, store: &Store) -> ApprovalRequest {
    let mut approval = fixture.create_pending(store).await;
    fixture
        .decide(store, &mut approval, "alice", Verdict::Approve)
        .await;
    approval
}

pub async fn claim_leases_due_messages_oldest_first(store: &Store) {
    let fixture = Fixture::default();
    let mut requests = Vec::new();
    for _ in 0..3 {
        requests.push(fixture.create_pending(store).await);
    }

    let claimed = claim(store, fixture.now(), 10).await;

    assert_eq!(claimed.len(), 3);
    assert!(claimed.windows(2).all(|pair| pair[0].id < pair[1].id));
    for (message, approval) in claimed.iter().zip(&requests) {
        assert_eq!(message.aggregate_type, "approval");
        assert_eq!(message.aggregate_id, approval.id().as_uuid());
        assert_eq!(message.event_type, "approval.requested");
        assert_eq!(message.payload["approval_id"], approval.id().to_string());
        assert_eq!(message.attempts, 0);
        assert_eq!(message.created_at, fixture.now());
    }
}

pub async fn claim_takes_at_most_the_limit(store: &Store) {
    let fixture = Fixture::default();
    for _ in 0..5 {
        fixture.create_pending(store).await;
    }
    let first = claim(store, fixture.now(), 2).await;
    let rest = claim(store, fixture.now(), 10).await;
    assert_eq!(first.len(), 2);
    assert_eq!(rest.len(), 3);
    assert!(first.last().unwrap().id < rest[0].id, "the oldest go first");
}

pub async fn a_leased_message_is_claimable_again_only_when_the_lease_runs_out(store: &Store) {
    let fixture = Fixture::default();
    fixture.create_pending(store).await;
    let now = fixture.now();
    let lease = Duration::seconds(30);

    let claimed = store.outbox.claim(CHAT_SINK, now, 10, lease).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let almost = now + lease - Duration::microseconds(1);
    assert_eq!(
        store
            .outbox
            .claim(CHAT_SINK, almost, 10, lease)
            .await
            .unwrap(),
        []
    );
    // The relay that held it is presumed dead: another one takes over (at-least-once).
    let again = store
        .outbox
        .claim(CHAT_SINK, now + lease, 10, lease)
        .await
        .unwrap();
    assert_eq!(ids(&again), ids(&claimed));
}

pub async fn only_the_oldest_pending_message_of_an_aggregate_is_claimable(store: &Store) {
    let fixture = Fixture::default();
    approved_request(&fixture, store).await;
    let now = fixture.now();

    let head = claim(store, now, 10).await;
    assert_eq!(
        head.len(),
        1,
        "the later events wait for the first: {head:?}"
    );
    assert_eq!(head[0].event_type, "approval.requested");
    // Even with its lease over, the head is still the only candidate.
    let later = now + LEASE;
    assert_eq!(ids(&claim(store, later, 10).await), ids(&head));
    // A head that waits for a retry still holds back the rest of its aggregate.
    store
        .outbox
        .reschedule(head[0].id, later + Duration::hours(1), "timeout")
        .await
        .unwrap();
    assert_eq!(claim(store, later, 10).await, []);

    let retry_time = later + Duration::hours(1);
    let retried = claim(store, retry_time, 10).await;
    assert_eq!(ids(&retried), ids(&head));
    store
        .outbox
        .mark_delivered(&[head[0].id], retry_time)
        .await
        .unwrap();
    let next = claim(store, retry_time, 10).await;
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].event_type, "approval.decision_recorded");
}

pub async fn a_message_is_not_due_before_its_next_attempt_time(store: &Store) {
    let fixture = Fixture::default();
    fixture.create_pending(store).await;
    let now = fixture.now();
    let claimed = claim(store, now, 10).await;
    let retry_at = now + Duration::minutes(1);
    store
        .outbox
        .reschedule(claimed[0].id, retry_at, "rate limited")
        .await
        .unwrap();

    assert_eq!(claim(store, now, 10).await, []);
    assert_eq!(
        claim(store, retry_at - Duration::microseconds(1), 10).await,
        []
    );
    assert_eq!(ids(&claim(store, retry_at, 10).await), ids(&claimed));
}

pub async fn reschedule_counts_an_attempt_and_ends_the_lease(store: &Store) {
    let fixture = Fixture::default();
    fixture.create_pending(store).await;
    let now = fixture.now();
    for attempts in 1..=3 {
        let claimed = claim(store, now, 10).await;
        assert_eq!(
            claimed.len(),
            1,
            "the lease ended, so it is claimable at once"
        );
        assert_eq!(claimed[0].attempts, attempts - 1);
        store
            .outbox
            .reschedule(claimed[0].id, now, "boom")
            .await
            .unwrap();
    }
    assert_eq!(claim(store, now, 10).await[0].attempts, 3);
}

pub async fn release_ends_the_lease_without_counting_an_attempt(store: &Store) {
    let fixture = Fixture::default();
    fixture.create_pending(store).await;
    fixture.create_pending(store).await;
    let now = fixture.now();
    let claimed = claim(store, now, 10).await;
    assert_eq!(claim(store, now, 10).await, []);

    store.outbox.release(&ids(&claimed), now).await.unwrap();
    store.outbox.release(&[], now).await.unwrap();

    let again = claim(store, now, 10).await;
    assert_eq!(ids(&again), ids(&claimed));
    assert!(again.iter().all(|m| m.attempts == 0));
}

pub async fn a_delivered_message_is_final(store: &Store) {
    let fixture = Fixture::default();
    fixture.create_pending(store).await;
    let now = fixture.now();
    let id = claim(store, now, 10).await[0].id;

    store.outbox.mark_delivered(&[id], now).await.unwrap();
    // A relay whose lease ran out may finish the same message again: harmless.
    store.outbox.mark_delivered(&[id], now).await.unwrap();
    // Late failure reports for a delivered message change nothing either.
    store.outbox.reschedule(id, now, "late").await.unwrap();
    store.outbox.dead_letter(id, now, "late").await.unwrap();

    assert_eq!(claim(store, now + Duration::days(365), 10).await, []);
    assert_eq!(chat_counts(store).await, (0, 0));
    assert_eq!(store.outbox.dead_letters(None, 10).await.unwrap(), []);
}

pub async fn mark_delivered_marks_exactly_the_given_rows_at_once(store: &Store) {
    let fixture = Fixture::default();
    for _ in 0..3 {
        fixture.create_pending(store).await;
    }
    let now = fixture.now();
    let claimed = ids(&claim(store, now, 10).await);
    assert_eq!(claimed.len(), 3);

    store
        .outbox
        .mark_delivered(&claimed[..2], now)
        .await
        .unwrap();
    store.outbox.mark_delivered(&[], now).await.unwrap();

    let after_lease = now + LEASE + Duration::seconds(1);
    assert_eq!(ids(&claim(store, after_lease, 10).await), [claimed[2]]);
    assert_eq!(chat_counts(store).await, (1, 0));
}

pub async fn dead_letter_gives_up_and_unblocks_the_aggregate(store: &Store) {
    let fixture = Fixture::default();
    approved_request(&fixture, store).await;
    let now = fixture.now();
    let head = claim(store, now, 10).await.remove(0);

    store
        .outbox
        .dead_letter(head.id, now, "channel_not_found")
        .await
        .unwrap();

    let dead = store.outbox.dead_letters(None, 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].message.id, head.id);
    assert_eq!(dead[0].message.attempts, head.attempts + 1);
    assert_eq!(dead[0].error, "channel_not_found");
    assert_eq!(dead[0].failed_at, now);
    assert_eq!(chat_counts(store).await, (2, 1));
    let next = claim(store, now, 10).await;
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].event_type, "approval.decision_recorded");
}

pub async fn dead_letters_are_listed_newest_first_up_to_the_limit(store: &Store) {
    let fixture = Fixture::default();
    for _ in 0..3 {
        fixture.create_pending(store).await;
    }
    let now = fixture.now();
    let claimed = claim(store, now, 10).await;
    for (n, message) in claimed.iter().enumerate() {
        store
            .outbox
            .dead_letter(message.id, now, &format!("error {n}"))
            .await
            .unwrap();
    }

    let dead = store.outbox.dead_letters(None, 2).await.unwrap();

    let listed: Vec<_> = dead
        .iter()
        .map(|d| (d.message.id, d.error.as_str()))
        .collect();
    assert_eq!(
        listed,
        [(claimed[2].id, "error 2"), (claimed[1].id, "error 1")]
    );
}

pub async fn stats_count_pending_and_dead_messages(store: &Store) {
    let fixture = Fixture::default();
    assert_eq!(store.outbox.stats().await.unwrap(), []);
    for _ in 0..4 {
        fixture.create_pending(store).await;
    }
    let now = fixture.now();
    let claimed = claim(store, now, 3).await;
    store
        .outbox
        .mark_delivered(&[claimed[0].id], now)
        .await
        .unwrap();
    store
        .outbox
        .dead_letter(claimed[1].id, now, "gone")
        .await
        .unwrap();
    store
        .outbox
        .reschedule(claimed[2].id, now + Duration::hours(1), "later")
        .await
        .unwrap();

    // Leased, rescheduled and untouched messages all count as pending.
    assert_eq!(
        store.outbox.stats().await.unwrap(),
        [SinkStats {
            sink: CHAT_SINK.into(),
            pending: 2,
            dead: 1
        }]
    );
}

/// Several relays claim at once from a full outbox: none may receive a message another one
/// holds, and together they must receive every message.
pub async fn concurrent_claimers_never_receive_the_same_message(store: &Store) {
    const MESSAGES: usize = 200;
    const CLAIMERS: usize = 4;
    const BATCH: u32 = 7;
    let fixture = Fixture::default();
    for _ in 0..MESSAGES {
        fixture.create_pending(store).await;
    }
    let now = fixture.now();
    let start = Arc::new(Barrier::new(CLAIMERS));
    let claimers: Vec<_> = (0..CLAIMERS)
        .map(|_| {
            let (outbox, start) = (store.outbox.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let mut received = Vec::new();
                loop {
                    let batch = outbox
                        .claim(CHAT_SINK, now, BATCH, Duration::hours(1))
                        .await
                        .unwrap();
                    if batch.is_empty() {
                        return received;
                    }
                    received.extend(batch.into_iter().map(|m| m.id));
                }
            })
        })
        .collect();

    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.unwrap());
    }
    let distinct: BTreeSet<_> = all.iter().copied().collect();
    assert_eq!(distinct.len(), all.len(), "a message was handed out twice");
    assert_eq!(all.len(), MESSAGES, "every message was handed out");
}

/// Several relays deliver concurrently, each message as soon as it can be claimed. No two
/// messages of one aggregate may ever be held at once, and each aggregate's messages must be
/// delivered in the order they were written.
pub async fn concurrent_relays_deliver_each_aggregate_in_order(store: &Store) {
    const REQUESTS: usize = 40;
    const RELAYS: usize = 4;
    let fixture = Fixture::default();
    for _ in 0..REQUESTS {
        approved_request(&fixture, store).await;
    }
    let now = fixture.now();
    // Aggregates a relay is delivering right now, and every delivery in the order it happened.
    let in_flight = Arc::new(Mutex::new(HashSet::<Uuid>::new()));
    let delivered = Arc::new(Mutex::new(Vec::<(Uuid, i64, String)>::new()));

    let relays: Vec<_> = (0..RELAYS)
        .map(|_| {
            let outbox = store.outbox.clone();
            let (in_flight, delivered) = (in_flight.clone(), delivered.clone());
            tokio::spawn(async move {
                while pending(outbox.as_ref(), CHAT_SINK).await > 0 {
                    let batch = outbox
                        .claim(CHAT_SINK, now, 5, Duration::hours(1))
                        .await
                        .unwrap();
                    if batch.is_empty() {
                        // The rest are held by other relays, or wait for their predecessors.
                        tokio::task::yield_now().await;
                        continue;
                    }
                    for message in batch {
                        let aggregate = message.aggregate_id;
                        assert!(
                            in_flight.lock().unwrap().insert(aggregate),
                            "two messages of aggregate {aggregate} were held at once"
                        );
                        delivered
                            .lock()
                            .unwrap()
                            .push((aggregate, message.id, message.event_type));
                        // Leave the aggregate before marking: its next message becomes
                        // claimable the moment the mark commits.
                        in_flight.lock().unwrap().remove(&aggregate);
                        outbox.mark_delivered(&[message.id], now).await.unwrap();
                    }
                }
            })
        })
        .collect();
    let all_relays = async {
        for relay in relays {
            relay.await.unwrap();
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), all_relays)
        .await
        .expect("the relays did not drain the outbox within a minute");

    let delivered = std::mem::take(&mut *delivered.lock().unwrap());
    assert_eq!(
        delivered.len(),
        REQUESTS * 3,
        "every message was delivered exactly once"
    );
    let mut by_aggregate: HashMap<Uuid, Vec<(i64, &str)>> = HashMap::new();
    for (aggregate, id, event_type) in delivered.iter() {
        by_aggregate
            .entry(*aggregate)
            .or_default()
            .push((*id, event_type));
    }
    assert_eq!(by_aggregate.len(), REQUESTS);
    for (aggregate, messages) in by_aggregate {
        let event_types: Vec<_> = messages.iter().map(|(_, t)| *t).collect();
        assert_eq!(
            event_types,
            [
                "approval.requested",
                "approval.decision_recorded",
                "approval.approved"
            ],
            "aggregate {aggregate} was delivered out of order"
        );
        assert!(messages.windows(2).all(|pair| pair[0].0 < pair[1].0));
    }
    assert_eq!(drain(store, now).await, []);
}

/// The two rows one sink's relay is about to finish, and the store's view of the other's.
pub async fn each_event_gets_a_row_for_every_sink_that_subscribes_to_it(store: &Store) {
    let fixture = Fixture::default();
    let approval = approved_request(&fixture, store).await;
    let now = fixture.now();

    let chat = super::fixtures::drain_sink(store, CHAT_SINK, now).await;
    let webhook = super::fixtures::drain_sink(store, WEBHOOK, now).await;

    let types = |rows: &[OutboxMessage]| -> Vec<String> {
        rows.iter().map(|m| m.event_type.clone()).collect()
    };
    assert_eq!(
        types(&chat),
        [
            "approval.requested",
            "approval.decision_recorded",
            "approval.approved"
        ]
    );
    assert_eq!(types(&webhook), ["approval.approved"]);
    assert!(chat.iter().all(|m| m.sink == CHAT_SINK));
    assert_eq!(webhook[0].sink, WEBHOOK);
    assert_eq!(webhook[0].aggregate_id, approval.id().as_uuid());
    assert_eq!(
        webhook[0].payload, chat[2].payload,
        "the same event, serialized once"
    );
    assert_ne!(webhook[0].id, chat[2].id, "a row of its own");
}

/// A sink that is down (its head rescheduled for much later) holds back only itself.
pub async fn a_sinks_rows_never_wait_for_another_sinks(store: &Store) {
    let fixture = Fixture::default();
    approved_request(&fixture, store).await;
    let now = fixture.now();
    let chat_head = claim(store, now, 10).await.remove(0);
    store
        .outbox
        .reschedule(chat_head.id, now + Duration::days(1), "Slack is down")
        .await
        .unwrap();

    let webhook = store.outbox.claim(WEBHOOK, now, 10, LEASE).await.unwrap();

    assert_eq!(
        webhook.len(),
        1,
        "the chat backlog does not hold the webhook back"
    );
    assert_eq!(webhook[0].event_type, "approval.approved");
    assert_eq!(
        claim(store, now, 10).await,
        [],
        "chat still waits for its head"
    );
}

pub async fn stats_are_counted_per_sink(store: &Store) {
    let fixture = Fixture::default();
    approved_request(&fixture, store).await;
    let now = fixture.now();
    let webhook = store.outbox.claim(WEBHOOK, now, 10, LEASE).await.unwrap();
    store
        .outbox
        .dead_letter(webhook[0].id, now, "410 Gone")
        .await
        .unwrap();

    assert_eq!(
        store.outbox.stats().await.unwrap(),
        [
            SinkStats {
                sink: CHAT_SINK.into(),
                pending: 3,
                dead: 0
            },
            SinkStats {
                sink: WEBHOOK.into(),
                pending: 0,
                dead: 1
            }
        ]
    );
    let dead = store
        .outbox
        .dead_letters(Some(WEBHOOK.into()), 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        store
            .outbox
            .dead_letters(Some(CHAT_SINK.into()), 10)
            .await
            .unwrap(),
        []
    );
}

/// The heartbeat: a leased row's lease moves on; a row that was finished, rescheduled or
/// released in the meantime is left alone, so a late heartbeat never holds back a retry.
pub async fn extend_moves_only_leases_still_held(store: &Store) {
    let fixture = Fixture::default();
    for _ in 0..3 {
        fixture.create_pending(store).await;
    }
    let now = fixture.now();
    let lease = Duration::seconds(15);
    let claimed = store.outbox.claim(CHAT_SINK, now, 10, lease).await.unwrap();
    let (held, rescheduled, released) = (claimed[0].id, claimed[1].id, claimed[2].id);
    store
        .outbox
        .reschedule(rescheduled, now, "503")
        .await
        .unwrap();
    store.outbox.release(&[released], now).await.unwrap();

    store
        .outbox
        .extend(&[held, rescheduled, released], now + Duration::minutes(10))
        .await
        .unwrap();

    let after_lease = now + lease;
    let again = ids(&claim(store, after_lease, 10).await);
    assert_eq!(
        again,
        [rescheduled, released],
        "the extended lease still holds"
    );
    for id in again {
        store
            .outbox
            .mark_delivered(&[id], after_lease)
            .await
            .unwrap();
    }
    let later = now + Duration::minutes(10);
    assert_eq!(ids(&claim(store, later, 10).await), [held]);
}

/// A rate-limited sink's rows go back in line, due when the pause ends, without an attempt.
pub async fn release_with_a_pause_makes_rows_due_only_after_it(store: &Store) {
    let fixture = Fixture::default();
    fixture.create_pending(store).await;
    let now = fixture.now();
    let claimed = claim(store, now, 10).await;
    let resume = now + Duration::seconds(30);

    store.outbox.release(&ids(&claimed), resume).await.unwrap();

    assert_eq!(
        claim(store, resume - Duration::microseconds(1), 10).await,
        []
    );
    let again = claim(store, resume, 10).await;
    assert_eq!(ids(&again), ids(&claimed));
    assert_eq!(again[0].attempts, 0, "a pause is not a failed attempt");
}

/// Re-driving dead letters by id, by sink, or all: they are due at once, with their attempts
/// reset and their retry budget counted from the re-drive; live rows are never touched.
pub async fn dead_letters_are_re_driven_by_id_by_sink_or_all(store: &Store) {
    let fixture = Fixture::default();
    for _ in 0..3 {
        approved_request(&fixture, store).await;
    }
    let now = fixture.now();
    let heads = claim(store, now, 10).await;
    for head in &heads {
        store
            .outbox
            .dead_letter(head.id, now, "channel_not_found")
            .await
            .unwrap();
    }
    let webhooks = store.outbox.claim(WEBHOOK, now, 10, LEASE).await.unwrap();
    for row in &webhooks {
        store
            .outbox
            .dead_letter(row.id, now, "410 Gone")
            .await
            .unwrap();
    }
    let later = now + Duration::hours(2);
    let retry = |selection| store.outbox.retry_dead_letters(selection, later);

    assert_eq!(
        retry(DeadLetterSelection::Ids(vec![heads[0].id, i64::MAX]))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        retry(DeadLetterSelection::Sink(WEBHOOK.into()))
            .await
            .unwrap(),
        3
    );
    assert_eq!(retry(DeadLetterSelection::All).await.unwrap(), 2);
    assert_eq!(
        retry(DeadLetterSelection::All).await.unwrap(),
        0,
        "nothing left to re-drive"
    );

    assert_eq!(store.outbox.dead_letters(None, 10).await.unwrap(), []);
    let webhook_again = store.outbox.claim(WEBHOOK, later, 10, LEASE).await.unwrap();
    assert_eq!(ids(&webhook_again), ids(&webhooks));
    assert!(
        webhook_again
            .iter()
            .all(|m| m.attempts == 0 && m.trying_since == later)
    );
    assert!(
        webhook_again.iter().all(|m| m.created_at == now),
        "the event keeps its time"
    );
    // Each re-driven chat head comes before the rest of its aggregate again.
    let chat_again = claim(store, later, 10).await;
    assert_eq!(ids(&chat_again), ids(&heads));
}

pub async fn purge_deletes_only_delivered_rows_finished_before_the_cutoff(store: &Store) {
    let fixture = Fixture::default();
    for _ in 0..4 {
        fixture.create_pending(store).await;
    }
    let now = fixture.now();
    let rows = ids(&claim(store, now, 10).await);
    let [dead, early, late, newest] = rows[..] else {
        panic!("four rows, got {rows:?}");
    };
    store.outbox.dead_letter(dead, now, "gone").await.unwrap();
    store.outbox.mark_delivered(&[early], now).await.unwrap();
    store.outbox.mark_delivered(&[newest], now).await.unwrap();
    store
        .outbox
        .mark_delivered(&[late], now + Duration::hours(2))
        .await
        .unwrap();
    let cutoff = now + Duration::hours(1);

    assert_eq!(store.outbox.purge_delivered(cutoff, 1).await.unwrap(), 1);
    assert_eq!(store.outbox.purge_delivered(cutoff, 10).await.unwrap(), 1);
    assert_eq!(store.outbox.purge_delivered(cutoff, 10).await.unwrap(), 0);

    // The dead letter and the row delivered after the cutoff are still there.
    assert_eq!(chat_counts(store).await, (0, 1));
    let listed = store.outbox.dead_letters(None, 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].message.id, dead);
    assert_eq!(
        store
            .outbox
            .purge_delivered(now + Duration::hours(3), 10)
            .await
            .unwrap(),
        1,
        "the late row goes once it is past the cutoff"
    );
    // The newest id was deleted; a new row still gets a larger one.
    fixture.create_pending(store).await;
    let next = claim(store, now, 10).await;
    assert_eq!(next.len(), 1);
    assert!(next[0].id > newest, "{} reuses a deleted id", next[0].id);
}
