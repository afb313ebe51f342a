//! The background work beside the HTTP server: the outbox relay and the expiry sweeper
//! (which also reminds approvers, and deletes what is kept only for a while: used
//! idempotency keys, delivered outbox rows).
//!
//! Both are thin loops around a use case or a port. The use cases hold the rules (what to
//! deliver, what is overdue); these loops only decide *when* to run them and how to behave
//! when the store is down: log, back off, try again. Neither loop ever gives up, because a
//! store outage is temporary and a relay that stopped would silently stop every
//! notification.

use std::sync::Arc;
use std::time::Duration;

use application::ports::{ApprovalRepository, Clock, IdempotencyStore, Outbox, RepositoryError};
use application::use_cases::{
    Batch, DeliverNotifications, DeliveryReport, ExpireOverdue, RemindApprovers,
};
use chrono::{DateTime, Utc};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::config::RelayConfig;
use crate::deadlines::DeadlineBell;
use crate::service_metrics;

/// Requests expired (or reminded) per store round trip by the sweeper.
const SWEEP_BATCH: u32 = 100;

/// How long the sweeper waits before it tries a deadline again that a sweep left due.
const DEADLINE_RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Delivered outbox rows deleted per statement: small enough that one delete holds its
/// locks (SQLite's write lock above all) only briefly, so writes in between are not held up.
const PURGE_BATCH: u32 = 1_000;

