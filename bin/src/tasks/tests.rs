use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use adapter_memory::{ManualClock, MemoryStore, SequentialIds};
use application::UseCases;
use application::chat::{ChatMessage, ChatReply};
use application::ports::CHAT_SINK;
use application::ports::{
    ChatError, ChatGateway, Claim, IdempotencyKey, KeyClaim, MessageRef, StoredResponse,
};
use application::use_cases::CreateApprovalInput;
use async_trait::async_trait;
use chrono::{DateTime, Duration as Days, Utc};
use domain::{ApprovalId, Identity, Status};
use tokio::sync::Notify;

use super::*;
use crate::{Adapters, Config, Persistence, build_with};

/// A chat gateway that takes its time, and says when a post has started.
#[derive(Default)]
struct SlowChat {
    started: Notify,
    posted: AtomicUsize,
}

impl SlowChat {
    async fn post_after_a_while(&self, message_id: String) -> Result<MessageRef, ChatError> {
        self.started.notify_one();
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.posted.fetch_add(1, Ordering::SeqCst);
        Ok(MessageRef {
            channel: "test".into(),
            message_id,
        })
    }
}

#[async_trait]
impl ChatGateway for SlowChat {
    async fn post(&self, message: &ChatMessage) -> Result<MessageRef, ChatError> {
        self.post_after_a_while(message.subject.id.to_string())
            .await
    }

    async fn update(&self, _at: &MessageRef, _message: &ChatMessage) -> Result<(), ChatError> {
        Ok(())
    }

    async fn reply(&self, _to: &MessageRef, _reply: &ChatReply) -> Result<(), ChatError> {
        Ok(())
    }
}

/// The in-memory store's idempotency records, counting the records purges removed.
struct WatchedIdempotency {
    records: Arc<MemoryStore>,
    purged: AtomicU64,
}

#[async_trait]
impl IdempotencyStore for WatchedIdempotency {
    async fn claim(
        &self,
        claim: &KeyClaim,
        fingerprint: &str,
        now: DateTime<Utc>,
        locked_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<Claim, RepositoryError> {
        IdempotencyStore::claim(
            &*self.records,
            claim,
            fingerprint,
            now,
            locked_until,
            expires_at,
        )
        .await
    }

    async fn complete(
        &self,
        claim: &KeyClaim,
        response: &StoredResponse,
    ) -> Result<(), RepositoryError> {
        self.records.complete(claim, response).await
    }

    async fn release(&self, claim: &KeyClaim) -> Result<(), RepositoryError> {
        IdempotencyStore::release(&*self.records, claim).await
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let purged = self.records.purge_expired(now).await?;
        self.purged.fetch_add(purged, Ordering::SeqCst);
        Ok(purged)
    }
}

struct World {
    store: Arc<MemoryStore>,
    background: crate::app::Background,
    idempotency: Arc<WatchedIdempotency>,
    chat: Arc<SlowChat>,
    clock: Arc<ManualClock>,
    use_cases: UseCases,
}

impl World {
    fn sweeps(&self) -> Sweeps {
        Sweeps {
            approvals: self.use_cases.expire_overdue.clone(),
            reminders: self.use_cases.remind_approvers.clone(),
            deadlines: self.background.approvals.clone(),
            bell: self.background.bell.clone(),
            idempotency: self.idempotency.clone(),
            outbox: self.store.clone(),
            outbox_retention: Duration::from_secs(60 * 60),
            clock: self.clock.clone(),
        }
    }

    /// The relay of the chat sink, running until the returned task is stopped.
    fn start_relay(&self) -> Running {
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(relay(
            self.use_cases.relay(CHAT_SINK).unwrap().clone(),
            relay_config(),
            self.clock.clone(),
            shutdown.clone(),
        ));
        Running { shutdown, task }
    }

    /// The expiry sweeper at a 10 ms interval, running until the returned task is stopped.
    fn start_sweeper(&self) -> Running {
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(expiry_sweeper(
            self.sweeps(),
            Duration::from_millis(10),
            shutdown.clone(),
        ));
        Running { shutdown, task }
    }
}

/// A background loop under test, and the token that stops it.
struct Running {
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Cancels the loop and fails unless it ends within five seconds.
    async fn stop(self, what: &str) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect(what)
            .unwrap();
    }
}

/// Polls `done` every 10 ms, and fails with `what` unless it holds within five seconds.
async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while !done().await {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect(what);
}

/// The service over `store`, `chat` and `clock`, with a 10 ms relay idle interval and the
/// `settings` (variable names without the prefix) on top.
fn app(
    settings: &[(&str, &str)],
    store: &Arc<MemoryStore>,
    chat: Arc<dyn ChatGateway>,
    clock: Arc<dyn Clock>,
) -> crate::App {
    let prefix = env!("SERVICE_ENV_PREFIX");
    let config = Config::from_env(
        [("RELAY_IDLE_INTERVAL", "10ms")]
            .iter()
            .chain(settings)
            .map(|(name, value)| (format!("{prefix}_{name}"), (*value).to_owned())),
    )
    .unwrap();
    build_with(
        &config,
        Adapters {
            persistence: Persistence {
                store: store.clone(),
                pool: None,
            },
            chat: application::chat::ChatRouter::single(chat),
            clock,
            ids: Arc::new(SequentialIds::default()),
            sinks: Default::default(),
        },
    )
    .unwrap()
}

