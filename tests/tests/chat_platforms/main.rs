//! One behaviour suite, every chat platform: the cases Slack and Discord share, written once
//! against [`Platform`] and run for each, through the whole application (HTTP, store, relay,
//! the platform router) against each platform's faithful fake. A platform that renders,
//! updates, deduplicates or classifies differently from the others fails here by name.
//!
//! Both platforms are connected in every run, as a deployment may have them: each case also
//! checks that the other platform saw nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use adapter_memory::{ManualClock, SequentialIds};
use application::ports::CHAT_SINK;
use application::use_cases::CreateApprovalInput;
use domain::Identity;
use serde_json::{Value, json};
use service::{Adapters, Config};
use tests::e2e::{
    BOT_TOKEN, Backend, CHANNEL, Endpoint, FakeDiscord, FakeSlack, POST, SIGNING_SECRET, Scripted,
    TestApp, UPDATE,
};
use wiremock::ResponseTemplate;

// Each aggregate's own cases, on every platform too.
mod alerts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    Slack,
    Discord,
}

const PLATFORMS: [Platform; 2] = [Platform::Slack, Platform::Discord];

impl Platform {
    fn destination(self) -> String {
        match self {
            Self::Slack => "C0DEPLOYS".to_owned(),
            Self::Discord => format!("discord:{CHANNEL}"),
        }
    }

    /// A user of this platform, and the identity the service records for them.
    fn user(self, n: u8) -> (String, String) {
        let id = match self {
            Self::Slack => format!("U0USER{n}"),
            Self::Discord => format!("16000000000000000{n:02}"),
        };
        let identity = match self {
            Self::Slack => format!("slack:{id}"),
            Self::Discord => format!("discord:{id}"),
        };
        (id, identity)
    }

    /// How many messages were created on the platform (successful posts).
    async fn posted(self, app: &TestApp) -> usize {
        self.posted_in(&app.slack, &app.discord)
    }

    fn posted_in(self, slack: &FakeSlack, discord: &FakeDiscord) -> usize {
        match self {
            Self::Slack => slack.answered(POST).len(),
            Self::Discord => discord.messages().len(),
        }
    }

    /// The one message in the channel as it now reads: its text, and whether it has buttons.
    async fn shown(self, app: &TestApp) -> (String, bool) {
        self.shown_in(&app.slack, &app.discord)
    }

    fn shown_in(self, slack: &FakeSlack, discord: &FakeDiscord) -> (String, bool) {
        match self {
            Self::Slack => {
                let latest = slack
                    .answered(UPDATE)
                    .last()
                    .cloned()
                    .or_else(|| slack.answered(POST).last().cloned())
                    .unwrap_or(Value::Null);
                let blocks = latest["blocks"].as_array().cloned().unwrap_or_default();
                let buttons = blocks.iter().any(|b| b["type"] == "actions");
                (latest.to_string(), buttons)
            }
            Self::Discord => {
                let latest = discord.messages().last().cloned().unwrap_or(Value::Null);
                let buttons = latest["components"]
                    .as_array()
                    .is_some_and(|rows| !rows.is_empty());
                (latest.to_string(), buttons)
            }
        }
    }

