use chrono::TimeZone;
use mockall::predicate::{always, eq};

use super::*;
use crate::ports::{MockClock, MockOutbox, MockSink};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn message(id: i64, attempts: i32) -> OutboxMessage {
    OutboxMessage {
        id,
        sink: "test".into(),
        aggregate_type: "thing".into(),
        aggregate_id: uuid::Uuid::from_u128(id as u128),
        event_type: "thing.happened".into(),
        payload: serde_json::json!({"type": "happened"}),
        attempts,
        created_at: now(),
        trying_since: now(),
    }
}

fn retryable(reason: &str, retry_after: Option<Duration>) -> SinkError {
    SinkError::Retryable {
        reason: reason.into(),
        retry_after,
    }
}

struct Fixture {
    outbox: MockOutbox,
    sink: MockSink,
    policy: RelayPolicy,
    clock: DateTime<Utc>,
}

impl Fixture {
    /// A relay for the sink `test` whose next claim returns `claimed`.
    fn new(claimed: Vec<OutboxMessage>) -> Self {
        let mut outbox = MockOutbox::new();
        outbox
            .expect_claim()
            .with(eq("test"), always(), always(), always())
            .times(1)
            .return_once(move |_, _, _, _| Ok(claimed));
        let mut sink = MockSink::new();
        sink.expect_name().return_const("test");
        Self {
            outbox,
            sink,
            policy: RelayPolicy::default(),
            clock: now(),
        }
    }

    fn relay(self) -> DeliverNotifications {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(self.clock);
        DeliverNotifications::new(
            Arc::new(self.outbox),
            Arc::new(self.sink),
            Arc::new(clock),
            self.policy,
        )
    }
}

#[tokio::test]
async fn a_delivered_message_is_marked_delivered() {
    let mut f = Fixture::new(vec![message(7, 0)]);
    f.sink.expect_deliver().times(1).returning(|_| Ok(()));
    f.outbox
        .expect_mark_delivered()
        .with(eq(vec![7]), eq(now()))
        .times(1)
        .returning(|_, _| Ok(()));

    let report = f.relay().execute().await.unwrap();

    assert_eq!((report.claimed, report.delivered), (1, 1));
}

#[tokio::test]
async fn a_retryable_failure_is_retried_after_the_destinations_own_delay() {
    let mut f = Fixture::new(vec![message(7, 0)]);
    f.sink
        .expect_deliver()
        .returning(|_| Err(retryable("HTTP 503", Some(Duration::from_secs(30)))));
    f.outbox
        .expect_reschedule()
        .with(
            eq(7),
            eq(now() + chrono::Duration::seconds(30)),
            eq("HTTP 503"),
        )
        .times(1)
        .returning(|_, _, _| Ok(()));

    let report = f.relay().execute().await.unwrap();

    assert_eq!(report.retried, 1);
}

#[tokio::test]
async fn without_a_hint_the_delay_grows_exponentially_with_jitter() {
    let mut f = Fixture::new(vec![message(7, 3)]);
    f.sink
        .expect_deliver()
        .returning(|_| Err(retryable("HTTP 503", None)));
    // base 1 s × 2^3 = 8 s: half fixed, half jittered → between 4 and 8 s.
    f.outbox
        .expect_reschedule()
        .withf(|_, at, _| {
            let delay = *at - now();
            delay >= chrono::Duration::seconds(4) && delay <= chrono::Duration::seconds(8)
        })
        .times(1)
        .returning(|_, _, _| Ok(()));

    f.relay().execute().await.unwrap();
}

#[tokio::test]
async fn the_computed_delay_never_exceeds_the_policys_maximum() {
    let mut f = Fixture::new(vec![message(7, 30)]);
    f.sink
        .expect_deliver()
        .returning(|_| Err(retryable("HTTP 500", None)));
    let max = chrono::Duration::from_std(f.policy.max_backoff).unwrap();
    f.outbox
        .expect_reschedule()
        .withf(move |_, at, _| *at - now() <= max)
        .times(1)
        .returning(|_, _, _| Ok(()));

    f.relay().execute().await.unwrap();
}

