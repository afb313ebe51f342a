//! # adapter-change-hub — who waits on which aggregate, in this process
//!
//! The stores implement the `ChangeFeed` port on top of a [`ChangeHub`]: a map from an
//! aggregate (its kind and id) to the subscribers waiting for it to change. The memory and
//! SQLite stores announce their own saves to it, since every writer of their data lives in
//! this process; the PostgreSQL store feeds it from `LISTEN`, so that a save on any instance
//! wakes the subscribers of every instance.
//!
//! Why this shape:
//!
//! - **A `watch` channel per watched aggregate**, created by its first subscriber and removed
//!   with its last, so an idle hub is an empty map and a thousand waiters on one request
//!   share one channel. A subscriber remembers the channel's version when it subscribed, so
//!   a change announced between subscribing and awaiting is not lost.
//! - **No task and no timer per subscriber.** Waiting is a future parked on the channel; an
//!   announcement wakes exactly the subscribers of that aggregate.
//! - [`ChangeHub::wake_all`] is for a feed that may have missed announcements (a dropped
//!   `LISTEN` connection): every subscriber re-reads, and none waits on a change it cannot hear.
//!
//! What does not belong here: any store or wire protocol, and any aggregate's name.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use application::ports::Subscription;
use tokio::sync::watch;
use uuid::Uuid;

/// The subscribers of every watched aggregate. Cloning shares the hub.
#[derive(Debug, Clone, Default)]
pub struct ChangeHub {
    watched: Arc<Watched>,
}

/// One channel per aggregate someone waits on, held weakly: the subscribers own it.
type Watched = Mutex<HashMap<Key, Weak<watch::Sender<()>>>>;

type Key = (Box<str>, Uuid);

impl ChangeHub {
    pub fn new() -> Self {
        Self::default()
    }

    /// A subscription that completes at the next [`announce`](Self::announce) of this
    /// aggregate (or [`wake_all`](Self::wake_all)) after this call.
    pub fn subscribe(&self, kind: &str, id: Uuid) -> Subscription {
        let key: Key = (kind.into(), id);
        let mut watched = self.lock();
        let channel = match watched.get(&key).and_then(Weak::upgrade) {
            Some(channel) => channel,
            None => {
                let channel = Arc::new(watch::Sender::new(()));
                watched.insert(key.clone(), Arc::downgrade(&channel));
                channel
            }
        };
        drop(watched);
        // Subscribing marks the current version as seen: only a later send wakes it.
        let mut receiver = channel.subscribe();
        let lease = Lease {
            hub: self.watched.clone(),
            key,
            channel,
        };
        Subscription::new(async move {
            // Fails only when the sender is gone, and the lease holds it.
            let _ = receiver.changed().await;
            drop(lease);
        })
    }

    /// Wakes every subscriber of this aggregate. Nobody waiting is not an error.
    pub fn announce(&self, kind: &str, id: Uuid) {
        // Sent under the lock, so no lease can be counting while we hold an extra handle.
        let watched = self.lock();
        if let Some(channel) = watched.get(&(kind.into(), id)).and_then(Weak::upgrade) {
            channel.send_replace(());
        }
    }

    /// Wakes every subscriber of every aggregate, for a feed that may have missed changes.
    pub fn wake_all(&self) {
        let watched = self.lock();
        for channel in watched.values().filter_map(Weak::upgrade) {
            channel.send_replace(());
        }
    }

    /// How many aggregates have subscribers right now.
    pub fn watched(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Weak<watch::Sender<()>>>> {
        // The map stays consistent even if a holder panicked: every update is one call.
        self.watched.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A subscriber's share of its aggregate's channel. The last one to go removes the entry.
struct Lease {
    hub: Arc<Watched>,
    key: Key,
    channel: Arc<watch::Sender<()>>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut watched = self.hub.lock().unwrap_or_else(PoisonError::into_inner);
        // Under the lock nobody can upgrade the entry, so a count of one means we are last.
        if Arc::strong_count(&self.channel) == 1 {
            watched.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const KIND: &str = "thing";

    async fn woken(subscription: Subscription) -> bool {
        tokio::time::timeout(Duration::from_secs(5), subscription)
            .await
            .is_ok()
    }

    async fn still_waiting(subscription: &mut Subscription) -> bool {
        tokio::time::timeout(Duration::from_millis(20), subscription)
            .await
            .is_err()
    }

    #[tokio::test]
    async fn an_announcement_wakes_the_subscribers_of_that_aggregate_only() {
        let hub = ChangeHub::new();
        let (one, other) = (Uuid::now_v7(), Uuid::now_v7());
        let first = hub.subscribe(KIND, one);
        let second = hub.subscribe(KIND, one);
        let mut elsewhere = hub.subscribe(KIND, other);
        hub.announce(KIND, one);
        assert!(woken(first).await);
        assert!(woken(second).await);
        assert!(still_waiting(&mut elsewhere).await);
    }

    #[tokio::test]
    async fn a_change_between_subscribing_and_awaiting_is_not_lost() {
        let hub = ChangeHub::new();
        let id = Uuid::now_v7();
        let subscription = hub.subscribe(KIND, id);
        hub.announce(KIND, id);
        assert!(woken(subscription).await);
    }

    #[tokio::test]
    async fn a_change_before_subscribing_does_not_wake() {
        let hub = ChangeHub::new();
        let id = Uuid::now_v7();
        let _earlier = hub.subscribe(KIND, id);
        hub.announce(KIND, id);
        let mut later = hub.subscribe(KIND, id);
        assert!(still_waiting(&mut later).await);
    }

    #[tokio::test]
    async fn wake_all_wakes_everyone() {
        let hub = ChangeHub::new();
        let first = hub.subscribe(KIND, Uuid::now_v7());
        let second = hub.subscribe("other", Uuid::now_v7());
        hub.wake_all();
        assert!(woken(first).await);
        assert!(woken(second).await);
    }

    #[tokio::test]
    async fn the_last_subscriber_to_leave_removes_the_entry() {
        let hub = ChangeHub::new();
        let id = Uuid::now_v7();
        let first = hub.subscribe(KIND, id);
        let second = hub.subscribe(KIND, id);
        assert_eq!(hub.watched(), 1);
        drop(first);
        assert_eq!(hub.watched(), 1);
        drop(second);
        assert_eq!(hub.watched(), 0);
    }
}
