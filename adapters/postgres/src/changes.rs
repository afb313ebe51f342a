//! `ChangeFeed` on PostgreSQL: `NOTIFY` in the save's transaction, one `LISTEN` per process.
//!
//! A save calls [`notify`] inside its transaction. PostgreSQL delivers a notification only
//! when its transaction commits, and never for one that rolls back, so a notification is sent
//! exactly when a change becomes visible, to every instance on the database.
//!
//! Each process holds one listening connection, of its own (outside the store's pool, so
//! waiters never hold or wait for a pooled connection). Its task feeds every notification to
//! the in-process [`ChangeHub`], which wakes the subscribers of that aggregate. The task
//! starts with the first subscription. Whenever it (re)connects it wakes every subscriber,
//! because notifications sent while it was not listening are gone for good: each subscriber
//! re-reads and waits again, so none waits on a change it missed. A listener that hears
//! nothing for [`KEEPALIVE`] pings its connection, so a connection that died silently is
//! noticed rather than waited on forever; reconnecting backs off exponentially with jitter.

use std::fmt;
use std::sync::{Arc, Once};
use std::time::Duration;

use adapter_change_hub::ChangeHub;
use application::ports::{ChangeFeed, RepositoryError, Subscription};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{Executor, PgExecutor, PgPool};
use uuid::Uuid;

use crate::PostgresStore;
use crate::errors::translate;

/// The channel every instance listens on. A payload is `<kind>:<id>`.
const CHANNEL: &str = "aggregate_changes";

/// How long the listener waits in silence before it checks that its connection is alive.
const KEEPALIVE: Duration = Duration::from_secs(30);

/// How long a ping may take before the connection counts as dead.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// The first pause before reconnecting, and the longest.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(10));

/// This process's side of the feed: the hub, and what the listener connects with.
pub(crate) struct Changes {
    hub: ChangeHub,
    options: PgConnectOptions,
    listening: Once,
}

impl Changes {
    /// The feed of a store on `pool`; its listener connects as the pool does.
    pub(crate) fn of(pool: &PgPool) -> Arc<Self> {
        Arc::new(Self {
            hub: ChangeHub::new(),
            options: (*pool.connect_options()).clone(),
            listening: Once::new(),
        })
    }
}

/// By hand: the connect options hold the database password.
impl fmt::Debug for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Changes")
            .field("hub", &self.hub)
            .finish_non_exhaustive()
    }
}

/// Announces that the aggregate changed. Run in a transaction, the notification is sent to
/// every instance if and when it commits.
pub(crate) async fn notify(
    executor: impl PgExecutor<'_>,
    kind: &str,
    id: Uuid,
) -> Result<(), RepositoryError> {
    let payload = format!("{kind}:{id}");
    // `SELECT FROM`: pg_notify returns `void`, a type no Rust type decodes.
    sqlx::query!("SELECT FROM pg_notify($1, $2)", CHANNEL, payload)
        .execute(executor)
        .await
        .map_err(translate)?;
    Ok(())
}

#[async_trait]
impl ChangeFeed for PostgresStore {
    async fn announce(&self, kind: &str, id: Uuid) -> Result<(), RepositoryError> {
        notify(&self.pool, kind, id).await
    }

    fn subscribe(&self, kind: &str, id: Uuid) -> Subscription {
        let subscription = self.changes.hub.subscribe(kind, id);
        // The first subscription starts the listener; it wakes this one once it listens.
        self.changes.listening.call_once(|| {
            tokio::spawn(listen(
                self.changes.hub.clone(),
                self.changes.options.clone(),
            ));
        });
        subscription
    }
}

/// Feeds the hub from `LISTEN` for as long as the process runs, reconnecting when the
/// connection is lost.
async fn listen(hub: ChangeHub, options: PgConnectOptions) {
    // A pool of one, only so that `PgListener` can reconnect by itself.
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_lazy_with(options);
    let mut pause = BACKOFF.0;
    loop {
        match listen_once(&hub, &pool).await {
            Ok(()) => pause = BACKOFF.0,
            Err(error) => {
                tracing::warn!(%error, retry_in = ?pause, "change feed: listening failed; long-polls end at their timeout meanwhile");
            }
        }
        // Whatever was missed while not listening, every waiter re-reads.
        hub.wake_all();
        tokio::time::sleep(jittered(pause)).await;
        pause = (pause * 2).min(BACKOFF.1);
    }
}

/// Listens until the connection fails. `Ok` when it had been listening (so the next attempt
/// starts from the shortest pause), `Err` when it never got that far.
async fn listen_once(hub: &ChangeHub, pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    tracing::debug!(channel = CHANNEL, "change feed: listening");
    // Listening now; anything committed before is in the database for a re-read.
    hub.wake_all();
    loop {
        match tokio::time::timeout(KEEPALIVE, listener.try_recv()).await {
            Ok(Ok(Some(notification))) => dispatch(hub, notification.payload()),
            // The connection dropped and `PgListener` reconnected and listens again.
            Ok(Ok(None)) => {
                tracing::info!("change feed: reconnected");
                hub.wake_all();
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "change feed: the listening connection failed");
                return Ok(());
            }
            Err(_silence) => {
                let ping = tokio::time::timeout(PING_TIMEOUT, listener.execute("SELECT 1"));
                if !matches!(ping.await, Ok(Ok(_))) {
                    tracing::warn!("change feed: the listening connection stopped answering");
                    return Ok(());
                }
            }
        }
    }
}

/// Wakes the subscribers a payload names. One this version cannot read wakes everyone,
/// which is always safe.
fn dispatch(hub: &ChangeHub, payload: &str) {
    match payload
        .rsplit_once(':')
        .and_then(|(kind, id)| Some((kind, Uuid::parse_str(id).ok()?)))
    {
        Some((kind, id)) => hub.announce(kind, id),
        None => {
            tracing::warn!(
                payload,
                "change feed: unreadable notification; waking every waiter"
            );
            hub.wake_all();
        }
    }
}

/// "Equal jitter": half of `pause` fixed, half spread by the clock's nanoseconds, so
/// instances that lost the database together do not reconnect in lockstep. Spread is all
/// it needs, not randomness.
fn jittered(pause: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    pause / 2 + (pause / 2).mul_f64(f64::from(nanos % 1_000) / 1_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_notification_wakes_the_subscribers_it_names() {
        let hub = ChangeHub::new();
        let id = Uuid::now_v7();
        let subscription = hub.subscribe("approval", id);
        dispatch(&hub, &format!("approval:{id}"));
        subscription.await;
    }

    #[tokio::test]
    async fn an_unreadable_notification_wakes_everyone() {
        let hub = ChangeHub::new();
        let subscription = hub.subscribe("approval", Uuid::now_v7());
        dispatch(&hub, "garbage");
        subscription.await;
    }
}
