//! A Slack-facing test app: the real routes over the in-memory store, and requests signed
//! exactly like Slack signs them.

use std::sync::Arc;

use adapter_memory::{AnyCallbackUrl, EveryPlatform, ManualClock, MemoryStore, SequentialIds};
use adapter_slack::{SlackSettings, SlackState, routes};
use application::ports::{ApprovalRepository, RepositoryError};
use application::use_cases::CreateApprovalInput;
use application::{Ports, UseCases};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use domain::{ApprovalId, ApprovalRequest, Identity, Status};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tower::ServiceExt;

pub const SIGNING_SECRET: &str = "test-signing-secret";
pub const APP_ID: &str = "A0TESTAPP";
pub const REQUESTER: &str = "ci-pipeline";

/// How the app under test is configured.
pub struct Config {
    pub now: DateTime<Utc>,
    pub signing_secret: &'static str,
    pub app_id: Option<&'static str>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            now: Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap(),
            signing_secret: SIGNING_SECRET,
            app_id: Some(APP_ID),
        }
    }
}

pub struct TestSlack {
    pub store: Arc<MemoryStore>,
    pub clock: Arc<ManualClock>,
    pub use_cases: UseCases,
    router: Router,
}

/// What the app answered.
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Answer {
    /// Checks that this is the empty 200 with which a click is taken.
    pub fn assert_empty_ok(&self) {
        assert_eq!(self.status, StatusCode::OK);
        assert!(
            self.body.is_empty(),
            "{:?}",
            String::from_utf8_lossy(&self.body)
        );
    }

    /// The text of an ephemeral reply, after checking that it is one.
    pub fn ephemeral_text(&self) -> String {
        assert_eq!(self.status, StatusCode::OK);
        let reply: Value = serde_json::from_slice(&self.body).expect("a JSON reply");
        assert_eq!(reply["response_type"], "ephemeral", "{reply}");
        reply["text"].as_str().expect("a text").to_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON reply")
    }
}

impl TestSlack {
    pub fn start() -> Self {
        Self::with(Config::default())
    }

    pub fn with(config: Config) -> Self {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::new(config.now));
        // No sinks: Slack routes answer without calling Slack; the message update waits in
        // the outbox (which the tests read) for the relay.
        let ports = Ports::over(
            store.clone(),
            Arc::new(EveryPlatform),
            Arc::new(AnyCallbackUrl),
            clock.clone(),
            Arc::new(SequentialIds::default()),
        );
        let use_cases = UseCases::new(&ports);
        let subjects = ports.chat_subjects();
        let settings = SlackSettings {
            app_id: config.app_id.map(str::to_owned),
            ..SlackSettings::new("xoxb-test".into(), config.signing_secret.into())
        };
        let state = SlackState::new(subjects, &settings, clock.clone()).unwrap();
        Self {
            store,
            clock,
            use_cases,
            router: routes(state),
        }
    }

    pub fn now(&self) -> i64 {
        application::ports::Clock::now(self.clock.as_ref()).timestamp()
    }

    /// A pending request by `ci-pipeline` needing `required` approvals.
    pub async fn request(&self, required: i64) -> ApprovalRequest {
        self.request_with(CreateApprovalInput {
            required_approvals: Some(required),
            ..input()
        })
        .await
    }

    pub async fn request_with(&self, input: CreateApprovalInput) -> ApprovalRequest {
        self.request_by(REQUESTER, input).await
    }

    pub async fn request_by(&self, requester: &str, input: CreateApprovalInput) -> ApprovalRequest {
        self.use_cases
            .create_approval
            .execute(Identity::parse(requester).unwrap(), input, None)
            .await
            .unwrap()
    }

    pub async fn approval(&self, id: ApprovalId) -> ApprovalRequest {
        ApprovalRepository::get(self.store.as_ref(), id)
            .await
            .unwrap()
            .unwrap()
    }

    /// Asserts that the request is still pending, undecided, with only its `Requested` event.
    pub async fn assert_untouched(&self, id: ApprovalId) {
        let approval = self.approval(id).await;
        assert_eq!(approval.status(), Status::Pending);
        assert!(approval.decisions().is_empty());
        assert_eq!(self.event_types(), ["approval.requested"]);
    }

    /// Makes the store's next call fail, as a dropped connection would.
    pub fn fail_next_store_call(&self) {
        self.store
            .fail_next(RepositoryError::Unavailable("connection reset".into()));
    }

    /// Asserts that no message in the outbox was delivered: the routes answer without
    /// calling Slack, and the message updates wait for the relay.
    pub fn assert_nothing_delivered(&self) {
        assert!(
            self.store
                .outbox_messages()
                .iter()
                .all(|(_, delivered)| !delivered)
        );
    }

    /// The event types in the outbox, oldest first.
    pub fn event_types(&self) -> Vec<String> {
        self.store
            .outbox_messages()
            .into_iter()
            .map(|(message, _)| message.event_type)
            .collect()
    }

    /// Clicks a button, signed by Slack now.
    pub async fn click(&self, user: &str, action_id: &str, value: &str) -> Answer {
        self.signed(
            "/slack/interactions",
            &block_actions(user, action_id, value),
        )
        .await
    }

    /// Runs `/<service> <text>` as `user`, signed by Slack now.
    pub async fn command(&self, user: &str, text: &str) -> Answer {
        self.signed(
            "/slack/commands",
            &slash_command(user, concat!("/", env!("SERVICE_NAME"), ""), text),
        )
        .await
    }

    pub async fn signed(&self, path: &str, body: &str) -> Answer {
        let timestamp = self.now().to_string();
        let signature = sign(SIGNING_SECRET, &timestamp, body);
        self.send(
            path,
            body,
            &[
                ("x-slack-request-timestamp", timestamp.as_str()),
                ("x-slack-signature", signature.as_str()),
            ],
        )
        .await
    }

    pub async fn send(&self, path: &str, body: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request =
            Request::post(path).header("content-type", "application/x-www-form-urlencoded");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body.to_owned())).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        Answer {
            status,
            body: body.to_vec(),
        }
    }
}

