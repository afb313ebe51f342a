//! The gateway against a fake Slack (wiremock) that checks every call it receives: the
//! method's path, `Authorization: Bearer`, the JSON content type, and the message's shape.
//! A call that fails those checks gets wiremock's 404, which the gateway reports as a
//! permanent "unexpected HTTP 404" — so each test also asserts the reason it expects.

// Test code: a panic is a failed test with a clear message, not a crashed service, and the
// clippy.toml allowances for tests only cover `#[test]` functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use adapter_slack::{SlackGateway, SlackSettings};
use application::chat::approval::approval_message;
use application::ports::{ChatError, ChatGateway};
use chrono::{TimeZone, Utc};
use domain::{ApprovalRequest, Description, Identity, Title, Verdict};
use serde_json::{Value, json};
use wiremock::{MockServer, ResponseTemplate};

mod fake_web_api;
#[path = "../fixtures/approval.rs"]
mod fixture;

use fake_web_api::*;
use fixture::approval;

fn pending() -> ApprovalRequest {
    approval("Deploy api v1.4.2", "to production", 1)
}

/// The error the gateway reports when Slack answers its one call `name` for the pending
/// request with `response`.
async fn error_for(name: &str, response: ResponseTemplate) -> ChatError {
    error_within(SlackSettings::DEFAULT_TIMEOUT, name, response).await
}

/// `error_for`, with a gateway that waits `timeout` for an answer.
async fn error_within(timeout: Duration, name: &str, response: ResponseTemplate) -> ChatError {
    let server = MockServer::start().await;
    slack_method(name)
        .respond_with(response)
        .expect(1)
        .mount(&server)
        .await;
    let gateway = gateway_with_timeout(&server, timeout);

    send_failing(&gateway, name, &approval_message(&pending())).await
}

#[tokio::test]
async fn posting_sends_block_kit_buttons_and_returns_where_the_message_lives() {
    let approval = pending();

    let body = posted_body(
        &approval_message(&approval),
        json!({"channel": CHANNEL, "unfurl_links": false}),
    )
    .await;

    assert_eq!(body["text"], "Approval requested: Deploy api v1.4.2");
    assert_eq!(body["blocks"][2]["type"], "actions");
    let id = approval.id().to_string();
    assert_eq!(
        buttons(&body),
        [
            ("approval_approve".to_owned(), id.clone()),
            ("approval_reject".to_owned(), id)
        ]
    );
}

#[tokio::test]
async fn posting_returns_the_channel_id_slack_answers_with() {
    let server = MockServer::start().await;
    slack_method("chat.postMessage")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "channel": "C0RESOLVED", "ts": TS})),
        )
        .mount(&server)
        .await;

    let posted = gateway(&server)
        .post(&approval_message(&pending()))
        .await
        .unwrap();

    assert_eq!(posted.channel, "C0RESOLVED");
}

#[tokio::test]
async fn updating_replaces_the_message_with_the_outcome_and_no_buttons() {
    let mut approval = pending();
    approval
        .decide(
            Identity::parse("slack:U0ALICE").unwrap(),
            Verdict::Approve,
            None,
            Utc.with_ymd_and_hms(2026, 1, 1, 1, 0, 0).unwrap(),
        )
        .unwrap();

    let body = updated_body(&approval_message(&approval)).await;

    assert_eq!(body["text"], "Approved: Deploy api v1.4.2");
    let blocks = body["blocks"].as_array().unwrap();
    assert!(blocks.iter().all(|b| b["type"] != "actions"));
    assert_eq!(
        blocks[2]["text"]["text"],
        ":white_check_mark: *Approved* by <@U0ALICE>"
    );
}

#[tokio::test]
async fn error_codes_are_classified_as_slack_documents_them() {
    let cases = [
        ("chat.postMessage", "invalid_auth", false),
        ("chat.postMessage", "token_revoked", false),
        ("chat.postMessage", "missing_scope", false),
        ("chat.postMessage", "channel_not_found", false),
        ("chat.postMessage", "not_in_channel", false),
        ("chat.postMessage", "is_archived", false),
        ("chat.postMessage", "invalid_blocks", false),
        ("chat.postMessage", "ratelimited", true),
        ("chat.postMessage", "rate_limited", true),
        ("chat.postMessage", "service_unavailable", true),
        ("chat.postMessage", "internal_error", true),
        ("chat.postMessage", "request_timeout", true),
        ("chat.postMessage", "fatal_error", true),
        ("chat.update", "message_not_found", false),
        ("chat.update", "cant_update_message", false),
        ("chat.update", "edit_window_closed", false),
        ("chat.update", "internal_error", true),
    ];
    assert_errors_classified(&approval_message(&pending()), &cases).await;
}