fn world() -> World {
    let store = Arc::new(MemoryStore::new());
    let idempotency = Arc::new(WatchedIdempotency {
        records: store.clone(),
        purged: AtomicU64::new(0),
    });
    let chat = Arc::new(SlowChat::default());
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = app(&[], &store, chat.clone(), clock.clone());
    World {
        store,
        background: app.background.clone(),
        idempotency,
        chat,
        clock,
        use_cases: app.use_cases().clone(),
    }
}

async fn request_approval(world: &World) -> ApprovalId {
    let approval = create(&world.use_cases, deploy_request()).await;
    approval.id()
}

/// The request every test here makes: a deploy, to one channel.
fn deploy_request() -> CreateApprovalInput {
    CreateApprovalInput {
        title: "Deploy v7".into(),
        destination: "C0123".into(),
        ..CreateApprovalInput::default()
    }
}

async fn create(use_cases: &UseCases, input: CreateApprovalInput) -> domain::ApprovalRequest {
    let requester = Identity::parse("ci").unwrap();
    use_cases
        .create_approval
        .execute(requester, input, None)
        .await
        .unwrap()
}

fn relay_config() -> RelayConfig {
    RelayConfig {
        batch_size: 10,
        idle_interval: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        lease: Duration::from_secs(15),
        retry_budget: Duration::from_secs(60),
    }
}

fn delivered(store: &MemoryStore) -> bool {
    store.outbox_messages().iter().all(|(_, done)| *done)
}

