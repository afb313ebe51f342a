//! The relay of a sink that runs in lanes (`RelayPolicy::lanes` above one): one loop claims,
//! and each message goes to the worker of its aggregate's lane, which delivers its messages
//! one at a time. A receiver that hangs until the timeout holds only its lane; the claim
//! loop and the other lanes go on.
//!
//! Every message handed out stays leased while it waits in a lane or is delivered: a
//! heartbeat extends the leases of all of them every third of the lease. A lane whose queue
//! is full takes no more; what the claim brought for it is released at once (no attempt
//! counted) and claimed again later. An aggregate's next message is not claimable while its
//! previous one is leased, so per-aggregate order holds as in the batch relay.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use application::ports::{Clock, OutboxMessage};
use application::use_cases::DeliverNotifications;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::RelayConfig;
use crate::service_metrics;

/// The messages handed out and not yet finished, whose leases the heartbeat keeps.
#[derive(Clone, Default)]
struct InFlight(Arc<Mutex<BTreeSet<i64>>>);

impl InFlight {
    fn with<T>(&self, f: impl FnOnce(&mut BTreeSet<i64>) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn ids(&self) -> Vec<i64> {
        self.with(|ids| ids.iter().copied().collect())
    }
}

/// Delivers one sink's messages in lanes until `shutdown` is cancelled. At shutdown each
/// lane finishes the message it is delivering and releases what is still queued.
pub(super) async fn relay_in_lanes(
    deliver: DeliverNotifications,
    config: RelayConfig,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) {
    let sink = deliver.sink();
    let policy = deliver.policy();
    tracing::info!(sink, lanes = policy.lanes, "outbox relay started in lanes");
    let in_flight = InFlight::default();
    let capacity = usize::try_from(policy.batch_size).unwrap_or(1).max(1);
    let mut workers = JoinSet::new();
    let mut queues = Vec::with_capacity(policy.lanes);
    for _ in 0..policy.lanes {
        let (queue, messages) = mpsc::channel(capacity);
        queues.push(queue);
        workers.spawn(lane(
            deliver.clone(),
            messages,
            in_flight.clone(),
            clock.clone(),
            shutdown.clone(),
        ));
    }
    // Runs until the lanes are done, through shutdown too: a lane finishing its message
    // still holds the lease.
    let heartbeat = tokio::spawn(heartbeat(deliver.clone(), in_flight.clone()));
    let mut failures = 0;
    while !shutdown.is_cancelled() {
        let pause = match deliver.claim().await {
            Ok(batch) => {
                failures = 0;
                let handed = hand_out(&deliver, &queues, &in_flight, batch.into_messages()).await;
                if handed > 0 {
                    continue;
                }
                config.idle_interval
            }
            Err(error) => {
                failures += 1;
                let pause = super::backoff(failures, config.idle_interval, config.max_backoff);
                tracing::warn!(sink, %error, failures, retry_in = ?pause, "outbox relay claim failed");
                pause
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
    drop(queues);
    while workers.join_next().await.is_some() {}
    heartbeat.abort();
    tracing::info!(sink, "outbox relay stopped");
}

/// Queues each message in its lane; releases those whose lane is full. Returns how many were
/// queued.
async fn hand_out(
    deliver: &DeliverNotifications,
    queues: &[mpsc::Sender<OutboxMessage>],
    in_flight: &InFlight,
    messages: Vec<OutboxMessage>,
) -> usize {
    let policy = deliver.policy();
    let mut handed = 0;
    let mut full = Vec::new();
    for message in messages {
        let id = message.id;
        in_flight.with(|ids| ids.insert(id));
        match queues[policy.lane(message.aggregate_id)].try_send(message) {
            Ok(()) => handed += 1,
            Err(_) => {
                in_flight.with(|ids| ids.remove(&id));
                full.push(id);
            }
        }
    }
    if let Err(error) = deliver.release_ids(&full).await {
        tracing::warn!(sink = deliver.sink(), %error, "could not release messages of a full lane; their leases run out");
    }
    handed
}

/// One lane: its messages one at a time, pausing for a rate limit it was given.
async fn lane(
    deliver: DeliverNotifications,
    mut messages: mpsc::Receiver<OutboxMessage>,
    in_flight: InFlight,
    clock: Arc<dyn Clock>,
    shutdown: CancellationToken,
) {
    let sink = deliver.sink();
    loop {
        let message = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            message = messages.recv() => match message {
                Some(message) => message,
                None => break,
            },
        };
        let report = deliver.deliver_one(&message).await;
        in_flight.with(|ids| ids.remove(&message.id));
        match report {
            Ok(report) => {
                service_metrics::record_relay_round(sink, &report);
                if let Some(until) = report.paused_until {
                    let pause = (until - clock.now()).to_std().unwrap_or_default();
                    tokio::select! {
                        () = shutdown.cancelled() => {}
                        () = tokio::time::sleep(pause) => {}
                    }
                }
            }
            Err(error) => {
                tracing::warn!(sink, outbox_id = message.id, %error, "could not record a delivery; its lease runs out");
            }
        }
    }
    // What is still queued was never tried: back in line at once.
    messages.close();
    let mut untouched = Vec::new();
    while let Ok(message) = messages.try_recv() {
        in_flight.with(|ids| ids.remove(&message.id));
        untouched.push(message.id);
    }
    if let Err(error) = deliver.release_ids(&untouched).await {
        tracing::warn!(sink, %error, "could not release queued messages at shutdown; their leases run out");
    }
}

/// Extends the leases of every message handed out, every third of the lease, until aborted.
async fn heartbeat(deliver: DeliverNotifications, in_flight: InFlight) {
    let every = (deliver.policy().lease / 3).max(Duration::from_millis(10));
    loop {
        tokio::time::sleep(every).await;
        if let Err(error) = deliver.extend_ids(&in_flight.ids()).await {
            tracing::warn!(sink = deliver.sink(), %error, "could not extend the leases of a lane relay");
        }
    }
}
