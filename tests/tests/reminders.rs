//! Reminders end to end, on a test clock: the application (SQLite store, the relay, the
//! platform router) with Slack and Discord replaced by their faithful fakes. A request that
//! asks for reminders gets them in the thread of its message — Slack's `thread_ts`, a
//! Discord message reference — no more often than it asked, with one warning before it
//! expires, and none once it is settled.
//!
//! The use cases run step by step, as the sweeper and the relay would run them: the clock
//! only moves when a test says so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use adapter_memory::{ManualClock, SequentialIds};
use application::UseCases;
use application::ports::{CHAT_SINK, ChatMessages};
use application::use_cases::{CreateApprovalInput, DecideInput};
use chrono::Duration;
use domain::{ApprovalId, Identity, Verdict};
use serde_json::Value;
use service::{Adapters, Config, Store};
use tests::e2e::{BOT_TOKEN, CHANNEL, FakeDiscord, FakeSlack, SIGNING_SECRET};

/// The approver the requests name, on each platform.
const SLACK_ALICE: &str = "slack:U0ALICE";
const DISCORD_ALICE: &str = "discord:1600000000000000001";

struct World {
    slack: FakeSlack,
    discord: FakeDiscord,
    clock: Arc<ManualClock>,
    use_cases: UseCases,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

impl World {
    async fn start() -> Self {
        let (slack, discord) = (FakeSlack::start().await, FakeDiscord::start().await);
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("service.db");
        let slack_uri = slack.uri();
        let discord_env = discord.env();
        let mut env = vec![
            (
                concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
                database.to_str().unwrap(),
            ),
            ("SLACK_BOT_TOKEN", BOT_TOKEN),
            ("SLACK_SIGNING_SECRET", SIGNING_SECRET),
            ("SLACK_API_BASE_URL", slack_uri.as_str()),
        ];
        env.extend(discord_env.iter().map(|(k, v)| (*k, v.as_str())));
        let config = Config::from_env(env).unwrap();
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let persistence = service::open_store(&config).await.unwrap();
        let store = persistence.store.clone();
        let app = service::build_with(
            &config,
            Adapters {
                persistence,
                chat: service::chat_gateway(&config).unwrap(),
                clock: clock.clone(),
                ids: Arc::new(SequentialIds::default()),
                sinks: Default::default(),
            },
        )
        .unwrap();
        Self {
            slack,
            discord,
            clock,
            use_cases: app.use_cases().clone(),
            store,
            _dir: dir,
        }
    }

    /// A request open for a minute that reminds `approver` every five seconds, posted.
    async fn request(&self, destination: &str, approver: &str) -> ApprovalId {
        let input = CreateApprovalInput {
            title: "Deploy api v1.4.2?".into(),
            destination: destination.into(),
            allowed_approvers: vec![approver.into()],
            expires_in_seconds: Some(60),
            remind_after_seconds: Some(5),
            ..CreateApprovalInput::default()
        };
        let approval = self
            .use_cases
            .create_approval
            .execute(Identity::parse("ci").unwrap(), input, None)
            .await
            .unwrap();
        self.relay().await;
        approval.id()
    }

    /// Moves the clock on by `seconds` and sweeps for reminders; how many were sent.
    async fn remind_after(&self, seconds: i64) -> usize {
        self.clock.advance(Duration::seconds(seconds));
        self.use_cases.remind_approvers.execute(10).await.unwrap()
    }

    /// Delivers everything pending to chat, as the relay would in as many rounds as it takes
    /// (each round takes one event per request).
    async fn relay(&self) {
        let relay = self.use_cases.relay(CHAT_SINK).unwrap();
        while relay.execute().await.unwrap().claimed > 0 {}
    }

    /// Where the request's message lives, as the chat sink recorded it.
    async fn message_id(&self, id: ApprovalId) -> String {
        ChatMessages::get(&*self.store, id.as_uuid())
            .await
            .unwrap()
            .expect("the request's message was posted")
            .message_id
    }

