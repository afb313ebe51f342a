//! Reminders end to end, on a test clock: the application (SQLite store, the relay, the
//! platform router) with Slack and Discord replaced by their faithful fakes. A request that
//! asks for reminders gets them in the thread of its message — Slack's `thread_ts`, a
//! Discord message reference — no more often than it asked, with one warning before it
//! expires, and none once it is settled.
//!
//! The use cases run step by step, as the sweeper and the relay would run them: the clock
//! only moves when a test says so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use application::ports::{CHAT_SINK, ChatMessages};
use application::use_cases::{CreateApprovalInput, DecideInput};
use chrono::Duration;
use domain::{ApprovalId, Identity, Verdict};
use serde_json::Value;
use tests::e2e::{CHANNEL, FakeDiscord, FakeSlack, OnATestClock};

/// The approver the requests name, on each platform.
const SLACK_ALICE: &str = "slack:U0ALICE";
const DISCORD_ALICE: &str = "discord:1600000000000000001";

struct World {
    slack: FakeSlack,
    discord: FakeDiscord,
    app: OnATestClock,
}

impl World {
    async fn start() -> Self {
        let (slack, discord) = (FakeSlack::start().await, FakeDiscord::start().await);
        let app = OnATestClock::start(&slack, Some(&discord), &[]).await;
        Self {
            slack,
            discord,
            app,
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
        let approval = self.app.request(input).await;
        self.relay().await;
        approval.id()
    }

    /// Moves the clock on by `seconds` and sweeps for reminders; how many were sent.
    async fn remind_after(&self, seconds: i64) -> usize {
        self.app.clock.advance(Duration::seconds(seconds));
        self.app
            .use_cases()
            .remind_approvers
            .execute(10)
            .await
            .unwrap()
    }

    /// Delivers everything pending to chat, as the relay would in as many rounds as it takes
    /// (each round takes one event per request).
    async fn relay(&self) {
        let relay = self.app.use_cases().relay(CHAT_SINK).unwrap();
        while relay.execute().await.unwrap().claimed > 0 {}
    }

    /// Where the request's message lives, as the chat sink recorded it.
    async fn message_id(&self, id: ApprovalId) -> String {
        ChatMessages::get(&*self.app.store, id.as_uuid())
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
        self.app
            .use_cases()
            .decide
            .execute(input, None)
            .await
            .unwrap();
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
    assert_eq!(
        world
            .app
            .use_cases()
            .expire_overdue
            .execute(10)
            .await
            .unwrap(),
        1
    );
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
