//! Proves that every log line of a request carries its request id and that the API key never
//! reaches the logs, by capturing every log line of two requests.
//!
//! A test binary of its own on purpose: `tracing` caches per call site whether anyone is
//! interested, and with one thread-local subscriber, a call site first reached by a test on
//! another thread is cached as "nobody listens" — so this test would see some lines only
//! some of the time. Alone in its process, it sees all of them. Keep it the only test here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a failed test with a clear message"
)]

#[path = "../support/mod.rs"]
#[allow(
    dead_code,
    unused_imports,
    reason = "shared with the api tests, which use all of it"
)]
mod support;

use std::io;
use std::sync::{Arc, Mutex};

use axum::http::Method;
use support::{TestApp, call, json_body, new_approval};

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn request_logs_carry_the_request_id_and_never_the_api_key() {
    let app = TestApp::new().await;
    let logs = CapturedLogs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_ansi(false)
        .with_writer({
            let logs = logs.clone();
            move || logs.clone()
        })
        .finish();
    let unknown_key = "unknown-key-that-must-not-be-logged";
    let query_key = "key-in-the-query-string";
    {
        // Thread-local: the current-thread test runtime polls every request on this thread.
        let _guard = tracing::subscriber::set_default(subscriber);
        app.send(json_body(
            call(Method::POST, "/v1/approvals", &app.ci)
                .header("x-request-id", "trace-me-42")
                .header("idempotency-key", "\"k-1\""),
            new_approval("deploy").to_string(),
        ))
        .await;
        app.get("/v1/approvals", unknown_key).await;
        app.get(&format!("/v1/approvals?api_key={query_key}"), unknown_key)
            .await;
    }

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    // Proves the capture worked: the request span and the authenticated client are there.
    assert!(logs.contains("http_request"), "{logs}");
    assert!(logs.contains("client=ci"), "{logs}");
    let lines_of_the_post: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("method=POST"))
        .collect();
    assert!(lines_of_the_post.len() > 1, "{logs}");
    for line in lines_of_the_post {
        assert!(line.contains("request_id=trace-me-42"), "{line}");
    }
    assert!(!logs.contains(&app.ci), "the API key was logged:\n{logs}");
    assert!(
        !logs.contains(unknown_key),
        "a presented key was logged:\n{logs}"
    );
    // The path is logged, the query string is not: clients put keys there too.
    assert!(logs.contains("path=/v1/approvals"), "{logs}");
    assert!(
        !logs.contains(query_key),
        "a key in the query string was logged:\n{logs}"
    );
}