    async fn approve(&self, id: ApprovalId, approver: &str) {
        let input = DecideInput {
            approval_id: id,
            approver: Identity::parse(approver).unwrap(),
            verdict: Verdict::Approve,
            comment: None,
        };
        self.use_cases.decide.execute(input, None).await.unwrap();
    }
}

fn text(reply: &Value) -> &str {
    reply["text"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn slack_reminders_reach_the_thread_no_more_often_than_asked_and_stop_at_settlement() {
    let world = World::start().await;
    let id = world.request("C0DEPLOYS", SLACK_ALICE).await;
    let ts = world.message_id(id).await;
    assert_eq!(world.slack.posted_ts(), std::slice::from_ref(&ts));

    assert_eq!(world.remind_after(4).await, 0, "not yet: five seconds");
    assert_eq!(world.remind_after(1).await, 1);
    world.relay().await;
    let thread = world.slack.thread(&ts);
    assert_eq!(thread.len(), 1, "{thread:?}");
    assert_eq!(thread[0]["channel"], "C0DEPLOYS");
    assert!(text(&thread[0]).contains("Reminder"), "{thread:?}");
    assert!(
        text(&thread[0]).contains("<@U0ALICE>"),
        "mentions alice: {thread:?}"
    );

    // A second sweep at once, and one a moment later, send nothing.
    assert_eq!(world.remind_after(0).await, 0);
    assert_eq!(world.remind_after(4).await, 0);
    assert_eq!(
        world.remind_after(1).await,
        1,
        "five seconds after the first"
    );
    world.relay().await;
    assert_eq!(world.slack.thread(&ts).len(), 2);

    // A reminder raised, then the request approved before the relay ran: the reminder is
    // dropped, the message shows the approval, and nothing more is raised.
    assert_eq!(world.remind_after(5).await, 1);
    world.approve(id, SLACK_ALICE).await;
    world.relay().await;
    assert_eq!(
        world.slack.thread(&ts).len(),
        2,
        "no reminder after settlement"
    );
    assert_eq!(world.remind_after(30).await, 0);
    world.relay().await;
    assert_eq!(world.slack.thread(&ts).len(), 2);
    assert_eq!(
        world.slack.posted_ts(),
        [ts],
        "replies never post a new message"
    );
    let updates = world.slack.answered(tests::e2e::UPDATE);
    assert!(
        updates
            .last()
            .is_some_and(|update| update.to_string().contains("Approved")),
        "{updates:?}"
    );
}

#[tokio::test]
async fn the_expiry_warning_is_sent_once_in_the_thread() {
    let world = World::start().await;
    let id = world.request("C0DEPLOYS", SLACK_ALICE).await;
    let ts = world.message_id(id).await;

    // A quarter of the minute before the end: 45 seconds in. Reminders were due meanwhile;
    // one sweep sends one message, the warning.
    assert_eq!(world.remind_after(45).await, 1);
    assert_eq!(world.remind_after(0).await, 0);
    assert_eq!(world.remind_after(4).await, 0);
    assert_eq!(
        world.remind_after(1).await,
        1,
        "a reminder five seconds after it"
    );
    world.relay().await;
    let thread = world.slack.thread(&ts);
    let warnings = thread
        .iter()
        .filter(|reply| text(reply).contains("Expires soon"))
        .count();
    assert_eq!(warnings, 1, "{thread:?}");
    assert_eq!(thread.len(), 2, "{thread:?}");

    // Past the deadline the request is for the expiry sweep: no more reminders, ever.
    assert_eq!(world.remind_after(10).await, 0);
    assert_eq!(world.use_cases.expire_overdue.execute(10).await.unwrap(), 1);
    world.relay().await;
    assert_eq!(world.slack.thread(&ts).len(), 2);
}

#[tokio::test]
async fn a_discord_reminder_references_the_message_and_pings_only_its_approver() {
    let world = World::start().await;
    let id = world
        .request(&format!("discord:{CHANNEL}"), DISCORD_ALICE)
        .await;
    let message_id = world.message_id(id).await;

    assert_eq!(world.remind_after(5).await, 1);
    world.relay().await;
    let replies = world.discord.replies();
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["message_reference"]["message_id"], message_id);
    assert_eq!(
        replies[0]["allowed_mentions"]["users"],
        serde_json::json!(["1600000000000000001"])
    );
    assert!(
        replies[0]["content"]
            .as_str()
            .is_some_and(|c| c.contains("<@1600000000000000001>")),
        "{replies:?}"
    );
    assert_eq!(
        world.discord.messages().len(),
        1,
        "the reply is not a new message"
    );
    assert!(world.slack.posted_ts().is_empty());
}
