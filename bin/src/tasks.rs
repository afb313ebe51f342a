//! The background work beside the HTTP server: the outbox relay and the expiry sweeper.
//!
//! Both are thin loops around a use case. The use cases hold the rules (what to deliver,
//! what is overdue); these loops only decide *when* to run them and how to behave when the
//! store is down: log, back off, try again. Neither loop ever gives up, because a store
//! outage is temporary and a relay that stopped would silently stop every notification.

use std::time::Duration;

use application::use_cases::{DeliverNotifications, ExpireOverdue};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::config::RelayConfig;

/// Requests expired per store round trip by the sweeper.
const SWEEP_BATCH: u32 = 100;

/// Delivers outbox messages until `shutdown` is cancelled.
///
/// Rounds follow each other immediately while there is work, pause for `idle_interval` when
/// the outbox is empty, and back off exponentially (up to `max_backoff`) while the store
/// fails. Shutdown is only checked *between* rounds: a batch that was claimed is delivered
/// to the end, so a message is never posted to chat without being marked delivered.
pub async fn relay(
    deliver: DeliverNotifications,
    config: RelayConfig,
    shutdown: CancellationToken,
) {
    tracing::info!(
        batch_size = deliver.policy().batch_size,
        "outbox relay started"
    );
    let mut failures = 0;
    while !shutdown.is_cancelled() {
        let pause = match deliver.execute().await {
            Ok(report) if report.claimed > 0 => {
                failures = 0;
                tracing::debug!(
                    claimed = report.claimed,
                    delivered = report.delivered,
                    retried = report.retried,
                    dead_lettered = report.dead_lettered,
                    "outbox relay round"
                );
                continue;
            }
            Ok(_) => {
                failures = 0;
                config.idle_interval
            }
            Err(error) => {
                failures += 1;
                let pause = backoff(failures, config.idle_interval, config.max_backoff);
                tracing::warn!(%error, failures, retry_in = ?pause, "outbox relay round failed");
                pause
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
    tracing::info!("outbox relay stopped");
}

/// Expires overdue approval requests every `interval` until `shutdown` is cancelled.
///
/// The first sweep runs at once, catching up on what fell due while no instance was
/// running. Sweeping is safe on any number of instances at the same time (a request another
/// sweeper expired first is skipped), so every instance runs one.
pub async fn expiry_sweeper(
    expire: ExpireOverdue,
    interval: Duration,
    shutdown: CancellationToken,
) {
    tracing::info!(?interval, "expiry sweeper started");
    let mut ticks = tokio::time::interval(interval);
    // After a slow sweep, wait a full interval instead of sweeping again in a burst.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            _ = ticks.tick() => {}
        }
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
    tracing::info!("expiry sweeper stopped");
}

/// `base`, doubled for every failure after the first, capped at `max`.
pub fn backoff(failures: u32, base: Duration, max: Duration) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1));
    base.saturating_mul(factor).min(max)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use adapter_memory::{ManualClock, MemoryIdempotency, MemoryStore, SequentialIds};
    use application::UseCases;
    use application::ports::{ChatError, ChatGateway, MessageRef, RepositoryError};
    use application::use_cases::CreateApprovalInput;
    use async_trait::async_trait;
    use chrono::{Duration as Days, Utc};
    use domain::{ApprovalId, ApprovalRequest, Identity, Status};
    use tokio::sync::Notify;

    use super::*;
    use crate::{Adapters, Config, Persistence, build_with};

    /// A chat gateway that takes its time, and says when a post has started.
    #[derive(Default)]
    struct SlowChat {
        started: Notify,
        posted: AtomicUsize,
    }

    #[async_trait]
    impl ChatGateway for SlowChat {
        async fn post_approval(&self, approval: &ApprovalRequest) -> Result<MessageRef, ChatError> {
            self.started.notify_one();
            tokio::time::sleep(Duration::from_millis(200)).await;
            self.posted.fetch_add(1, Ordering::SeqCst);
            Ok(MessageRef {
                channel: "test".into(),
                message_id: approval.id().to_string(),
            })
        }

        async fn update_approval(
            &self,
            _message: &MessageRef,
            _approval: &ApprovalRequest,
        ) -> Result<(), ChatError> {
            Ok(())
        }
    }

    struct World {
        store: Arc<MemoryStore>,
        chat: Arc<SlowChat>,
        clock: Arc<ManualClock>,
        use_cases: UseCases,
    }

    fn world() -> World {
        let store = Arc::new(MemoryStore::new());
        let chat = Arc::new(SlowChat::default());
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let config = Config::from_env([("HEXAGATE_RELAY_IDLE_INTERVAL", "10ms")]).unwrap();
        let app = build_with(
            &config,
            Adapters {
                persistence: Persistence {
                    store: store.clone(),
                    idempotency: Arc::new(MemoryIdempotency::new()),
                },
                chat: chat.clone(),
                clock: clock.clone(),
                ids: Arc::new(SequentialIds::default()),
            },
        )
        .unwrap();
        World {
            store,
            chat,
            clock,
            use_cases: app.use_cases().clone(),
        }
    }

    async fn request_approval(world: &World) -> ApprovalId {
        let input = CreateApprovalInput {
            title: "Deploy v7".into(),
            destination: "C0123".into(),
            ..CreateApprovalInput::default()
        };
        let requester = Identity::parse("ci").unwrap();
        let approval = world
            .use_cases
            .create_approval
            .execute(requester, input)
            .await
            .unwrap();
        approval.id()
    }

    fn relay_config() -> RelayConfig {
        RelayConfig {
            batch_size: 10,
            idle_interval: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
        }
    }

    fn delivered(store: &MemoryStore) -> bool {
        store.outbox_messages().iter().all(|(_, done)| *done)
    }

    #[tokio::test]
    async fn the_relay_finishes_its_batch_before_it_stops() {
        let world = world();
        request_approval(&world).await;
        let shutdown = CancellationToken::new();
        let relay = tokio::spawn(relay(
            world.use_cases.deliver_notifications.clone(),
            relay_config(),
            shutdown.clone(),
        ));

        // Shutdown arrives while the message is being posted.
        world.chat.started.notified().await;
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), relay)
            .await
            .expect("the relay stops after its batch")
            .unwrap();

        assert_eq!(world.chat.posted.load(Ordering::SeqCst), 1);
        assert!(
            delivered(&world.store),
            "the posted message must be marked delivered, or it would be posted again"
        );
    }

    #[tokio::test]
    async fn the_relay_survives_store_errors_and_delivers_afterwards() {
        let world = world();
        request_approval(&world).await;
        world
            .store
            .fail_next(RepositoryError::Unavailable("database restarting".into()));
        let shutdown = CancellationToken::new();
        let relay = tokio::spawn(relay(
            world.use_cases.deliver_notifications.clone(),
            relay_config(),
            shutdown.clone(),
        ));

        tokio::time::timeout(Duration::from_secs(5), async {
            while !delivered(&world.store) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the message is delivered once the store is back");
        shutdown.cancel();
        relay.await.unwrap();
        assert_eq!(world.chat.posted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_sweeper_expires_overdue_requests_and_stops_on_shutdown() {
        let world = world();
        let id = request_approval(&world).await;
        world.clock.advance(Days::hours(25));
        let shutdown = CancellationToken::new();
        let sweeper = tokio::spawn(expiry_sweeper(
            world.use_cases.expire_overdue.clone(),
            Duration::from_millis(10),
            shutdown.clone(),
        ));

        tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let approval = world.use_cases.get_approval.execute(id).await.unwrap();
                if approval.status() == Status::Expired {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the overdue request is expired");
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), sweeper)
            .await
            .expect("the sweeper stops")
            .unwrap();
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let base = Duration::from_secs(1);
        let max = Duration::from_secs(30);
        let pauses: Vec<u64> = (1..=7).map(|n| backoff(n, base, max).as_secs()).collect();
        assert_eq!(pauses, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(backoff(u32::MAX, base, max), max);
    }
}
