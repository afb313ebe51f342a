//! Hearing that an aggregate changed, so a reader can wait for it instead of polling.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use uuid::Uuid;

use super::RepositoryError;

/// Announcements that an aggregate changed, and subscriptions to them.
///
/// An aggregate is named by its kind (the `aggregate_type` its outbox rows carry, such as a
/// repository's) and its id. A store that implements this port announces every save of an
/// aggregate it announces for after the one that created it (nobody can be waiting on an
/// aggregate before it exists), to every process that shares the store, once the save has
/// committed. A subscriber is told *that* something changed, never what: it reads the
/// aggregate again. So an extra wake-up is harmless, and a feed that may have missed
/// announcements wakes every subscriber rather than leave one waiting.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// Tells every subscriber of this aggregate, in every process sharing the store, that it
    /// changed. The stores announce their own saves; this is for changes made some other way.
    ///
    /// # Errors
    /// `Unavailable` when the announcement cannot reach the other processes (the store is
    /// down). Subscribers in this process may have been woken anyway.
    async fn announce(&self, kind: &str, id: Uuid) -> Result<(), RepositoryError>;

    /// A subscription that completes at the first change of this aggregate announced after
    /// this call. Subscribe *before* reading the state you will wait on, so a change between
    /// the read and the wait is not lost. Costs no store connection while it waits;
    /// dropping it unsubscribes.
    ///
    /// # Errors
    /// None: a feed that loses its source of announcements completes every subscription
    /// (the subscriber re-reads) rather than fail or leave it waiting on a change it
    /// cannot hear.
    fn subscribe(&self, kind: &str, id: Uuid) -> Subscription;
}

/// A wait for the next change of one aggregate: a future that completes when it changed.
pub struct Subscription(Pin<Box<dyn Future<Output = ()> + Send>>);

impl Subscription {
    /// Wraps the future that completes at the change.
    pub fn new(changed: impl Future<Output = ()> + Send + 'static) -> Self {
        Self(Box::pin(changed))
    }

    /// A subscription that completes at once, for a feed that knows it cannot tell.
    pub fn ready() -> Self {
        Self::new(std::future::ready(()))
    }
}

impl Future for Subscription {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Subscription")
    }
}