#[tokio::test]
async fn http_429_is_retried_after_the_seconds_slack_asks_for() {
    let server = MockServer::start().await;
    slack_method("chat.postMessage")
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({"ok": false, "error": "ratelimited"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    slack_method("chat.postMessage")
        .respond_with(ok_posted())
        .mount(&server)
        .await;
    let gateway = gateway(&server);

    let first = gateway.post(&approval_message(&pending())).await;
    let second = gateway.post(&approval_message(&pending())).await;

    assert!(matches!(
        first,
        Err(ChatError::RateLimited { retry_after, .. }) if retry_after == Duration::from_secs(1)
    ));
    assert_eq!(second, Ok(message_ref()));
}

#[tokio::test]
async fn http_429_without_retry_after_waits_thirty_seconds() {
    let error = error_for("chat.postMessage", ResponseTemplate::new(429)).await;

    assert!(matches!(
        error,
        ChatError::RateLimited { retry_after, .. } if retry_after == Duration::from_secs(30)
    ));
}

#[tokio::test]
async fn a_server_error_is_retryable() {
    let error = error_for(
        "chat.update",
        ResponseTemplate::new(500).set_body_string("<html>oops</html>"),
    )
    .await;

    assert_eq!(
        error,
        ChatError::Retryable {
            reason: "chat.update: Slack answered HTTP 500 Internal Server Error".into(),
            retry_after: None
        }
    );
}

#[tokio::test]
async fn an_unreadable_answer_is_retryable() {
    let error = error_for(
        "chat.postMessage",
        ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"),
    )
    .await;

    assert!(
        matches!(&error, ChatError::Retryable { reason, .. } if reason.contains("unreadable answer")),
        "{error}"
    );
}

#[tokio::test]
async fn a_slow_slack_is_a_retryable_timeout() {
    let error = error_within(
        Duration::from_millis(200),
        "chat.postMessage",
        ok_posted().set_delay(Duration::from_secs(2)),
    )
    .await;

    assert_eq!(
        error,
        ChatError::Retryable {
            reason: "chat.postMessage: no answer within 200ms".into(),
            retry_after: None
        }
    );
}

#[tokio::test]
async fn an_unreachable_slack_is_retryable() {
    // A port that was just free: nothing listens there. (A dropped MockServer would not do;
    // wiremock pools and reuses its servers.)
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gateway = SlackGateway::new(&SlackSettings {
        api_base_url: format!("http://127.0.0.1:{port}/api"),
        ..SlackSettings::new(TOKEN.into(), "signing-secret".into())
    })
    .unwrap();

    let error = gateway
        .post(&approval_message(&pending()))
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            ChatError::Retryable {
                retry_after: None,
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn long_texts_are_cut_to_block_kit_limits_before_sending() {
    let server = MockServer::start().await;
    slack_method("chat.postMessage")
        .respond_with(ok_posted())
        .expect(1)
        .mount(&server)
        .await;
    let title = format!("Deploy {}", "é".repeat(Title::MAX_CHARS - 7));
    let description = "<&>".repeat(Description::MAX_CHARS / 3);

    gateway(&server)
        .post(&approval_message(&approval(&title, &description, 1)))
        .await
        .unwrap();

    let body = only_body(&server).await;
    let chars = |value: &Value| value.as_str().unwrap().chars().count();
    assert!(chars(&body["text"]) <= 4000);
    let section = &body["blocks"][0]["text"]["text"];
    assert!(chars(section) <= 3000);
    assert!(
        section
            .as_str()
            .unwrap()
            .starts_with(&format!("*{title}*\n&lt;&amp;&gt;"))
    );
    let reject = &body["blocks"][2]["elements"][1];
    assert!(chars(&reject["text"]["text"]) <= 75);
    let confirm_title = &reject["confirm"]["title"]["text"];
    assert_eq!(chars(confirm_title), 100);
    assert!(confirm_title.as_str().unwrap().ends_with("é…”?"));
    assert!(chars(&reject["confirm"]["text"]["text"]) <= 300);
}
