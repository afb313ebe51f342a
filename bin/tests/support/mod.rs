//! Shared by the tests that run the service as separate processes: a fake Slack, the
//! processes' environment, starting them, creating approvals through the library, and the
//! event stream's test helpers (a stream of its own per test, a TCP proxy in front of NATS).

// Each test crate that declares this module uses only a part of it.
#![allow(dead_code, reason = "each test file uses a part of the shared helpers")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a panic in a test is a failed test with its message"
)]

pub mod nats;
pub mod process;

use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use application::use_cases::{CreateApprovalInput, DecideInput};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use domain::{ApprovalId, Identity, Verdict};
use serde_json::{Value, json};
use service::Config;

pub const BOT_TOKEN: &str = "xoxb-relay-process-test";
pub const SIGNING_SECRET: &str = "relay-process-test-secret";

/// A fake Slack whose `chat.postMessage` can be made to hang (as Slack does when it is
/// slow) or to refuse the channel; it keeps the titles of the posts it accepted.
#[derive(Clone, Default)]
pub struct FakeSlack {
    pub hang: Arc<AtomicBool>,
    pub refuse: Arc<AtomicBool>,
    pub received: Arc<AtomicU64>,
    posted: Arc<Mutex<Vec<String>>>,
}

impl FakeSlack {
    pub async fn start(self) -> (Self, String) {
        let router = Router::new()
            .route("/api/chat.postMessage", post(post_message))
            .route("/api/chat.update", post(update_message))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (self, url)
    }

    pub fn posted(&self) -> Vec<String> {
        let mut titles = self
            .posted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        titles.sort();
        titles
    }
}

async fn post_message(State(slack): State<FakeSlack>, Json(body): Json<Value>) -> Json<Value> {
    slack.received.fetch_add(1, Ordering::SeqCst);
    if slack.hang.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if slack.refuse.load(Ordering::SeqCst) {
        return Json(json!({"ok": false, "error": "channel_not_found"}));
    }
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    let ts = {
        let mut posted = slack.posted.lock().unwrap_or_else(PoisonError::into_inner);
        posted.push(text);
        format!("1700000000.{:06}", posted.len())
    };
    Json(json!({"ok": true, "channel": body["channel"], "ts": ts}))
}

async fn update_message(Json(body): Json<Value>) -> Json<Value> {
    Json(json!({"ok": true, "channel": body["channel"], "ts": body["ts"]}))
}

/// The environment of every process and of the in-process application: one SQLite file,
/// Slack at `slack_url`.
pub fn environment(database: &str, slack_url: &str) -> Vec<(String, String)> {
    [
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
            database,
        ),
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", SIGNING_SECRET),
        ("SLACK_API_BASE_URL", slack_url),
        // Longer than the test: a hanging call ends only with its process.
        ("SLACK_TIMEOUT", "600s"),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_IDLE_INTERVAL"),
            "100ms",
        ),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect()
}

pub fn binary(args: &[&str], env: &[(String, String)]) -> Command {
    let mut command = Command::new(env!(concat!("CARGO_BIN_EXE_", env!("SERVICE_NAME"))));
    command
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    command
}

pub fn run(args: &[&str], env: &[(String, String)]) -> Output {
    let output = binary(args, env).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

pub fn spawn_relay(env: &[(String, String)]) -> Child {
    binary(&["relay"], env)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Creates `count` approval requests through the library, as the REST API would.
pub async fn request_approvals(env: &[(String, String)], count: usize) -> service::App {
    let config = Config::from_env(env.iter().cloned()).unwrap();
    let app = service::build(&config).await.unwrap();
    create_approvals(&app, 0..count).await;
    app
}

/// Creates the approvals "Deploy build {n}?" for each `n` of `numbers` on `app`, in order.
pub async fn create_approvals(
    app: &service::App,
    numbers: std::ops::Range<usize>,
) -> Vec<ApprovalId> {
    let mut ids = Vec::new();
    for n in numbers {
        let input = CreateApprovalInput {
            title: format!("Deploy build {n}?"),
            destination: "C0DEPLOYS".into(),
            ..CreateApprovalInput::default()
        };
        let created = app
            .use_cases()
            .create_approval
            .execute(Identity::parse("ci").unwrap(), input, None)
            .await
            .unwrap();
        ids.push(created.id());
    }
    ids
}

/// Approves each of `ids` as alice, through the library.
pub async fn approve(app: &service::App, ids: &[ApprovalId]) {
    for id in ids {
        let input = DecideInput {
            approval_id: *id,
            approver: Identity::parse("alice").unwrap(),
            verdict: Verdict::Approve,
            comment: None,
        };
        app.use_cases().decide.execute(input, None).await.unwrap();
    }
}

pub async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

pub fn titles(count: usize) -> Vec<String> {
    let mut titles: Vec<String> = (0..count)
        .map(|n| format!("Approval requested: Deploy build {n}?"))
        .collect();
    titles.sort();
    titles
}
