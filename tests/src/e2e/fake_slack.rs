//! A fake Slack Web API on a loopback port (wiremock), faithful to what the real one checks
//! and answers (see `shared/reference/chat-protocols.md` §4 and §8.1).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{bearer_token, header, method, path};
use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

/// The bot token the application is configured with; the fake refuses any other.
pub const BOT_TOKEN: &str = "xoxb-e2e-test-token";
pub const POST: &str = "/chat.postMessage";
pub const UPDATE: &str = "/chat.update";

/// Answers like Slack: `ok`, the channel, and a fresh `ts` per posted message.
struct Answer {
    next_ts: Arc<AtomicU64>,
    /// (endpoint, body, ts) of every call answered with `ok: true`.
    answered: Answered,
}

/// (endpoint, body, the `ts` answered) of every call answered with `ok: true`.
type Answered = Arc<Mutex<Vec<(String, Value, String)>>>;

impl Respond for Answer {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "invalid_json"}));
        };
        // Slack refuses a message without a text fallback or blocks.
        if body["channel"].as_str().is_none() || body["text"].as_str().is_none() {
            return ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "no_text"}));
        }
        let ts = match body["ts"].as_str() {
            Some(ts) => ts.to_owned(),
            None => format!(
                "1700000000.{:06}",
                self.next_ts.fetch_add(1, Ordering::Relaxed)
            ),
        };
        self.answered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((request.url.path().to_owned(), body.clone(), ts.clone()));
        ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "channel": body["channel"],
            "ts": ts,
            "message": {"type": "message", "text": body["text"], "ts": ts},
        }))
    }
}

/// Matches while its flag is set: a failure that lasts until the test ends it.
struct While(Arc<AtomicBool>);

impl Match for While {
    fn matches(&self, _: &Request) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The fake, with helpers to script failures and read what it received.
pub struct FakeSlack {
    pub server: MockServer,
    next_ts: Arc<AtomicU64>,
    answered: Answered,
}

impl FakeSlack {
    /// Starts a fake that accepts every well-formed, authenticated call.
    pub async fn start() -> Self {
        let slack = Self {
            server: MockServer::start().await,
            next_ts: Arc::new(AtomicU64::new(100)),
            answered: Answered::default(),
        };
        slack.succeed(POST).await;
        slack.succeed(UPDATE).await;
        slack
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    fn authenticated(endpoint: &str) -> wiremock::MockBuilder {
        Mock::given(method("POST"))
            .and(path(endpoint))
            .and(bearer_token(BOT_TOKEN))
            .and(header("content-type", "application/json; charset=utf-8"))
    }

    /// Answers calls to `endpoint` like Slack does, below any scripted failure (wiremock
    /// prefers the lower priority number).
    async fn succeed(&self, endpoint: &str) {
        Self::authenticated(endpoint)
            .respond_with(Answer {
                next_ts: self.next_ts.clone(),
                answered: self.answered.clone(),
            })
            .with_priority(10)
            .mount(&self.server)
            .await;
    }

    /// The next `times` calls to `endpoint` get `response` instead of a success.
    pub async fn fail(&self, endpoint: &str, times: u64, response: ResponseTemplate) {
        Self::authenticated(endpoint)
            .respond_with(response)
            .up_to_n_times(times)
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    /// Calls to `endpoint` get `response` for as long as `broken` is set.
    pub async fn fail_while(
        &self,
        endpoint: &str,
        broken: Arc<AtomicBool>,
        response: ResponseTemplate,
    ) {
        Self::authenticated(endpoint)
            .and(While(broken))
            .respond_with(response)
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    /// Every call to `endpoint` from now on waits `delay` before Slack answers.
    pub async fn hold(&self, endpoint: &str, delay: Duration) {
        Self::authenticated(endpoint)
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"ok": true, "channel": "C1", "ts": "1.1"}))
                    .set_delay(delay),
            )
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    /// The bodies of the calls to `endpoint` that Slack answered with `ok: true`, in
    /// arrival order: a successful `chat.postMessage` is a message in the channel.
    pub fn answered(&self, endpoint: &str) -> Vec<Value> {
        self.answered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|(path, _, _)| path == endpoint)
            .map(|(_, body, _)| body.clone())
            .collect()
    }

    /// The `ts` of every message posted to a channel (not in a thread), in posting order.
    pub fn posted_ts(&self) -> Vec<String> {
        self.answered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|(path, body, _)| path == POST && body.get("thread_ts").is_none())
            .map(|(_, _, ts)| ts.clone())
            .collect()
    }

    /// The bodies of the replies posted in the thread of the message `ts`, in order.
    pub fn thread(&self, ts: &str) -> Vec<Value> {
        self.answered(POST)
            .into_iter()
            .filter(|body| body["thread_ts"] == ts)
            .collect()
    }

    /// The JSON bodies of every call to `endpoint` so far, in arrival order.
    pub async fn calls(&self, endpoint: &str) -> Vec<Value> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == endpoint)
            .filter_map(|r| serde_json::from_slice(&r.body).ok())
            .collect()
    }

    /// Waits (up to 30 s) until `endpoint` was called at least `n` times; returns the calls.
    pub async fn wait_for(&self, endpoint: &str, n: usize) -> Vec<Value> {
        for _ in 0..600 {
            let calls = self.calls(endpoint).await;
            if calls.len() >= n {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "expected {n} call(s) to {endpoint}, got {:?}",
            self.calls(endpoint).await
        );
    }
}