/// Delivers one sink's outbox messages until `shutdown` is cancelled.
///
/// Rounds follow each other immediately while there is work, pause for `idle_interval` when
/// nothing is due, wait out a pause the sink asked for (a rate limit), and back off
/// exponentially (up to `max_backoff`) while the store fails. While a batch is in flight a
/// heartbeat extends its lease every third of the lease, so the lease can be short and a
/// crashed relay's messages are taken over quickly. Shutdown is only checked *between*
/// rounds: a claimed batch is delivered to the end, so a message is never sent without its
/// fate being recorded.
///
/// A sink whose policy asks for lanes runs in lanes instead (`tasks/lanes.rs`).
pub async fn relay(
    deliver: DeliverNotifications,
    config: RelayConfig,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) {
    if deliver.policy().lanes > 1 {
        return lanes::relay_in_lanes(deliver, config, clock, shutdown).await;
    }
    let sink = deliver.sink();
    tracing::info!(
        sink,
        batch_size = deliver.policy().batch_size,
        "outbox relay started"
    );
    let mut failures = 0;
    while !shutdown.is_cancelled() {
        let pause = match relay_round(&deliver).await {
            Ok(report) => {
                failures = 0;
                if report.claimed > 0 {
                    tracing::debug!(
                        sink,
                        claimed = report.claimed,
                        delivered = report.delivered,
                        retried = report.retried,
                        dead_lettered = report.dead_lettered,
                        "outbox relay round"
                    );
                }
                match report.paused_until {
                    Some(until) => (until - clock.now()).to_std().unwrap_or_default(),
                    None if report.claimed > 0 => continue,
                    None => config.idle_interval,
                }
            }
            Err(error) => {
                failures += 1;
                let pause = backoff(failures, config.idle_interval, config.max_backoff);
                tracing::warn!(sink, %error, failures, retry_in = ?pause, "outbox relay round failed");
                pause
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
    tracing::info!(sink, "outbox relay stopped");
}

/// One round of the relay: claim a batch, deliver it while a heartbeat keeps its lease, then
/// count what happened in the relay metrics.
pub(crate) async fn relay_round(
    deliver: &DeliverNotifications,
) -> Result<DeliveryReport, RepositoryError> {
    let batch = deliver.claim().await?;
    let report = if batch.is_empty() {
        DeliveryReport::default()
    } else {
        with_heartbeat(deliver, &batch, deliver.deliver(&batch)).await?
    };
    service_metrics::record_relay_round(deliver.sink(), &report);
    Ok(report)
}

/// Runs `work` while extending `batch`'s lease every third of the lease. A failed heartbeat
/// is only logged: the lease then runs out, and at worst another relay delivers a message
/// again (at-least-once).
async fn with_heartbeat<T>(
    deliver: &DeliverNotifications,
    batch: &Batch,
    work: impl Future<Output = T>,
) -> T {
    let every = deliver.policy().lease / 3;
    let mut beats = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    beats.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tokio::pin!(work);
    loop {
        tokio::select! {
            biased;
            done = &mut work => return done,
            _ = beats.tick() => {
                if let Err(error) = deliver.extend(batch).await {
                    tracing::warn!(sink = deliver.sink(), %error, "could not extend the relay's lease");
                }
            }
        }
    }
}

/// What the expiry sweeper works on.
#[derive(Clone)]
pub struct Sweeps {
    /// Expires approval requests past their deadline.
    pub approvals: ExpireOverdue,
    /// Reminds approvers of pending requests that asked for it.
    pub reminders: RemindApprovers,
    /// Says when the next request expires or has a reminder due.
    pub deadlines: Arc<dyn ApprovalRepository>,
    /// Rung by a save of a request in this process whose deadline is sooner than the one
    /// the sweeper sleeps until.
    pub bell: Arc<DeadlineBell>,
    /// Holds the used `Idempotency-Key`s, each kept for the idempotency TTL.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// Holds the delivered outbox rows, each kept for `outbox_retention`.
    pub outbox: Arc<dyn Outbox>,
    pub outbox_retention: Duration,
    pub clock: Arc<dyn Clock>,
}

/// Expires overdue approval requests and sends due reminders at each request's own deadline,
/// and every `interval` also forgets idempotency keys past their time to live and deletes old
/// delivered outbox rows, until `shutdown` is cancelled.
///
/// Between sweeps it sleeps until the earliest deadline of a pending request, or until a
/// save rings [`Sweeps::bell`] (then it asks again), or the interval, whichever comes first:
/// an expired request's message is updated when it expires, and the interval only bounds
/// how late a deadline set by another instance is noticed. The first sweep runs at once,
/// catching up on what fell due while no instance was running. Sweeping is safe on any
/// number of instances at the same time (a request another sweeper expired or reminded first
/// is skipped, a key another sweeper deleted is simply gone), so every instance runs one.
pub async fn expiry_sweeper(sweeps: Sweeps, interval: Duration, shutdown: CancellationToken) {
    tracing::info!(?interval, "expiry sweeper started");
    let mut ticks = tokio::time::interval(interval);
    // After a slow sweep, wait a full interval instead of sweeping again in a burst.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut swept = false;
    loop {
        sweeps.bell.looking();
        let deadline = sweeps.bell.sleeping_until(next_deadline(&sweeps).await);
        let mut until_deadline =
            deadline.map(|at| (at - sweeps.clock.now()).to_std().unwrap_or(Duration::ZERO));
        if swept && until_deadline == Some(Duration::ZERO) {
            // Still due right after a sweep: the sweep failed (the store is down) or left
            // something it cannot settle. Pause instead of spinning on it.
            until_deadline = Some(DEADLINE_RETRY_PAUSE);
        }
        swept = true;
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            _ = ticks.tick() => {
                sweep_deadlines(&sweeps, &shutdown).await;
                forget_expired_idempotency_keys(&sweeps).await;
                purge_delivered_outbox_rows(&sweeps, &shutdown).await;
            }
            () = sleep_for(until_deadline) => sweep_deadlines(&sweeps, &shutdown).await,
            // Only a new look at the deadline: the loop asks again.
            () = sweeps.bell.rung() => swept = false,
        }
    }
    tracing::info!("expiry sweeper stopped");
}

/// The earliest deadline of a pending request; `None` when nothing is pending or the store
/// cannot say (the interval then wakes the sweeper).
async fn next_deadline(sweeps: &Sweeps) -> Option<DateTime<Utc>> {
    match sweeps.deadlines.next_deadline().await {
        Ok(deadline) => deadline,
        Err(error) => {
            tracing::warn!(%error, "could not read the next deadline; sweeping at the interval");
            None
        }
    }
}

async fn sleep_for(pause: Option<Duration>) {
    match pause {
        Some(pause) => tokio::time::sleep(pause).await,
        None => std::future::pending().await,
    }
}

/// Expiry first: a request past its deadline is expired, never warned.
async fn sweep_deadlines(sweeps: &Sweeps, shutdown: &CancellationToken) {
    expire_approvals(&sweeps.approvals, shutdown).await;
    remind_approvers(&sweeps.reminders, shutdown).await;
}

async fn expire_approvals(expire: &ExpireOverdue, shutdown: &CancellationToken) {
    // A full batch suggests more are waiting: keep going rather than wait an interval.
    loop {
        match expire.execute(SWEEP_BATCH).await {
            Ok(expired) if expired == SWEEP_BATCH as usize && !shutdown.is_cancelled() => {}
            Ok(_) => break,
            Err(error) => {
                tracing::warn!(%error, "expiry sweep failed; retrying at the next interval");
                break;
            }
        }
    }
}

async fn remind_approvers(remind: &RemindApprovers, shutdown: &CancellationToken) {
    loop {
        match remind.execute(SWEEP_BATCH).await {
            Ok(sent) if sent == SWEEP_BATCH as usize && !shutdown.is_cancelled() => {}
            Ok(_) => break,
            Err(error) => {
                tracing::warn!(%error, "reminder sweep failed; retrying at the next interval");
                break;
            }
        }
    }
}

/// Without this the idempotency table only grows: a record is never read after its TTL,
/// but nothing else deletes it. One indexed `DELETE` per interval keeps it to about one
/// TTL's worth of keys.
async fn forget_expired_idempotency_keys(sweeps: &Sweeps) {
    match sweeps.idempotency.purge_expired(sweeps.clock.now()).await {
        Ok(0) => {}
        Ok(purged) => tracing::debug!(purged, "forgot expired idempotency keys"),
        Err(error) => {
            tracing::warn!(%error, "idempotency key purge failed; retrying at the next interval");
        }
    }
}

/// Without this the outbox grows with every event the service ever raised. A delivered row
/// is never read again (consumers that deduplicate by id keep their own record), so after
/// the retention it goes, in batches until none is left; the ids of deleted rows are never
/// reused. Dead letters stay until an operator deals with them.
async fn purge_delivered_outbox_rows(sweeps: &Sweeps, shutdown: &CancellationToken) {
    let Some(before) = chrono::Duration::from_std(sweeps.outbox_retention)
        .ok()
        .and_then(|retention| sweeps.clock.now().checked_sub_signed(retention))
    else {
        return; // a retention longer than the calendar keeps everything
    };
    loop {
        match sweeps.outbox.purge_delivered(before, PURGE_BATCH).await {
            Ok(purged) => {
                service_metrics::record_outbox_purged(purged);
                if purged < u64::from(PURGE_BATCH) || shutdown.is_cancelled() {
                    break;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "outbox purge failed; retrying at the next interval");
                break;
            }
        }
    }
}

/// `base`, doubled for every failure after the first, capped at `max`.
pub fn backoff(failures: u32, base: Duration, max: Duration) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1));
    base.saturating_mul(factor).min(max)
}

mod lanes;

#[cfg(test)]
mod tests;
