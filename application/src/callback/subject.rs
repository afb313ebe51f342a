//! What a kind of aggregate offers the callback sink ([`CallbackSubject`]), and the registry
//! of them all ([`CallbackSubjects`]).

use std::sync::Arc;

use async_trait::async_trait;
use domain::{CallbackUrl, Identity};
use uuid::Uuid;

use crate::ports::RepositoryError;

/// One callback, as its aggregate describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackEvent {
    pub url: CallbackUrl,
    /// The API client that asked for the callback: its webhook secrets sign it.
    pub requester: Identity,
    /// The event's `data`: the aggregate as the receiver should see it.
    pub data: serde_json::Value,
}

/// Who is to be told about an aggregate's event.
#[derive(Debug, Clone, PartialEq)]
pub enum Recipient {
    /// Its requester gave no callback URL: nothing to send.
    Nobody,
    Requester(CallbackEvent),
}

/// One kind of aggregate as the callback sink sees it.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CallbackSubject: Send + Sync {
    /// The aggregate's outbox `aggregate_type`, e.g. `approval`.
    fn kind(&self) -> &'static str;

    /// The event types that settle the aggregate and call its requester back; they are the
    /// callbacks' `type`. The sink's route subscribes to exactly these.
    fn events(&self) -> &'static [&'static str];

    /// Whom to call back about aggregate `id`, and with what; `None` when it does not exist.
    ///
    /// # Errors
    /// The store's error: `Unavailable` (worth retrying), `Corrupt` (not).
    async fn recipient(&self, id: Uuid) -> Result<Option<Recipient>, RepositoryError>;
}

/// Every kind of aggregate that calls its requester back, in registration order.
#[derive(Clone, Default)]
pub struct CallbackSubjects(Vec<Arc<dyn CallbackSubject>>);

impl CallbackSubjects {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one kind of aggregate. Its kind must not repeat another's; debug builds (every
    /// test run) check it.
    #[must_use]
    pub fn with(mut self, subject: impl CallbackSubject + 'static) -> Self {
        debug_assert!(
            self.get(subject.kind()).is_none(),
            "{:?} is registered twice",
            subject.kind()
        );
        self.0.push(Arc::new(subject));
        self
    }

    /// The subject of this kind (an outbox `aggregate_type`).
    pub fn get(&self, kind: &str) -> Option<&dyn CallbackSubject> {
        self.0.iter().map(|s| s.as_ref()).find(|s| s.kind() == kind)
    }

    /// Every event type any subject calls back on.
    pub fn events(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().flat_map(|s| s.events().iter().copied())
    }
}
