//! The relay as separate processes, the way an operator runs it: one killed with SIGKILL in
//! the middle of a batch, and dead letters re-driven with the `outbox` subcommands.

// Helpers below are test code too; clippy.toml's allowances only reach `#[test]` functions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a panic in a test is a failed test with its message"
)]

use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use application::ports::CHAT_SINK;
use application::use_cases::CreateApprovalInput;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use domain::Identity;
use serde_json::{Value, json};
use service::Config;

const BOT_TOKEN: &str = "xoxb-relay-process-test";
const SIGNING_SECRET: &str = "relay-process-test-secret";

/// A fake Slack whose `chat.postMessage` can be made to hang (as Slack does when it is
/// slow) or to refuse the channel; it keeps the titles of the posts it accepted.
#[derive(Clone, Default)]
struct FakeSlack {
    hang: Arc<AtomicBool>,
    refuse: Arc<AtomicBool>,
    received: Arc<AtomicU64>,
    posted: Arc<Mutex<Vec<String>>>,
}

impl FakeSlack {
    async fn start(self) -> (Self, String) {
        let router = Router::new()
            .route("/api/chat.postMessage", post(post_message))
            .route("/api/chat.update", post(update_message))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (self, url)
    }

    fn posted(&self) -> Vec<String> {
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
fn environment(database: &str, slack_url: &str) -> Vec<(String, String)> {
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

fn binary(args: &[&str], env: &[(String, String)]) -> Command {
    let mut command = Command::new(env!(concat!("CARGO_BIN_EXE_", env!("SERVICE_NAME"))));
    command
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    command
}

fn run(args: &[&str], env: &[(String, String)]) -> Output {
    let output = binary(args, env).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn spawn_relay(env: &[(String, String)]) -> Child {
    binary(&["relay"], env)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Creates `count` approval requests through the library, as the REST API would.
async fn request_approvals(env: &[(String, String)], count: usize) -> service::App {
    let config = Config::from_env(env.iter().cloned()).unwrap();
    let app = service::build(&config).await.unwrap();
    for n in 0..count {
        let input = CreateApprovalInput {
            title: format!("Deploy build {n}?"),
            destination: "C0DEPLOYS".into(),
            ..CreateApprovalInput::default()
        };
        app.use_cases()
            .create_approval
            .execute(Identity::parse("ci").unwrap(), input, None)
            .await
            .unwrap();
    }
    app
}

async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

fn titles(count: usize) -> Vec<String> {
    let mut titles: Vec<String> = (0..count)
        .map(|n| format!("Approval requested: Deploy build {n}?"))
        .collect();
    titles.sort();
    titles
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_relays_claimed_messages_are_delivered_by_another_within_thirty_seconds() {
    const REQUESTS: usize = 6;
    let (slack, slack_url) = FakeSlack::default().start().await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("service.db").display().to_string();
    let env = environment(&database, &slack_url);
    request_approvals(&env, REQUESTS).await;

    // The first relay claims a batch and hangs inside Slack calls, holding its claims.
    slack.hang.store(true, Ordering::SeqCst);
    let mut first = spawn_relay(&env);
    assert!(
        wait_until(Duration::from_secs(30), || slack
            .received
            .load(Ordering::SeqCst)
            > 0)
        .await,
        "the first relay never called Slack"
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let killed = Instant::now();
    slack.hang.store(false, Ordering::SeqCst);

    let mut second = spawn_relay(&env);
    let all_posted = wait_until(Duration::from_secs(60), || slack.posted().len() >= REQUESTS).await;
    let took = killed.elapsed();
    second.kill().unwrap();
    second.wait().unwrap();

    assert!(all_posted, "posted: {:?}", slack.posted());
    assert!(
        took < Duration::from_secs(30),
        "took {took:?} after the kill"
    );
    assert_eq!(slack.posted(), titles(REQUESTS), "each request posted once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_re_driven_with_the_cli_is_delivered() {
    let (slack, slack_url) = FakeSlack::default().start().await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("service.db").display().to_string();
    let env = environment(&database, &slack_url);
    let app = request_approvals(&env, 1).await;
    let relay = app.use_cases().relay(CHAT_SINK).unwrap();

    // The channel does not exist (yet): a permanent error, dead-lettered at once.
    slack.refuse.store(true, Ordering::SeqCst);
    assert_eq!(relay.execute().await.unwrap().dead_lettered, 1);
    let listed = String::from_utf8(run(&["outbox", "dead-letters"], &env).stdout).unwrap();
    let fields: Vec<&str> = listed.trim_end().split('\t').collect();
    assert_eq!(fields.len(), 7, "{listed}");
    assert_eq!(fields[1..3], ["chat", "approval.requested"], "{listed}");
    assert!(fields[6].contains("channel_not_found"), "{listed}");

    // The channel is fixed; the operator puts the message back in line.
    slack.refuse.store(false, Ordering::SeqCst);
    let retried = run(&["outbox", "retry", "--id", fields[0]], &env);
    assert!(
        String::from_utf8_lossy(&retried.stderr).contains("1 dead letter(s) put back in line"),
        "{}",
        String::from_utf8_lossy(&retried.stderr)
    );
    assert_eq!(relay.execute().await.unwrap().delivered, 1);

    assert_eq!(slack.posted(), titles(1));
    assert!(run(&["outbox", "dead-letters"], &env).stdout.is_empty());
}
