//! The transactional outbox: events waiting to be delivered, one row per (event, sink).
//!
//! Rows are *written* only by repository saves, in the same transaction as the state they
//! describe ([`NewOutboxMessage::from_events`] builds them, [`DeliveryRoutes`] says which
//! sinks get which event). The [`Outbox`] port is the relay's side: it leases, finishes,
//! re-drives and counts them, always for one sink at a time, so every sink has its own
//! order, retries, dead letters and pace.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use domain::DomainEvent;
use uuid::Uuid;

use super::RepositoryError;

/// One stored (event, sink) pair, as the relay and the sink see it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    /// Increasing in insertion order; the delivery order within one aggregate and sink.
    pub id: i64,
    /// The [`Sink`](super::Sink) this row is for.
    pub sink: String,
    /// The aggregate's kind, as its repository names it (e.g. the prefix of `event_type`).
    pub aggregate_type: String,
    pub aggregate_id: Uuid,
    /// The event's stable dotted name (`<aggregate>.<event>`).
    pub event_type: String,
    /// The serialized domain event.
    pub payload: serde_json::Value,
    /// Delivery attempts that already failed.
    pub attempts: i32,
    /// When the event happened.
    pub created_at: DateTime<Utc>,
    /// Since when the relay has been trying this row: the event's time, or the time an
    /// operator re-drove it. The retry budget counts from here.
    pub trying_since: DateTime<Utc>,
}

/// Which events a sink takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSelection {
    /// Every event of every aggregate.
    All,
    /// Only these event types (`<aggregate>.<event>`).
    Only(&'static [&'static str]),
}

impl EventSelection {
    fn contains(self, event_type: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(types) => types.contains(&event_type),
        }
    }
}

/// One sink and the events it subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub sink: &'static str,
    pub events: EventSelection,
}

/// Which sinks get which events: the fan-out, decided when an event is stored. The
/// composition root builds it from the sinks it registers and hands it to the store.
///
/// Routing at write time is what gives each (event, sink) pair a row of its own. A sink
/// registered later receives the events written from then on; rows for a sink that is no
/// longer registered wait (visible in the per-sink pending count) until it comes back or an
/// operator removes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRoutes {
    routes: Arc<[Route]>,
}

impl Default for DeliveryRoutes {
    /// Every event to the [chat sink](super::CHAT_SINK): the routing of a service that has
    /// no other sink, and what every store starts with.
    fn default() -> Self {
        Self::every_event_to(super::CHAT_SINK)
    }
}

impl DeliveryRoutes {
    /// A sink named twice is kept once (the first route wins), so an event can never be
    /// delivered to one sink twice.
    pub fn new(routes: impl IntoIterator<Item = Route>) -> Self {
        let mut unique: Vec<Route> = Vec::new();
        for route in routes {
            if !unique.iter().any(|known| known.sink == route.sink) {
                unique.push(route);
            }
        }
        Self {
            routes: unique.into(),
        }
    }

    /// The sinks that subscribe to `event_type`, in registration order.
    pub fn sinks_for<'a>(&'a self, event_type: &'a str) -> impl Iterator<Item = &'static str> + 'a {
        self.routes
            .iter()
            .filter(move |route| route.events.contains(event_type))
            .map(|route| route.sink)
    }

    /// Every event to one sink: a service whose only sink is `sink`.
    pub fn every_event_to(sink: &'static str) -> Self {
        Self::new([Route {
            sink,
            events: EventSelection::All,
        }])
    }

    /// Every routed sink, in registration order.
    pub fn sinks(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.routes.iter().map(|route| route.sink)
    }
}

/// An outbox row about to be written by a repository's `save`, in the save's transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutboxMessage {
    pub sink: &'static str,
    pub aggregate_type: &'static str,
    pub aggregate_id: Uuid,
    pub event_type: &'static str,
    /// The serialized domain event.
    pub payload: serde_json::Value,
    /// When the event happened: the row's creation time and first attempt time. The event's
    /// own time, not the database's, so a relay driven by the same clock finds it due.
    pub at: DateTime<Utc>,
}

impl NewOutboxMessage {
    /// One row per event and subscribed sink, in the order the events were raised. Stores
    /// call it before opening their transaction: it needs no database, so its failure leaves
    /// nothing to roll back. Each event is serialized once, whatever the number of sinks.
    ///
    /// # Errors
    /// `Corrupt` when an event cannot be serialized.
    pub fn from_events<E: DomainEvent>(
        routes: &DeliveryRoutes,
        aggregate_type: &'static str,
        aggregate_id: Uuid,
        events: &[E],
    ) -> Result<Vec<Self>, RepositoryError> {
        let mut rows = Vec::with_capacity(events.len());
        for event in events {
            let event_type = event.event_type();
            let mut sinks = routes.sinks_for(event_type).peekable();
            if sinks.peek().is_none() {
                continue;
            }
            let payload = serde_json::to_value(event)
                .map_err(|e| RepositoryError::Corrupt(format!("serializing an event: {e}")))?;
            rows.extend(sinks.map(|sink| Self {
                sink,
                aggregate_type,
                aggregate_id,
                event_type,
                payload: payload.clone(),
                at: event.at(),
            }));
        }
        Ok(rows)
    }
}

/// A message given up on, kept for an operator.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub message: OutboxMessage,
    /// The last error, as the sink reported it.
    pub error: String,
    /// When it was dead-lettered.
    pub failed_at: DateTime<Utc>,
}

/// Which dead letters an operator re-drives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadLetterSelection {
    /// These rows (ids that are not dead letters are ignored).
    Ids(Vec<i64>),
    /// Every dead letter of this sink.
    Sink(String),
    /// Every dead letter.
    All,
}

