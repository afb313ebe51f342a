//! The outbox relay for one sink: hand stored events to the sink, at least once, in order
//! per aggregate, and decide what a failure means.
//!
//! One [`DeliverNotifications`] exists per registered [`Sink`]; the composition root runs a
//! loop around each (`bin/src/tasks.rs`), so sinks never wait on each other. A round is
//! [`claim`](DeliverNotifications::claim) then [`deliver`](DeliverNotifications::deliver);
//! the loop keeps the batch's short lease alive with
//! [`extend`](DeliverNotifications::extend) while the delivery runs, so a crashed relay's
//! rows are taken over within one lease instead of waiting out a long one.
//!
//! What a failure means:
//! - **rate limited** — the sink is paused for the destination's Retry-After; the message
//!   and the rest of the batch go back in line without counting an attempt;
//! - **retryable** — the message is tried again after the destination's hint or an
//!   exponential backoff, for as long as the sink's retry budget (a time span) lasts;
//! - **permanent**, or the budget spent — the message is dead-lettered, which no longer holds
//!   up its aggregate; an operator can re-drive it (`<binary> outbox retry`).
//!
//! A sink whose receivers are many and independent (the requesters' callback URLs) runs in
//! [`lanes`](RelayPolicy::lanes): the loop hands each claimed message to one of several
//! workers, chosen by a stable hash of its aggregate ([`RelayPolicy::lane`]), and each
//! worker delivers its messages one at a time with [`deliver_one`](DeliverNotifications::deliver_one).
//! A receiver that hangs until the timeout then holds only its own lane.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::join_all;

use crate::ports::{Clock, Outbox, OutboxMessage, RepositoryError, Sink, SinkError};

/// Tuning of one sink's relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayPolicy {
    /// Messages claimed per round.
    pub batch_size: u32,
    /// Messages of one batch delivered at the same time. A batch holds at most one message
    /// per aggregate, so this never reorders an aggregate's events.
    pub concurrency: usize,
    /// How long a claim is exclusive without a heartbeat. Short, so that a crashed relay's
    /// messages are picked up by another within about this long; the loop extends it every
    /// third of it while a batch is in flight.
    pub lease: Duration,
    /// How long a message is retried, counted from its event (or from its re-drive), before
    /// it is dead-lettered.
    pub retry_budget: Duration,
    /// First retry delay; doubles per attempt.
    pub base_backoff: Duration,
    /// Upper bound of the computed delay (a destination's own hint may exceed it).
    pub max_backoff: Duration,
    /// Independent workers delivering this sink's messages, each message to the lane of its
    /// aggregate. `1` (a chat platform: one destination, whose limits are shared) delivers
    /// batch by batch. With more, `batch_size` also bounds each lane's queue, a lane sends
    /// one message at a time (`concurrency` is not used), and a rate limit pauses its lane.
    pub lanes: usize,
}

impl Default for RelayPolicy {
    /// Suits a chat platform: retries within seconds at first, at most every five minutes
    /// later, for a day — longer than a typical platform incident. Sixteen calls overlap,
    /// because a platform takes tens of milliseconds per call and a one-at-a-time relay
    /// would wait out each; a platform that finds that too fast answers with a rate limit,
    /// which pauses the sink and sends one probe per pause.
    fn default() -> Self {
        Self {
            batch_size: 32,
            concurrency: 16,
            lease: Duration::from_secs(15),
            retry_budget: Duration::from_secs(24 * 60 * 60),
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            lanes: 1,
        }
    }
}

impl RelayPolicy {
    /// The lane of an aggregate's messages: the same for every message of one aggregate,
    /// so they stay in order, and spread evenly over the lanes.
    pub fn lane(&self, aggregate_id: uuid::Uuid) -> usize {
        let (high, low) = aggregate_id.as_u64_pair();
        let lanes = self.lanes.max(1) as u64;
        usize::try_from(mix(high ^ mix(low)) % lanes).unwrap_or(0)
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub claimed: u64,
    pub delivered: u64,
    pub retried: u64,
    pub dead_lettered: u64,
    /// Set when the sink asked to slow down: the loop waits until then before claiming again.
    pub paused_until: Option<DateTime<Utc>>,
}

/// Messages leased by one [`claim`](DeliverNotifications::claim).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    messages: Vec<OutboxMessage>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    fn ids(&self) -> Vec<i64> {
        self.messages.iter().map(|message| message.id).collect()
    }

    /// The leased messages, for a loop that hands them out one by one (lanes).
    pub fn into_messages(self) -> Vec<OutboxMessage> {
        self.messages
    }
}

