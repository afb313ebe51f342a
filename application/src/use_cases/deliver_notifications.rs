//! The outbox relay: deliver stored events through a sink, at least once, in order.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::ports::{Clock, Outbox, OutboxMessage, RepositoryError, Sink, SinkError};

/// Tuning of the relay. The defaults suit Slack's rate limits and a 2-core instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayPolicy {
    /// Messages claimed per round.
    pub batch_size: u32,
    /// How long a claim is exclusive. Must exceed the time one batch can take
    /// (`batch_size` × the chat client's timeout), or another relay may deliver a message
    /// this one is still working on.
    pub lease: Duration,
    /// Attempts before a retryable failure is dead-lettered.
    pub max_attempts: i32,
    /// First retry delay; doubles per attempt.
    pub base_backoff: Duration,
    /// Upper bound of the computed delay (a platform's Retry-After may exceed it).
    pub max_backoff: Duration,
}

impl Default for RelayPolicy {
    fn default() -> Self {
        Self {
            batch_size: 10,
            lease: Duration::from_secs(300),
            max_attempts: 8,
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub claimed: u64,
    pub delivered: u64,
    pub retried: u64,
    pub dead_lettered: u64,
}

/// Running totals since start, for metrics.
#[derive(Debug, Default)]
struct Counters {
    delivered: AtomicU64,
    retried: AtomicU64,
    dead_lettered: AtomicU64,
}

#[derive(Clone)]
pub struct DeliverNotifications {
    outbox: Arc<dyn Outbox>,
    sink: Arc<dyn Sink>,
    clock: Arc<dyn Clock>,
    policy: RelayPolicy,
    counters: Arc<Counters>,
}

/// The fate of one message.
enum Fate {
    Delivered,
    Retry { after: Duration, reason: String },
    Dead { reason: String },
}

impl DeliverNotifications {
    pub fn new(
        outbox: Arc<dyn Outbox>,
        sink: Arc<dyn Sink>,
        clock: Arc<dyn Clock>,
        policy: RelayPolicy,
    ) -> Self {
        Self {
            outbox,
            sink,
            clock,
            policy,
            counters: Arc::default(),
        }
    }

    pub fn policy(&self) -> RelayPolicy {
        self.policy
    }

    /// Totals since start: delivered, retried, dead-lettered.
    pub fn totals(&self) -> DeliveryReport {
        DeliveryReport {
            claimed: 0,
            delivered: self.counters.delivered.load(Ordering::Relaxed),
            retried: self.counters.retried.load(Ordering::Relaxed),
            dead_lettered: self.counters.dead_lettered.load(Ordering::Relaxed),
        }
    }

    /// Claims one batch and delivers it. Returns what happened; `claimed == 0` means the
    /// outbox had nothing due, so the caller may sleep before the next round.
    ///
    /// # Errors
    /// A store failure stops the round. Messages already claimed keep their lease and become
    /// claimable again when it runs out, so nothing is lost.
    #[tracing::instrument(skip_all)]
    pub async fn execute(&self) -> Result<DeliveryReport, RepositoryError> {
        let lease = chrono::Duration::from_std(self.policy.lease).unwrap_or(chrono::Duration::MAX);
        let batch = self
            .outbox
            .claim(self.clock.now(), self.policy.batch_size, lease)
            .await?;
        let mut report = DeliveryReport {
            claimed: batch.len() as u64,
            ..DeliveryReport::default()
        };
        for message in batch {
            let fate = self.deliver(&message).await;
            let now = self.clock.now();
            match fate {
                Fate::Delivered => {
                    self.outbox.mark_delivered(message.id, now).await?;
                    report.delivered += 1;
                }
                Fate::Retry { after, reason }
                    if message.attempts + 1 < self.policy.max_attempts =>
                {
                    tracing::warn!(outbox_id = message.id, attempts = message.attempts + 1, %reason, retry_in = ?after, "delivery failed; will retry");
                    let at =
                        now + chrono::Duration::from_std(after).unwrap_or(chrono::Duration::MAX);
                    self.outbox.reschedule(message.id, at, &reason).await?;
                    report.retried += 1;
                }
                Fate::Retry { reason, .. } | Fate::Dead { reason } => {
                    tracing::error!(outbox_id = message.id, event_type = %message.event_type, %reason, "delivery failed for good; dead-lettered");
                    self.outbox.dead_letter(message.id, now, &reason).await?;
                    report.dead_lettered += 1;
                }
            }
        }
        self.counters
            .delivered
            .fetch_add(report.delivered, Ordering::Relaxed);
        self.counters
            .retried
            .fetch_add(report.retried, Ordering::Relaxed);
        self.counters
            .dead_lettered
            .fetch_add(report.dead_lettered, Ordering::Relaxed);
        Ok(report)
    }

    /// Ends the leases of messages this relay claimed but will not finish (shutdown).
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached; the leases then simply run out.
    pub async fn release(&self, ids: &[i64]) -> Result<(), RepositoryError> {
        self.outbox.release(ids).await
    }

    async fn deliver(&self, message: &OutboxMessage) -> Fate {
        match self.sink.deliver(message).await {
            Ok(()) => Fate::Delivered,
            Err(SinkError::RateLimited {
                reason,
                retry_after,
            }) => Fate::Retry {
                after: retry_after,
                reason,
            },
            Err(SinkError::Retryable {
                reason,
                retry_after,
            }) => Fate::Retry {
                after: retry_after.unwrap_or_else(|| self.backoff(message)),
                reason,
            },
            Err(SinkError::Permanent { reason }) => Fate::Dead { reason },
        }
    }

    /// Exponential backoff with "equal jitter": half the delay is fixed, half is spread by a
    /// hash of the message id and attempt, so retries of a burst do not arrive together. The
    /// jitter is deterministic, which keeps the relay testable with a fixed clock.
    fn backoff(&self, message: &OutboxMessage) -> Duration {
        let exponent = u32::try_from(message.attempts.clamp(0, 30)).unwrap_or(30);
        let full = self
            .policy
            .base_backoff
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(self.policy.max_backoff);
        let spread = mix(message.id as u64 ^ (u64::from(exponent) << 32)) % 1000;
        full / 2 + (full / 2).mul_f64(spread as f64 / 1000.0)
    }
}

/// SplitMix64's finalizer: a cheap, well-distributed hash of a 64-bit value.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use mockall::predicate::{always, eq};

    use super::*;
    use crate::ports::{MockClock, MockOutbox, MockSink};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    fn message(attempts: i32) -> OutboxMessage {
        OutboxMessage {
            id: 7,
            aggregate_type: "widget".into(),
            aggregate_id: uuid::Uuid::nil(),
            event_type: "widget.turned".into(),
            payload: serde_json::json!({}),
            attempts,
            created_at: now(),
        }
    }

    struct Fixture {
        outbox: MockOutbox,
        sink: MockSink,
    }

    impl Fixture {
        /// One claimable message and a fixed clock.
        fn new(claimed: OutboxMessage) -> Self {
            let mut outbox = MockOutbox::new();
            outbox
                .expect_claim()
                .times(1)
                .return_once(move |_, _, _| Ok(vec![claimed]));
            Self {
                outbox,
                sink: MockSink::new(),
            }
        }

        fn failing(claimed: OutboxMessage, error: SinkError) -> Self {
            let mut f = Self::new(claimed);
            f.sink.expect_deliver().return_once(move |_| Err(error));
            f
        }

        fn relay(self) -> DeliverNotifications {
            let mut clock = MockClock::new();
            clock.expect_now().return_const(now());
            DeliverNotifications::new(
                Arc::new(self.outbox),
                Arc::new(self.sink),
                Arc::new(clock),
                RelayPolicy::default(),
            )
        }
    }

    #[tokio::test]
    async fn a_delivered_message_is_marked_delivered() {
        let mut f = Fixture::new(message(0));
        f.sink.expect_deliver().times(1).returning(|_| Ok(()));
        f.outbox
            .expect_mark_delivered()
            .with(eq(7), always())
            .times(1)
            .returning(|_, _| Ok(()));
        let report = f.relay().execute().await.unwrap();
        assert_eq!(report.delivered, 1);
    }

    #[tokio::test]
    async fn a_rate_limit_is_retried_after_the_platforms_own_delay() {
        let mut f = Fixture::failing(
            message(0),
            SinkError::RateLimited {
                reason: "ratelimited".into(),
                retry_after: Duration::from_secs(30),
            },
        );
        f.outbox
            .expect_reschedule()
            .with(
                eq(7),
                eq(now() + chrono::Duration::seconds(30)),
                eq("ratelimited"),
            )
            .times(1)
            .returning(|_, _, _| Ok(()));
        let report = f.relay().execute().await.unwrap();
        assert_eq!(report.retried, 1);
    }

    #[tokio::test]
    async fn without_a_hint_the_delay_grows_exponentially_with_jitter() {
        let mut f = Fixture::failing(
            message(3),
            SinkError::Retryable {
                reason: "HTTP 503".into(),
                retry_after: None,
            },
        );
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
    async fn the_last_allowed_attempt_dead_letters_instead_of_retrying() {
        let attempts = RelayPolicy::default().max_attempts - 1;
        let mut f = Fixture::failing(
            message(attempts),
            SinkError::Retryable {
                reason: "HTTP 500".into(),
                retry_after: None,
            },
        );
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
        let mut f = Fixture::failing(
            message(0),
            SinkError::Permanent {
                reason: "channel_not_found".into(),
            },
        );
        f.outbox
            .expect_dead_letter()
            .times(1)
            .returning(|_, _, _| Ok(()));
        let relay = f.relay();
        relay.execute().await.unwrap();
        assert_eq!(relay.totals().dead_lettered, 1);
    }
}