#[tokio::test]
async fn a_message_keeps_being_retried_for_the_whole_retry_budget_whatever_its_attempts() {
    let mut f = Fixture::new(vec![message(7, 500)]);
    // 23 hours after the event: inside the default 24-hour budget.
    f.clock = now() + chrono::Duration::hours(23);
    f.sink
        .expect_deliver()
        .returning(|_| Err(retryable("HTTP 500", None)));
    f.outbox.expect_dead_letter().never();
    f.outbox
        .expect_reschedule()
        .times(1)
        .returning(|_, _, _| Ok(()));

    f.relay().execute().await.unwrap();
}

#[tokio::test]
async fn a_retry_that_would_fall_after_the_budget_dead_letters_instead() {
    let mut f = Fixture::new(vec![message(7, 1)]);
    f.clock = now() + chrono::Duration::hours(24);
    f.sink
        .expect_deliver()
        .returning(|_| Err(retryable("HTTP 500", None)));
    f.outbox.expect_reschedule().never();
    f.outbox
        .expect_dead_letter()
        .with(eq(7), always(), eq("HTTP 500"))
        .times(1)
        .returning(|_, _, _| Ok(()));

    let report = f.relay().execute().await.unwrap();

    assert_eq!(report.dead_lettered, 1);
}

#[tokio::test]
async fn a_permanent_error_dead_letters_at_once() {
    let mut f = Fixture::new(vec![message(7, 0)]);
    f.sink.expect_deliver().returning(|_| {
        Err(SinkError::Permanent {
            reason: "channel_not_found".into(),
        })
    });
    f.outbox
        .expect_dead_letter()
        .with(eq(7), eq(now()), eq("channel_not_found"))
        .times(1)
        .returning(|_, _, _| Ok(()));

    let report = f.relay().execute().await.unwrap();

    assert_eq!(report.dead_lettered, 1);
}

#[tokio::test]
async fn a_rate_limit_pauses_the_sink_and_puts_the_rest_of_the_batch_back_without_an_attempt() {
    let batch: Vec<_> = (1..=6).map(|id| message(id, 0)).collect();
    let mut f = Fixture::new(batch);
    f.policy.concurrency = 2;
    // The first chunk (1, 2): 1 is delivered, 2 is rate limited; 3–6 are never sent.
    f.sink
        .expect_deliver()
        .withf(|m| m.id == 1)
        .times(1)
        .returning(|_| Ok(()));
    f.sink
        .expect_deliver()
        .withf(|m| m.id == 2)
        .times(1)
        .returning(|_| {
            Err(SinkError::RateLimited {
                reason: "ratelimited".into(),
                retry_after: Duration::from_secs(2),
            })
        });
    f.sink.expect_deliver().never();
    let resume = now() + chrono::Duration::seconds(2);
    f.outbox
        .expect_mark_delivered()
        .with(eq(vec![1]), always())
        .times(1)
        .returning(|_, _| Ok(()));
    f.outbox
        .expect_release()
        .with(eq(vec![2]), eq(resume))
        .times(1)
        .returning(|_, _| Ok(()));
    f.outbox
        .expect_release()
        .with(eq(vec![3, 4, 5, 6]), eq(resume))
        .times(1)
        .returning(|_, _| Ok(()));
    f.outbox.expect_reschedule().never();
    f.outbox.expect_dead_letter().never();

    let report = f.relay().execute().await.unwrap();

    assert_eq!(report.paused_until, Some(resume));
    assert_eq!((report.delivered, report.retried), (1, 0));
}

#[tokio::test]
async fn a_batch_is_delivered_in_chunks_of_the_policys_concurrency_each_recorded_at_once() {
    let batch: Vec<_> = (1..=5).map(|id| message(id, 0)).collect();
    let mut f = Fixture::new(batch);
    f.policy.concurrency = 2;
    f.sink.expect_deliver().times(5).returning(|_| Ok(()));
    for chunk in [vec![1, 2], vec![3, 4], vec![5]] {
        f.outbox
            .expect_mark_delivered()
            .with(eq(chunk), eq(now()))
            .times(1)
            .returning(|_, _| Ok(()));
    }

    let report = f.relay().execute().await.unwrap();

    assert_eq!(report.delivered, 5);
}