pub fn input() -> CreateApprovalInput {
    CreateApprovalInput {
        title: "Deploy api v1.4.2 to production".into(),
        destination: "C0123456789".into(),
        ..CreateApprovalInput::default()
    }
}

/// `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`, as Slack computes it.
pub fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// A `block_actions` form body as Slack sends it for a click on a message button, with the
/// fields this service ignores (including a block type it does not know) left in.
pub fn block_actions(user: &str, action_id: &str, value: &str) -> String {
    payload(&json!({
        "type": "block_actions",
        "user": {"id": user, "username": "alice", "name": "alice", "team_id": "T0TEAM"},
        "api_app_id": APP_ID,
        "token": "deprecated-verification-token",
        "container": {
            "type": "message", "message_ts": "1767258000.000100",
            "channel_id": "C0123456789", "is_ephemeral": false
        },
        "trigger_id": "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3",
        "team": {"id": "T0TEAM", "domain": "example"},
        "enterprise": null,
        "is_enterprise_install": false,
        "channel": {"id": "C0123456789", "name": "deploys"},
        "message": {
            "type": "message", "subtype": "bot_message", "ts": "1767258000.000100",
            "text": "Approval requested: Deploy api v1.4.2 to production",
            "blocks": [{"type": "table", "block_id": "x", "rows": []}]
        },
        "state": {"values": {}},
        "response_url": "https://hooks.slack.com/actions/T0TEAM/1232321423432/D09sSasdasdAS9091209",
        "actions": [{
            "action_id": action_id,
            "block_id": "approval-v1",
            "text": {"type": "plain_text", "text": "Approve", "emoji": true},
            "value": value,
            "style": "primary",
            "type": "button",
            "action_ts": "1767258010.840180"
        }]
    }))
}

/// Any interaction payload, form-encoded as Slack posts it.
pub fn payload(json: &Value) -> String {
    serde_urlencoded::to_string([("payload", json.to_string())]).unwrap()
}

/// A slash-command form body as Slack sends it.
pub fn slash_command(user: &str, command: &str, text: &str) -> String {
    serde_urlencoded::to_string([
        ("token", "deprecated-verification-token"),
        ("team_id", "T0TEAM"),
        ("team_domain", "example"),
        ("channel_id", "C0123456789"),
        ("channel_name", "deploys"),
        ("user_id", user),
        ("user_name", "alice"),
        ("command", command),
        ("text", text),
        ("api_app_id", APP_ID),
        (
            "response_url",
            "https://hooks.slack.com/commands/T0TEAM/1/abc",
        ),
        ("trigger_id", "13345224609.738474920.8088930838d88f008e0"),
    ])
    .unwrap()
}