#[tokio::test]
async fn the_relay_finishes_its_batch_before_it_stops() {
    let world = world();
    request_approval(&world).await;
    let relay = world.start_relay();

    // Shutdown arrives while the message is being posted.
    world.chat.started.notified().await;
    relay.stop("the relay stops after its batch").await;

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
    let relay = world.start_relay();

    wait_until(
        "the message is delivered once the store is back",
        async || delivered(&world.store),
    )
    .await;
    relay.stop("the relay stops").await;
    assert_eq!(world.chat.posted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_sweeper_expires_overdue_requests_and_stops_on_shutdown() {
    let world = world();
    let id = request_approval(&world).await;
    world.clock.advance(Days::hours(25));
    let sweeper = world.start_sweeper();

    wait_until("the overdue request is expired", async || {
        let approval = world.use_cases.get_approval.execute(id).await.unwrap();
        approval.status() == Status::Expired
    })
    .await;
    sweeper.stop("the sweeper stops").await;
}

#[tokio::test]
async fn the_sweeper_forgets_idempotency_keys_past_their_time_to_live() {
    let world = world();
    let client = Identity::parse("ci").unwrap();
    let now = world.clock.now();
    for (key, time_to_live) in [("old", Days::hours(1)), ("fresh", Days::hours(48))] {
        let claim = KeyClaim {
            scope: client.clone(),
            key: IdempotencyKey::parse(key).unwrap(),
            token: uuid::Uuid::now_v7(),
        };
        let claimed = world
            .idempotency
            .claim(&claim, "POST /v1/approvals", now, now, now + time_to_live)
            .await
            .unwrap();
        assert_eq!(claimed, Claim::Acquired);
    }
    world.clock.advance(Days::hours(2));
    let sweeper = world.start_sweeper();

    wait_until("the expired key is purged", async || {
        world.idempotency.purged.load(Ordering::SeqCst) > 0
    })
    .await;
    sweeper.stop("the sweeper stops").await;
    assert_eq!(
        world.idempotency.purged.load(Ordering::SeqCst),
        1,
        "only the key past its time to live is forgotten"
    );
}

#[tokio::test]
async fn the_sweeper_deletes_delivered_outbox_rows_past_the_retention() {
    let world = world();
    request_approval(&world).await;
    let relay_now = world.use_cases.relay(CHAT_SINK).unwrap().clone();
    assert_eq!(relay_now.execute().await.unwrap().delivered, 1);
    // Past the hour of retention `sweeps()` sets; the new request's row is pending, and
    // stays whatever its age.
    world.clock.advance(Days::hours(2));
    request_approval(&world).await;
    world.clock.advance(Days::hours(2));
    let sweeper = world.start_sweeper();

    wait_until("the delivered row is deleted", async || {
        world.store.outbox_messages().len() <= 1
    })
    .await;
    sweeper.stop("the sweeper stops").await;
    let left = world.store.outbox_messages();
    assert_eq!(left.len(), 1);
    assert!(!left[0].1, "the pending row is kept");
}

/// A clock that follows tokio's (paused, in these tests) time, so that the sweeper's sleeps
/// and the application's idea of "now" move together.
struct TokioClock {
    start: DateTime<Utc>,
    since: tokio::time::Instant,
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = chrono::Duration::from_std(self.since.elapsed()).unwrap_or_default();
        self.start + elapsed
    }
}

/// A chat gateway that records what it was asked to do, and when.
#[derive(Default)]
struct RecordingChat {
    clock: std::sync::OnceLock<Arc<TokioClock>>,
    calls: std::sync::Mutex<Vec<(DateTime<Utc>, String)>>,
}

impl RecordingChat {
    fn record(&self, what: String) {
        let at = self.clock.get().map_or_else(Utc::now, |clock| clock.now());
        self.calls.lock().unwrap().push((at, what));
    }

    fn calls(&self) -> Vec<(DateTime<Utc>, String)> {
        self.calls.lock().unwrap().clone()
    }
}

#[async_trait]
impl ChatGateway for RecordingChat {
    async fn post(&self, message: &ChatMessage) -> Result<MessageRef, ChatError> {
        self.record(format!("post {}", message.status));
        Ok(MessageRef {
            channel: "test".into(),
            message_id: message.subject.id.to_string(),
        })
    }

    async fn update(&self, _at: &MessageRef, message: &ChatMessage) -> Result<(), ChatError> {
        self.record(format!("update {}", message.status));
        Ok(())
    }

    async fn reply(&self, _to: &MessageRef, reply: &ChatReply) -> Result<(), ChatError> {
        self.record(format!("reply {}", reply.text));
        Ok(())
    }
}

/// On tokio's paused clock: the sweep interval is an hour, so only waking at each deadline
/// can remind, warn and expire the request on time. The request is created after the
/// sweeper went to sleep (with nothing pending, until the interval).
#[tokio::test(start_paused = true)]
async fn the_sweeper_wakes_at_each_deadline_of_a_request_created_while_it_slept() {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(TokioClock {
        start: Utc::now(),
        since: tokio::time::Instant::now(),
    });
    let chat = Arc::new(RecordingChat::default());
    let _ = chat.clock.set(clock.clone());
    let app = app(
        &[("EXPIRY_SWEEP_INTERVAL", "1h")],
        &store,
        chat.clone(),
        clock.clone(),
    );
    let use_cases = app.use_cases().clone();
    let shutdown = CancellationToken::new();
    let workers = tokio::spawn(app.run_workers(crate::Workers::ALL, shutdown.clone()));
    tokio::time::sleep(Duration::from_secs(1)).await;

    let input = CreateApprovalInput {
        expires_in_seconds: Some(60),
        remind_after_seconds: Some(5),
        ..deploy_request()
    };
    let approval = create(&use_cases, input).await;
    let expires_at = approval.expires_at();
    // Virtual time: two minutes pass in an instant.
    for _ in 0..1200 {
        let calls = chat.calls();
        if calls.iter().any(|(_, what)| what == "update expired") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.cancel();
    workers.await.unwrap().unwrap();

    let calls = chat.calls();
    let (expired_at, _) = calls
        .iter()
        .find(|(_, what)| what == "update expired")
        .unwrap_or_else(|| panic!("the message was never updated to expired: {calls:?}"));
    assert!(
        *expired_at >= expires_at && *expired_at < expires_at + Days::seconds(1),
        "updated at {expired_at}, expired at {expires_at}, an hour before the next sweep"
    );
    // What was raised, when: reminders at 5, 10, … 40 s, the warning at 45 s (a quarter of
    // the minute), reminders at 50 and 55 s, never after the expiry.
    let mut raised: Vec<_> = store
        .outbox_messages()
        .into_iter()
        .map(|(message, _)| message)
        .filter(|m| {
            m.event_type.starts_with("approval.reminded")
                || m.event_type == "approval.expiry_warned"
        })
        .collect();
    raised.sort_by_key(|m| m.id);
    let at = |m: &application::ports::OutboxMessage| -> DateTime<Utc> {
        serde_json::from_value(m.payload["at"].clone()).unwrap()
    };
    let warnings: Vec<_> = raised
        .iter()
        .filter(|m| m.event_type == "approval.expiry_warned")
        .collect();
    assert_eq!(warnings.len(), 1, "{raised:?}");
    assert_eq!(raised.len(), 11, "{raised:?}");
    let mut last = approval.created_at();
    for reminder in &raised {
        if reminder.event_type == "approval.reminded" {
            assert!(at(reminder) - last >= Days::seconds(5), "{raised:?}");
        }
        assert!(at(reminder) < expires_at, "{raised:?}");
        last = at(reminder);
    }
    let replies = calls
        .iter()
        .filter(|(_, what)| what.starts_with("reply"))
        .count();
    assert_eq!(
        replies,
        raised.len(),
        "each reminder reached the thread once: {calls:?}"
    );
}

#[test]
fn backoff_doubles_up_to_the_cap() {
    let base = Duration::from_secs(1);
    let max = Duration::from_secs(30);
    let pauses: Vec<u64> = (1..=7).map(|n| backoff(n, base, max).as_secs()).collect();
    assert_eq!(pauses, [1, 2, 4, 8, 16, 30, 30]);
    assert_eq!(backoff(u32::MAX, base, max), max);
}