    /// Waits (up to 30 s) until the message shows `text` and has buttons or not.
    async fn wait_shown(self, app: &TestApp, text: &str, buttons: bool) -> String {
        for _ in 0..600 {
            let (shown, has_buttons) = self.shown(app).await;
            if shown.contains(text) && has_buttons == buttons {
                return shown;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{self:?}: no message shows {text:?} (buttons: {buttons}): {:?}",
            self.shown(app).await
        );
    }

    /// Clicks the button of `action` (an action key, `approval_approve`) on subject `id`.
    async fn click(self, app: &TestApp, user: &str, action: &str, id: &str) -> u16 {
        match self {
            Self::Slack => app.click(user, action, id).await.0,
            Self::Discord => app.discord_click(user, &format!("{action}:{id}")).await.0,
        }
    }

    /// The next post is refused with the platform's rate limit, asking for a one-second wait.
    async fn rate_limit_next_post(self, app: &TestApp) {
        match self {
            Self::Slack => {
                let limited = ResponseTemplate::new(429)
                    .insert_header("retry-after", "1")
                    .set_body_json(json!({"ok": false, "error": "ratelimited"}));
                app.slack.fail(POST, 1, limited).await;
            }
            Self::Discord => app
                .discord
                .fail(Endpoint::Create, 1, Scripted::rate_limited(1.0)),
        }
    }

    /// Every post is refused as the platform refuses a channel the bot may not write to.
    async fn refuse_posts(self, app: &TestApp) {
        match self {
            Self::Slack => {
                let refused = ResponseTemplate::new(200)
                    .set_body_json(json!({"ok": false, "error": "not_in_channel"}));
                app.slack.fail(POST, 100, refused).await;
            }
            Self::Discord => app.discord.fail(
                Endpoint::Create,
                100,
                Scripted::error(403, 50001, "Missing Access"),
            ),
        }
    }

    /// Nothing reached the platform this case is not about.
    async fn assert_other_untouched(self, app: &TestApp) {
        match self {
            Self::Slack => assert!(app.discord.calls().is_empty(), "{:?}", app.discord.calls()),
            Self::Discord => assert!(app.slack.calls(POST).await.is_empty()),
        }
    }
}

async fn spawn(env: &[(&str, &str)]) -> (TestApp, String) {
    let app = TestApp::spawn_with(Backend::Sqlite, FakeSlack::start().await, env).await;
    let ci = app.api_key("ci").await;
    (app, ci)
}

async fn create(app: &TestApp, key: &str, platform: Platform, extra: Value) -> String {
    let mut body = json!({"title": "Deploy api v1.4.2?", "destination": platform.destination()});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let (status, created) = app.post(key, "/v1/approvals", body).await;
    assert_eq!(status, 201, "{platform:?}: {created}");
    created["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_approval_is_posted_once_with_its_buttons() {
    for platform in PLATFORMS {
        let (app, ci) = spawn(&[]).await;
        create(&app, &ci, platform, json!({})).await;

        platform.wait_shown(&app, "Deploy api v1.4.2?", true).await;
        app.wait_until_outbox_drained().await;
        assert_eq!(platform.posted(&app).await, 1, "{platform:?}");
        platform.assert_other_untouched(&app).await;
    }
}

#[tokio::test]
async fn a_decision_updates_the_message_to_its_outcome_without_buttons() {
    for platform in PLATFORMS {
        let (app, ci) = spawn(&[]).await;
        let id = create(&app, &ci, platform, json!({})).await;
        platform.wait_shown(&app, "Approval requested", true).await;

        let (user, identity) = platform.user(1);
        assert_eq!(
            platform.click(&app, &user, "approval_approve", &id).await,
            200
        );

        let (_, approval) = app.get(&ci, &format!("/v1/approvals/{id}")).await;
        assert_eq!(approval["status"], "approved", "{platform:?}: {approval}");
        assert_eq!(approval["decisions"][0]["approver"], identity.as_str());
        platform.wait_shown(&app, "Approved", false).await;
        assert_eq!(
            platform.posted(&app).await,
            1,
            "{platform:?}: updated, not posted again"
        );
    }
}

/// On a test clock: requests expire after a minute at the least.
#[tokio::test]
async fn an_expired_request_shows_so_without_buttons() {
    for platform in PLATFORMS {
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
        let app = service::build_with(
            &config,
            Adapters {
                persistence: service::open_store(&config).await.unwrap(),
                chat: service::chat_gateway(&config).unwrap(),
                clock: clock.clone(),
                ids: Arc::new(SequentialIds::default()),
                sinks: Default::default(),
            },
        )
        .unwrap();
        let use_cases = app.use_cases();
        let input = CreateApprovalInput {
            title: "Deploy api v1.4.2?".into(),
            destination: platform.destination(),
            expires_in_seconds: Some(60),
            ..CreateApprovalInput::default()
        };
        use_cases
            .create_approval
            .execute(Identity::parse("ci").unwrap(), input, None)
            .await
            .unwrap();
        let relay = use_cases.relay(CHAT_SINK).unwrap();
        relay.execute().await.unwrap();
        assert!(
            platform.shown_in(&slack, &discord).1,
            "{platform:?}: posted with buttons"
        );

        clock.advance(chrono::Duration::seconds(61));
        assert_eq!(use_cases.expire_overdue.execute(10).await.unwrap(), 1);
        relay.execute().await.unwrap();

        let (shown, buttons) = platform.shown_in(&slack, &discord);
        assert!(
            shown.contains("Expired") && !buttons,
            "{platform:?}: {shown}"
        );
        assert_eq!(platform.posted_in(&slack, &discord), 1, "{platform:?}");
    }
}

#[tokio::test]
async fn a_rate_limited_post_is_retried_and_delivered_once() {
    for platform in PLATFORMS {
        let (app, ci) = spawn(&[]).await;
        platform.rate_limit_next_post(&app).await;
        create(&app, &ci, platform, json!({})).await;

        platform.wait_shown(&app, "Approval requested", true).await;
        app.wait_until_outbox_drained().await;
        assert_eq!(platform.posted(&app).await, 1, "{platform:?}");
        assert_eq!(
            app.outbox_counts().await,
            (0, 0),
            "{platform:?}: nothing dead"
        );
    }
}

#[tokio::test]
async fn a_refused_channel_is_dead_lettered_at_once_not_retried() {
    for platform in PLATFORMS {
        let (app, ci) = spawn(&[]).await;
        platform.refuse_posts(&app).await;
        create(&app, &ci, platform, json!({})).await;

        for _ in 0..600 {
            if app.outbox_counts().await == (0, 1) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            app.outbox_counts().await,
            (0, 1),
            "{platform:?}: one dead letter"
        );
        assert_eq!(platform.posted(&app).await, 0, "{platform:?}");
        let attempts = match platform {
            Platform::Slack => app.slack.calls(POST).await.len(),
            Platform::Discord => app.discord.calls_to(Endpoint::Create).len(),
        };
        assert_eq!(
            attempts, 1,
            "{platform:?}: a permanent error is not retried"
        );
    }
}
