//! One chat platform as the behaviour suites see it: where to post, who clicks, what the
//! channel shows, and how to make the platform fail. Every case that Slack and Discord
//! share is written once against [`Platform`] and run for each.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::ResponseTemplate;

use super::{Backend, CHANNEL, Endpoint, FakeDiscord, FakeSlack, POST, Scripted, TestApp, UPDATE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Slack,
    Discord,
}

pub const PLATFORMS: [Platform; 2] = [Platform::Slack, Platform::Discord];

impl Platform {
    pub fn destination(self) -> String {
        match self {
            Self::Slack => "C0DEPLOYS".to_owned(),
            Self::Discord => format!("discord:{CHANNEL}"),
        }
    }

    /// A user of this platform, and the identity the service records for them.
    pub fn user(self, n: u8) -> (String, String) {
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
    pub async fn posted(self, app: &TestApp) -> usize {
        self.posted_in(&app.slack, &app.discord)
    }

    pub fn posted_in(self, slack: &FakeSlack, discord: &FakeDiscord) -> usize {
        match self {
            Self::Slack => slack.answered(POST).len(),
            Self::Discord => discord.messages().len(),
        }
    }

    /// The one message in the channel as it now reads: its text, and whether it has buttons.
    pub async fn shown(self, app: &TestApp) -> (String, bool) {
        self.shown_in(&app.slack, &app.discord)
    }

    pub fn shown_in(self, slack: &FakeSlack, discord: &FakeDiscord) -> (String, bool) {
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
    pub async fn wait_shown(self, app: &TestApp, text: &str, buttons: bool) -> String {
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
    pub async fn click(self, app: &TestApp, user: &str, action: &str, id: &str) -> u16 {
        match self {
            Self::Slack => app.click(user, action, id).await.0,
            Self::Discord => app.discord_click(user, &format!("{action}:{id}")).await.0,
        }
    }

    /// The next post is refused with the platform's rate limit, asking for a one-second wait.
    pub async fn rate_limit_next_post(self, app: &TestApp) {
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
    pub async fn refuse_posts(self, app: &TestApp) {
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
    pub async fn assert_other_untouched(self, app: &TestApp) {
        match self {
            Self::Slack => assert!(app.discord.calls().is_empty(), "{:?}", app.discord.calls()),
            Self::Discord => assert!(app.slack.calls(POST).await.is_empty()),
        }
    }
}

/// The application on SQLite with both platforms connected (extra variables in `env`), and
/// an API key for `ci`.
pub async fn spawn(env: &[(&str, &str)]) -> (TestApp, String) {
    let app = TestApp::spawn_with(Backend::Sqlite, FakeSlack::start().await, env).await;
    let ci = app.api_key("ci").await;
    (app, ci)
}