#[tokio::test]
async fn a_store_failure_stops_the_round_with_its_error() {
    let mut f = Fixture::new(vec![message(1, 0), message(2, 0)]);
    f.policy.concurrency = 1;
    f.sink.expect_deliver().times(1).returning(|_| Ok(()));
    f.outbox
        .expect_mark_delivered()
        .times(1)
        .returning(|_, _| Err(RepositoryError::Unavailable("down".into())));

    let result = f.relay().execute().await;

    assert_eq!(result, Err(RepositoryError::Unavailable("down".into())));
}

#[tokio::test]
async fn the_heartbeat_extends_the_batchs_lease_from_now() {
    let mut f = Fixture::new(vec![message(1, 0), message(2, 0)]);
    let lease = chrono::Duration::from_std(f.policy.lease).unwrap();
    f.outbox
        .expect_extend()
        .with(eq(vec![1, 2]), eq(now() + lease))
        .times(1)
        .returning(|_, _| Ok(()));
    let relay = f.relay();

    let batch = relay.claim().await.unwrap();
    relay.extend(&batch).await.unwrap();
}

#[tokio::test]
async fn after_a_rate_limit_the_next_batch_starts_with_a_single_probe() {
    let limited = || {
        Err(SinkError::RateLimited {
            reason: "ratelimited".into(),
            retry_after: Duration::from_secs(1),
        })
    };
    let mut outbox = MockOutbox::new();
    let mut round = 0;
    outbox.expect_claim().times(2).returning(move |_, _, _, _| {
        round += 1;
        Ok((1..=4).map(|id| message(id + 10 * round, 0)).collect())
    });
    outbox.expect_release().returning(|_, _| Ok(()));
    let mut sink = MockSink::new();
    sink.expect_name().return_const("test");
    // Round 1: a chunk of 4 goes out at once and is limited. Round 2: only the probe (21).
    sink.expect_deliver()
        .withf(|m| m.id < 20)
        .times(4)
        .returning(move |_| limited());
    sink.expect_deliver()
        .withf(|m| m.id == 21)
        .times(1)
        .returning(move |_| limited());
    let mut clock = MockClock::new();
    clock.expect_now().return_const(now());
    let relay = DeliverNotifications::new(
        Arc::new(outbox),
        Arc::new(sink),
        Arc::new(clock),
        RelayPolicy::default(),
    );

    relay.execute().await.unwrap();
    let second = relay.execute().await.unwrap();

    assert!(second.paused_until.is_some());
}

#[test]
fn an_aggregate_always_lands_in_the_same_lane_and_lanes_are_all_used() {
    let policy = RelayPolicy {
        lanes: 8,
        ..RelayPolicy::default()
    };
    let mut used = [0usize; 8];
    for n in 0..800u128 {
        let id = uuid::Uuid::from_u128(n << 64 | n);
        let lane = policy.lane(id);
        assert_eq!(lane, policy.lane(id));
        used[lane] += 1;
    }
    assert!(used.iter().all(|&count| count > 50), "{used:?}");
    let single = RelayPolicy::default();
    assert_eq!(single.lane(uuid::Uuid::max()), 0);
}

#[tokio::test]
async fn one_message_of_a_lane_is_delivered_and_its_fate_recorded_like_a_batchs() {
    let mut outbox = MockOutbox::new();
    outbox.expect_claim().never();
    let mut sink = MockSink::new();
    sink.expect_name().return_const("test");
    let mut f = Fixture {
        outbox,
        sink,
        policy: RelayPolicy::default(),
        clock: now(),
    };
    f.sink
        .expect_deliver()
        .times(1)
        .returning(|_| Err(retryable("HTTP 503", Some(Duration::from_secs(30)))));
    f.outbox
        .expect_reschedule()
        .with(
            eq(7),
            eq(now() + chrono::Duration::seconds(30)),
            eq("HTTP 503"),
        )
        .times(1)
        .returning(|_, _, _| Ok(()));

    let report = f.relay().deliver_one(&message(7, 0)).await.unwrap();

    assert_eq!((report.claimed, report.retried), (1, 1));
}
