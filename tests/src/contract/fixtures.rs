//! Building blocks the suites share: a deterministic clock and ids, requests, and a way to
//! read everything the outbox holds.

use std::collections::BTreeSet;
use std::sync::Arc;

use adapter_memory::{ManualClock, SequentialIds};
use application::ports::{CHAT_SINK, Clock, IdGenerator, Outbox, OutboxMessage};
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::{
    ApprovalId, ApprovalRequest, ChatDestination, Description, Identity, Metadata, NewApproval,
    Policy, RequiredApprovals, Title, Ttl, Verdict,
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
        let mut approval = self.open(new);
        let events = approval.take_events();
        store
            .approvals
            .save(&approval, &events, None)
            .await
            .unwrap();
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
        let events = approval.take_events();
        store.approvals.save(approval, &events, None).await.unwrap();
    }
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
            store.outbox.mark_delivered(message.id, now).await.unwrap();
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

/// The event types of `messages` that belong to the aggregate `aggregate_id`, in order.
pub fn event_types_of(messages: &[OutboxMessage], aggregate_id: Uuid) -> Vec<&str> {
    messages
        .iter()
        .filter(|m| m.aggregate_id == aggregate_id)
        .map(|m| m.event_type.as_str())
        .collect()
}
