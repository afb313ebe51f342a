//! Proves that no secret reaches a log line, an error message or a response body: the real
//! wiring (`service::build` on a SQLite file, Slack against a fake on loopback) handles
//! good and bad requests and delivers a message, start-up and configuration fail with a
//! database password in the URL, and every log line of all of it is captured and searched.
//!
//! A test binary of its own on purpose: the capturing subscriber is the process's global
//! one, so it also sees what runs on other threads (sqlx's SQLite workers), and `tracing`
//! decides per call site whether anyone listens the first time the site is reached; alone
//! in its process, with the subscriber installed first, this test sees every line. Keep it
//! the only test here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a failed test with a clear message"
)]

use std::error::Error;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use application::ports::CHAT_SINK;
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use secrecy::ExposeSecret;
use service::{App, Config};
use tower::ServiceExt as _;
use tracing_subscriber::fmt::format::FmtSpan;

const BOT_TOKEN: &str = "xoxb-leak-test-bot-token";
const SIGNING_SECRET: &str = "leak-test-signing-secret";
const DB_PASSWORD: &str = "leak-test-db-password";
/// A key a client presents that is not one of ours: not ours to log either.
const WRONG_KEY: &str = "leak-test-wrong-api-key";

/// Everything the process logs, in memory.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Slack's Web API as far as this test needs it: every call is answered `invalid_auth`, the
/// answer to a revoked token, and the `Authorization` header it carried is kept.
async fn fake_slack() -> (String, Arc<Mutex<Vec<String>>>) {
    let authorizations = Arc::new(Mutex::new(Vec::new()));
    let router = Router::new().fallback({
        let authorizations = authorizations.clone();
        move |headers: HeaderMap| async move {
            let authorization = headers
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            authorizations.lock().unwrap().push(authorization);
            Json(serde_json::json!({ "ok": false, "error": "invalid_auth" }))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, authorizations)
}

/// Sends a request in-process; returns the status and the body as text.
async fn send(app: &App, request: Request<Body>) -> (StatusCode, String) {
    let response = app.router().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn with_key(method: Method, path: &str, key: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
}

/// An error as `main` prints it, with its sources, followed by its `Debug` form.
fn error_text(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    format!("{text}\n{error:?}")
}

#[tokio::test]
async fn no_secret_reaches_a_log_line_an_error_message_or_a_response_body() {
    let logs = CapturedLogs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::FULL)
        .with_ansi(false)
        .with_writer({
            let logs = logs.clone();
            move || logs.clone()
        })
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    // What the service said besides its logs: response bodies and error messages.
    let mut said = Vec::new();

    let (slack_url, authorizations) = fake_slack().await;
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_env([
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
            dir.path().join("leaks.db").to_string_lossy().into_owned(),
        ),
        ("SLACK_BOT_TOKEN", BOT_TOKEN.to_owned()),
        ("SLACK_SIGNING_SECRET", SIGNING_SECRET.to_owned()),
        ("SLACK_API_BASE_URL", slack_url),
    ])
    .unwrap();
    said.push(format!("{config:?}\n{}", config.report()));
    let app = service::build(&config).await.unwrap();
    let created = app.use_cases().create_api_key.execute("ci").await.unwrap();
    let api_key = created.key.expose_secret().to_owned();

    // A good request, and one with a key that is not ours.
    let (status, body) = send(
        &app,
        with_key(Method::POST, "/v1/approvals", &api_key)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                r##"{"title":"Deploy v7","destination":"#deploys"}"##,
            ))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    said.push(body);
    let (status, body) = send(
        &app,
        with_key(Method::GET, "/v1/approvals", WRONG_KEY)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    said.push(body);

    // A button click whose signature was not made with our signing secret.
    let (status, body) = send(
        &app,
        Request::post("/slack/interactions")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(
                "x-slack-request-timestamp",
                chrono::Utc::now().timestamp().to_string(),
            )
            .header("x-slack-signature", format!("v0={}", "0".repeat(64)))
            .body(Body::from("payload=%7B%7D"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    said.push(body);

    // The relay posts the approval with the bot token, and Slack refuses it.
    let report = app
        .use_cases()
        .relay(CHAT_SINK)
        .unwrap()
        .execute()
        .await
        .unwrap();
    assert_eq!(report.claimed, 1);
    assert_eq!(
        authorizations.lock().unwrap().as_slice(),
        [format!("Bearer {BOT_TOKEN}")],
        "the bot token was used, so its absence below means something"
    );

    // Start-up fails: nothing listens on port 1.
    let unreachable = format!("postgres://app:{DB_PASSWORD}@127.0.0.1:1/service");
    let config = Config::from_env([
        ("DATABASE_URL", unreachable.as_str()),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_DB_ACQUIRE_TIMEOUT"),
            "1s",
        ),
    ])
    .unwrap();
    let Err(error) = service::build(&config).await else {
        panic!("nothing listens on 127.0.0.1:1, yet the store opened");
    };
    said.push(error_text(&error));

    // The configuration is refused, once from the environment and once from a file.
    let error = Config::from_env([
        ("DATABASE_URL", unreachable.as_str()),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
            "local.db",
        ),
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
    ])
    .unwrap_err();
    said.push(error_text(&error));
    let file = dir.path().join("service.env");
    std::fs::write(
        &file,
        format!(
            "DATABASE_URL={unreachable}\n{SIGNING_SECRET}\n{}_ADDR=nowhere\n",
            env!("SERVICE_ENV_PREFIX")
        ),
    )
    .unwrap();
    let error = Config::from_env([(
        concat!(env!("SERVICE_ENV_PREFIX"), "_CONFIG_FILE"),
        file.as_os_str(),
    )])
    .unwrap_err();
    said.push(error_text(&error));

    let logs = logs.text();
    // Proves the capture worked: start-up, requests and the relay all logged.
    for expected in [
        "opening the store",
        "http_request",
        "refused a Slack request: bad signature",
        "chat.postMessage: invalid_auth",
        "PostgreSQL at postgres://app:***@127.0.0.1:1/service",
    ] {
        assert!(logs.contains(expected), "no {expected:?} in:\n{logs}");
    }
    for secret in [
        api_key.as_str(),
        WRONG_KEY,
        BOT_TOKEN,
        SIGNING_SECRET,
        DB_PASSWORD,
    ] {
        for line in logs.lines() {
            assert!(!line.contains(secret), "a log line holds {secret}:\n{line}");
        }
        for text in &said {
            assert!(!text.contains(secret), "{secret} was said:\n{text}");
        }
    }
}