/// Counts of one sink's rows, for monitoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkStats {
    pub sink: String,
    /// Not yet delivered and not dead-lettered.
    pub pending: u64,
    /// Given up on; kept for an operator to inspect and re-drive.
    pub dead: u64,
}

/// The relay's view of the outbox.
///
/// A row is in one of three states: pending (waiting or leased), delivered, or dead. Every
/// time comparison uses the caller's `now`, so a test drives the relay with its own clock.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Leases up to `limit` due rows of `sink` to the caller until `now + lease`, oldest
    /// first.
    ///
    /// A row is due when it is pending, its next attempt time has come, and no unexpired
    /// lease holds it. Only the **oldest pending row of each aggregate for this sink** is ever
    /// claimable, so an update can never overtake the post it updates, even with several
    /// relays; another sink's rows never hold it back. Two concurrent callers never receive
    /// the same row. A lease that runs out (a relay died) makes the row claimable again:
    /// delivery is at-least-once.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached; nothing was leased.
    async fn claim(
        &self,
        sink: &str,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutboxMessage>, RepositoryError>;

    /// Extends the leases on these rows to `until` (the relay's heartbeat while a batch is in
    /// flight). Rows that are no longer leased — finished, rescheduled or released — are left
    /// alone, so a heartbeat never holds back a retry.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn extend(&self, ids: &[i64], until: DateTime<Utc>) -> Result<(), RepositoryError>;

    /// Marks these rows delivered, in one write: the relay records each group of deliveries
    /// it sent together at once. Rows already delivered (a relay whose lease ran out) are
    /// left as they are, so marking again is a no-op.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached; no row was marked.
    async fn mark_delivered(&self, ids: &[i64], now: DateTime<Utc>) -> Result<(), RepositoryError>;

    /// Records a failed attempt and makes the row due again at `next_attempt_at`.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn reschedule(
        &self,
        id: i64,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), RepositoryError>;

    /// Ends the leases on these rows and makes them due at `not_before`, **without**
    /// counting an attempt: for a sink that is rate limited, and (with `not_before = now`) for
    /// rows claimed but not worked on at shutdown.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn release(&self, ids: &[i64], not_before: DateTime<Utc>) -> Result<(), RepositoryError>;

    /// Records a final failed attempt and gives up on the row. It stays stored, visible
    /// through [`dead_letters`](Self::dead_letters), and no longer blocks later rows of its
    /// aggregate.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn dead_letter(
        &self,
        id: i64,
        now: DateTime<Utc>,
        error: &str,
    ) -> Result<(), RepositoryError>;

    /// The most recent dead letters (of one sink, or of all), newest first.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn dead_letters(
        &self,
        sink: Option<String>,
        limit: u32,
    ) -> Result<Vec<DeadLetter>, RepositoryError>;

    /// Puts the selected dead letters back in line: pending again, due at `now`, with a fresh
    /// retry budget (attempts reset, the budget counted from `now`). Returns how many rows
    /// were re-driven.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached; nothing was changed.
    async fn retry_dead_letters(
        &self,
        selection: DeadLetterSelection,
        now: DateTime<Utc>,
    ) -> Result<u64, RepositoryError>;

    /// Pending and dead counts for every sink that has rows, ordered by sink name.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn stats(&self) -> Result<Vec<SinkStats>, RepositoryError>;

    /// Deletes up to `limit` delivered rows that were delivered before `before`, oldest
    /// first, and returns how many it deleted: the retention that keeps the table from
    /// growing with the service's history. Pending rows and dead letters are never deleted
    /// (a dead letter waits for an operator), and a deleted row's id is never given to a
    /// new row, so consumers may keep deduplicating by it.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached; nothing was deleted.
    async fn purge_delivered(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, RepositoryError>;
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Happened(&'static str);

    impl DomainEvent for Happened {
        fn event_type(&self) -> &'static str {
            self.0
        }

        fn at(&self) -> DateTime<Utc> {
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
        }
    }

    fn routes() -> DeliveryRoutes {
        DeliveryRoutes::new([
            Route {
                sink: "chat",
                events: EventSelection::All,
            },
            Route {
                sink: "webhook",
                events: EventSelection::Only(&["thing.done"]),
            },
        ])
    }

    #[test]
    fn each_event_gets_one_row_per_subscribed_sink_in_event_order() {
        let events = [Happened("thing.started"), Happened("thing.done")];

        let rows = NewOutboxMessage::from_events(&routes(), "thing", Uuid::nil(), &events).unwrap();

        let pairs: Vec<_> = rows.iter().map(|r| (r.event_type, r.sink)).collect();
        assert_eq!(
            pairs,
            [
                ("thing.started", "chat"),
                ("thing.done", "chat"),
                ("thing.done", "webhook")
            ]
        );
    }

    #[test]
    fn an_event_no_sink_subscribes_to_writes_no_row() {
        let only_webhook = DeliveryRoutes::new([Route {
            sink: "webhook",
            events: EventSelection::Only(&["thing.done"]),
        }]);

        let rows = NewOutboxMessage::from_events(
            &only_webhook,
            "thing",
            Uuid::nil(),
            &[Happened("thing.started")],
        )
        .unwrap();

        assert!(rows.is_empty());
    }

    #[test]
    fn a_sink_registered_twice_gets_each_event_once() {
        let twice = DeliveryRoutes::new([
            Route {
                sink: "chat",
                events: EventSelection::All,
            },
            Route {
                sink: "chat",
                events: EventSelection::All,
            },
        ]);

        assert_eq!(twice.sinks_for("thing.done").count(), 1);
    }
}