/// The fate of one message.
enum Fate {
    Delivered,
    Retry { after: Duration, reason: String },
    Dead { reason: String },
    RateLimited { after: Duration, reason: String },
}

/// The relay of one sink.
#[derive(Clone)]
pub struct DeliverNotifications {
    outbox: Arc<dyn Outbox>,
    sink: Arc<dyn Sink>,
    clock: Arc<dyn Clock>,
    policy: RelayPolicy,
    /// Set by a rate limit, cleared by the next call that is not rate limited. While set,
    /// a batch starts with one message alone, a probe, so a sink that is still limited gets
    /// one call per pause rather than `concurrency` of them.
    rate_limited: Arc<AtomicBool>,
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
            rate_limited: Arc::default(),
        }
    }

    pub fn policy(&self) -> RelayPolicy {
        self.policy
    }

    /// The name of the sink this relay feeds.
    pub fn sink(&self) -> &'static str {
        self.sink.name()
    }

    /// Leases the next batch of this sink's due messages.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached; nothing was leased.
    #[tracing::instrument(skip_all, fields(sink = self.sink.name()))]
    pub async fn claim(&self) -> Result<Batch, RepositoryError> {
        let messages = self
            .outbox
            .claim(
                self.sink.name(),
                self.clock.now(),
                self.policy.batch_size,
                chrono_duration(self.policy.lease),
            )
            .await?;
        Ok(Batch { messages })
    }

    /// Keeps the batch's lease alive: the heartbeat the loop sends while
    /// [`deliver`](Self::deliver) runs.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached; the lease then runs out as usual.
    pub async fn extend(&self, batch: &Batch) -> Result<(), RepositoryError> {
        if batch.is_empty() {
            return Ok(());
        }
        let until = later(self.clock.now(), self.policy.lease);
        self.outbox.extend(&batch.ids(), until).await
    }

    /// Delivers a claimed batch, `concurrency` messages at a time, and records each
    /// message's fate: the deliveries of each group in one write. A rate limit stops the
    /// batch: what was not yet sent goes back in line, due when the pause ends.
    ///
    /// # Errors
    /// A store failure stops the round. Messages whose fate was not recorded keep their
    /// lease and become claimable again when it runs out, so nothing is lost.
    #[tracing::instrument(skip_all, fields(sink = self.sink.name(), claimed = batch.len()))]
    pub async fn deliver(&self, batch: &Batch) -> Result<DeliveryReport, RepositoryError> {
        let mut report = DeliveryReport {
            claimed: batch.len() as u64,
            ..DeliveryReport::default()
        };
        let mut messages = batch.messages.iter().peekable();
        while messages.peek().is_some() {
            let size = if self.rate_limited.load(Ordering::Relaxed) {
                1
            } else {
                self.policy.concurrency.max(1)
            };
            let chunk: Vec<&OutboxMessage> = messages.by_ref().take(size).collect();
            let fates = join_all(chunk.iter().map(|message| self.attempt(message))).await;
            let mut delivered = Vec::with_capacity(chunk.len());
            for (message, fate) in chunk.into_iter().zip(fates) {
                match fate {
                    Fate::Delivered => delivered.push(message.id),
                    failed => self.record(message, failed, &mut report).await?,
                }
            }
            self.mark_delivered(&delivered, &mut report).await?;
            if let Some(until) = report.paused_until {
                let untouched: Vec<i64> = messages.by_ref().map(|message| message.id).collect();
                if !untouched.is_empty() {
                    self.outbox.release(&untouched, until).await?;
                }
            }
        }
        Ok(report)
    }

    /// Claims one batch and delivers it, without a heartbeat: for callers (tests, a one-off
    /// drain) whose batches finish well within one lease.
    ///
    /// # Errors
    /// As for [`claim`](Self::claim) and [`deliver`](Self::deliver).
    pub async fn execute(&self) -> Result<DeliveryReport, RepositoryError> {
        let batch = self.claim().await?;
        self.deliver(&batch).await
    }

    /// Delivers one claimed message and records its fate: a lane's unit of work. A rate
    /// limit shows as `paused_until`, for the lane to wait out.
    ///
    /// # Errors
    /// A store failure recording the fate; the message's lease then runs out as usual.
    #[tracing::instrument(skip_all, fields(sink = self.sink.name(), outbox_id = message.id))]
    pub async fn deliver_one(
        &self,
        message: &OutboxMessage,
    ) -> Result<DeliveryReport, RepositoryError> {
        let mut report = DeliveryReport {
            claimed: 1,
            ..DeliveryReport::default()
        };
        let fate = self.attempt(message).await;
        self.record(message, fate, &mut report).await?;
        Ok(report)
    }

    /// Extends the leases of these messages (a lane loop's heartbeat).
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached; the leases then run out as usual.
    pub async fn extend_ids(&self, ids: &[i64]) -> Result<(), RepositoryError> {
        if ids.is_empty() {
            return Ok(());
        }
        let until = later(self.clock.now(), self.policy.lease);
        self.outbox.extend(ids, until).await
    }

    /// Ends the leases of these messages, due again now, without counting an attempt: for
    /// messages a lane cannot take yet, and at shutdown.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached; the leases then simply run out.
    pub async fn release_ids(&self, ids: &[i64]) -> Result<(), RepositoryError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.outbox.release(ids, self.clock.now()).await
    }

    /// Ends the leases of a batch this relay will not deliver (shutdown), without counting
    /// an attempt.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached; the leases then simply run out.
    pub async fn release(&self, batch: &Batch) -> Result<(), RepositoryError> {
        self.outbox.release(&batch.ids(), self.clock.now()).await
    }

    async fn attempt(&self, message: &OutboxMessage) -> Fate {
        let result = self.sink.deliver(message).await;
        let limited = matches!(result, Err(SinkError::RateLimited { .. }));
        self.rate_limited.store(limited, Ordering::Relaxed);
        match result {
            Ok(()) => Fate::Delivered,
            Err(SinkError::RateLimited {
                reason,
                retry_after,
            }) => Fate::RateLimited {
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

    async fn record(
        &self,
        message: &OutboxMessage,
        fate: Fate,
        report: &mut DeliveryReport,
    ) -> Result<(), RepositoryError> {
        let now = self.clock.now();
        let sink = self.sink.name();
        match fate {
            Fate::Delivered => self.mark_delivered(&[message.id], report).await?,
            Fate::RateLimited { after, reason } => {
                let until = later(now, after);
                tracing::warn!(sink, outbox_id = message.id, %reason, pause = ?after, "sink rate limited; pausing it");
                self.outbox.release(&[message.id], until).await?;
                report.paused_until = Some(report.paused_until.map_or(until, |u| u.max(until)));
            }
            Fate::Retry { after, reason } if self.within_budget(message, later(now, after)) => {
                tracing::warn!(sink, outbox_id = message.id, attempts = message.attempts + 1, %reason, retry_in = ?after, "delivery failed; will retry");
                self.outbox
                    .reschedule(message.id, later(now, after), &reason)
                    .await?;
                report.retried += 1;
            }
            Fate::Retry { reason, .. } | Fate::Dead { reason } => {
                tracing::error!(sink, outbox_id = message.id, event_type = %message.event_type, %reason, "delivery failed for good; dead-lettered");
                self.outbox.dead_letter(message.id, now, &reason).await?;
                report.dead_lettered += 1;
            }
        }
        Ok(())
    }

    /// Records these messages as delivered, in one write.
    async fn mark_delivered(
        &self,
        ids: &[i64],
        report: &mut DeliveryReport,
    ) -> Result<(), RepositoryError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.outbox.mark_delivered(ids, self.clock.now()).await?;
        report.delivered += ids.len() as u64;
        Ok(())
    }

    /// Whether a retry at `next_attempt` still falls inside the message's retry budget.
    fn within_budget(&self, message: &OutboxMessage, next_attempt: DateTime<Utc>) -> bool {
        next_attempt <= later(message.trying_since, self.policy.retry_budget)
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

/// `at + duration`; an absurd duration saturates instead of overflowing.
fn later(at: DateTime<Utc>, duration: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(duration)
        .ok()
        .and_then(|duration| at.checked_add_signed(duration))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A std duration as chrono's; an absurd one saturates instead of overflowing.
fn chrono_duration(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

/// SplitMix64's finalizer: a cheap, well-distributed hash of a 64-bit value.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests;
