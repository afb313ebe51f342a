//! Building blocks the suites share: a deterministic clock and ids, requests, and a way to
//! read everything the outbox holds.

use std::collections::BTreeSet;
use std::sync::Arc;

use adapter_memory::{ManualClock, SequentialIds};
use application::ports::{
    ApprovalRepository, CHAT_SINK, Clock, IdGenerator, Outbox, OutboxMessage, RepositoryError,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::{
    ApprovalId, ApprovalRequest, ChatDestination, Description, DomainEvent, Identity, Metadata,
    NewApproval, Policy, RequiredApprovals, Title, Ttl, Verdict,
};
use uuid::Uuid;

use super::Store;

/// Where every test's clock starts: years away from the real time, so a store that compared
/// against the database's clock instead of the caller's would fail, and with microseconds, so
/// a store that dropped them would too.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2031, 3, 4, 10, 0, 0).unwrap() + Duration::microseconds(123_456)
}

pub fn identity(name: &str) -> Identity {
    Identity::parse(name).unwrap()
}

/// A minimal valid request by `ci-pipeline`: anyone else may decide, `required` approvals.
pub fn new_approval(required: i64) -> NewApproval {
    let requester = identity("ci-pipeline");
    NewApproval {
        title: Title::parse("Deploy model v7 to production").unwrap(),
        description: Description::default(),
        destination: ChatDestination::parse("C0123456789").unwrap(),
        metadata: Metadata::default(),
        callback_url: None,
        policy: Policy::new(
            RequiredApprovals::new(required).unwrap(),
            BTreeSet::new(),
            false,
            &requester,
        )
        .unwrap(),
        requester,
        ttl: Ttl::default(),
    }
}

/// A clock that only moves when told to, and ids that count up (time-ordered like UUID v7).
/// Both are shared, so use cases under test can draw from them too.
pub struct Fixture {
    pub clock: Arc<ManualClock>,
    pub ids: Arc<SequentialIds>,
}

impl Default for Fixture {
    fn default() -> Self {
        Self {
            clock: Arc::new(ManualClock::new(start_time())),
            ids: Arc::new(SequentialIds::default()),
        }
    }
}

impl Fixture {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Opens `new` now, with the next id, without storing it. Its `Requested` event is still
    /// pending.
    pub fn open(&self, new: NewApproval) -> ApprovalRequest {
        ApprovalRequest::open(ApprovalId::from_uuid(self.ids.new_id()), new, self.now())
    }

    /// Opens and stores a request, with its `Requested` event.
    pub async fn create(&self, store: &Store, new: NewApproval) -> ApprovalRequest {
        self.save(store.approvals.as_ref(), new).await
    }

    /// [`Fixture::create`] through one repository (an adapter's own tests have no [`Store`]).
    pub async fn save(
        &self,
        approvals: &dyn ApprovalRepository,
        new: NewApproval,
    ) -> ApprovalRequest {
        let mut approval = self.open(new);
        save_changes(approvals, &mut approval).await;
        approval
    }

    /// Stores a pending request that one approval settles.
    pub async fn create_pending(&self, store: &Store) -> ApprovalRequest {
        self.create(store, new_approval(1)).await
    }

    /// Records a decision now and stores it with its events.
    pub async fn decide(
        &self,
        store: &Store,
        approval: &mut ApprovalRequest,
        approver: &str,
        verdict: Verdict,
    ) {
        approval
            .decide(identity(approver), verdict, None, self.now())
            .unwrap();
        save_changes(store.approvals.as_ref(), approval).await;
    }
}

/// Saves what changed in `approval` since its last save, with the events it raised.
pub async fn save_changes(approvals: &dyn ApprovalRepository, approval: &mut ApprovalRequest) {
    let events = approval.take_events();
    approvals.save(approval, &events, None).await.unwrap();
}

/// Awaits every task, in order, and returns what each returned.
pub async fn join_all<T>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

/// Claims and delivers everything pending for the chat sink, as its relay at `now` would,
/// and returns the messages in the order they were delivered. Each message is delivered
/// exactly once.
pub async fn drain(store: &Store, now: DateTime<Utc>) -> Vec<OutboxMessage> {
    drain_sink(store, CHAT_SINK, now).await
}

/// [`drain`] for any sink.
pub async fn drain_sink(store: &Store, sink: &str, now: DateTime<Utc>) -> Vec<OutboxMessage> {
    let mut delivered = Vec::new();
    loop {
        let batch = store
            .outbox
            .claim(sink, now, 50, Duration::minutes(5))
            .await
            .unwrap();
        if batch.is_empty() {
            return delivered;
        }
        for message in batch {
            store
                .outbox
                .mark_delivered(&[message.id], now)
                .await
                .unwrap();
            delivered.push(message);
        }
    }
}

/// The number of `sink`'s pending rows.
pub async fn pending(outbox: &dyn Outbox, sink: &str) -> u64 {
    let stats = outbox.stats().await.unwrap();
    stats
        .iter()
        .find(|s| s.sink == sink)
        .map_or(0, |s| s.pending)
}

/// Drains the outbox and asserts that it held exactly `expected`, the event types of the
/// aggregate `aggregate_id` in order: what the failed saves before it must leave behind.
pub async fn assert_only_rows_of(
    store: &Store,
    now: DateTime<Utc>,
    aggregate_id: Uuid,
    expected: &[&str],
) {
    let messages = drain(store, now).await;
    assert_eq!(
        event_types_of(&messages, aggregate_id),
        expected,
        "only the successful saves wrote outbox rows"
    );
    assert_eq!(messages.len(), expected.len());
}

/// Asserts that `messages` are `events` of one aggregate, one row each, in order: fresh
/// (never attempted), with the event's own payload, type and time, and ids that count up.
pub fn assert_rows_are_the_events<E: DomainEvent>(
    messages: &[OutboxMessage],
    aggregate_type: &str,
    aggregate_id: Uuid,
    events: &[E],
) {
    assert_eq!(messages.len(), events.len());
    for (message, event) in messages.iter().zip(events) {
        assert_eq!(message.aggregate_type, aggregate_type);
        assert_eq!(message.aggregate_id, aggregate_id);
        assert_eq!(message.event_type, event.event_type());
        assert_eq!(message.payload, serde_json::to_value(event).unwrap());
        assert_eq!(message.attempts, 0);
        assert_eq!(
            message.created_at,
            event.at(),
            "rows carry the event's own time"
        );
    }
    assert!(messages.windows(2).all(|pair| pair[0].id < pair[1].id));
}

/// The event types of `messages` that belong to the aggregate `aggregate_id`, in order.
pub fn event_types_of(messages: &[OutboxMessage], aggregate_id: Uuid) -> Vec<&str> {
    messages
        .iter()
        .filter(|m| m.aggregate_id == aggregate_id)
        .map(|m| m.event_type.as_str())
        .collect()
}

/// How a SQL store must answer for a row edited by hand into something no request can be:
/// saves a request, runs `edit_by_hand` with the SQL that empties its title, and checks that
/// reading it back is `Corrupt`, naming the title.
pub async fn a_hand_edited_row_is_reported_corrupt(
    approvals: &dyn ApprovalRepository,
    edit_by_hand: impl AsyncFnOnce(&'static str),
) {
    let approval = Fixture::default().save(approvals, new_approval(1)).await;

    edit_by_hand("UPDATE approvals SET title = ''").await;

    let loaded = approvals.get(approval.id()).await;
    assert!(
        matches!(&loaded, Err(RepositoryError::Corrupt(m)) if m.contains("title")),
        "{loaded:?}"
    );
}
