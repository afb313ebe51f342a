//! A fast fake of the two Slack Web API methods the relay calls, in this process: it answers
//! `ok` at once, so a drain measures hexagate's relay and its store, not a network.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

use crate::Error;

/// The bot token hexagate is given; the fake refuses calls without it, as Slack would.
pub const BOT_TOKEN: &str = "xoxb-bench-token";

#[derive(Debug, Default)]
struct Calls {
    posts: AtomicU64,
    updates: AtomicU64,
    first_post: Mutex<Option<Instant>>,
}

/// The running fake; it stops with the benchmark's runtime.
#[derive(Debug)]
pub struct FakeSlack {
    calls: Arc<Calls>,
    pub base_url: String,
}

impl FakeSlack {
    pub async fn start() -> Result<Self, Error> {
        let calls = Arc::new(Calls::default());
        let router = Router::new()
            .route("/chat.postMessage", post(post_message))
            .route("/chat.update", post(update))
            .with_state(calls.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(Self { calls, base_url })
    }

    /// Waits until `count` messages were posted, for up to `timeout`, and returns the time
    /// from the first post to the last: the drain rate without process start-up.
    pub async fn wait_for_posts(&self, count: u64, timeout: Duration) -> Result<Duration, Error> {
        let started = Instant::now();
        while self.calls.posts.load(Ordering::Relaxed) < count {
            if started.elapsed() > timeout {
                return Err(format!(
                    "only {} of {count} messages arrived within {timeout:?}",
                    self.calls.posts.load(Ordering::Relaxed)
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let first = self.calls.first_post.lock().await.unwrap_or(started);
        Ok(first.elapsed())
    }

    /// `chat.update` calls so far: non-zero means a drain also carried decisions.
    pub fn updates(&self) -> u64 {
        self.calls.updates.load(Ordering::Relaxed)
    }
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value == format!("Bearer {BOT_TOKEN}"))
}

async fn post_message(
    State(calls): State<Arc<Calls>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return Json(json!({"ok": false, "error": "invalid_auth"})).into_response();
    }
    let n = calls.posts.fetch_add(1, Ordering::Relaxed);
    if n == 0 {
        calls
            .first_post
            .lock()
            .await
            .get_or_insert_with(Instant::now);
    }
    answer(&body, format!("1700000000.{n:06}"))
}

async fn update(
    State(calls): State<Arc<Calls>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if !authorized(&headers) {
        return Json(json!({"ok": false, "error": "invalid_auth"})).into_response();
    }
    calls.updates.fetch_add(1, Ordering::Relaxed);
    let ts = body["ts"].as_str().unwrap_or_default().to_owned();
    answer(&body, ts)
}

fn answer(body: &Value, ts: String) -> Response {
    match body["channel"].as_str() {
        Some(channel) => Json(json!({"ok": true, "channel": channel, "ts": ts})).into_response(),
        None => (
            StatusCode::OK,
            Json(json!({"ok": false, "error": "channel_not_found"})),
        )
            .into_response(),
    }
}
