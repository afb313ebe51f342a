//! The fake Slack Web API these tests run against: a wiremock server that accepts only
//! well-formed message calls with the bot token, the gateway pointed at it, and readers of
//! what it received.

use std::time::Duration;

use adapter_slack::{SlackGateway, SlackSettings};
use application::chat::ChatMessage;
use application::ports::{ChatError, ChatGateway, MessageRef};
use serde_json::{Value, json};
use wiremock::matchers::{bearer_token, body_partial_json, header, method, path};
use wiremock::{Match, Mock, MockBuilder, MockServer, Request, ResponseTemplate};

pub const TOKEN: &str = "xoxb-test";
pub const CHANNEL: &str = "C0123456789";
pub const TS: &str = "1700000000.000100";

/// Accepts only a body that is a well-formed message call: JSON with a channel, a non-empty
/// fallback `text`, non-empty `blocks` that each have a type, and for updates a `ts`.
pub struct MessageCall {
    pub update: bool,
}

impl Match for MessageCall {
    fn matches(&self, request: &Request) -> bool {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return false;
        };
        let text = |key: &str| body[key].as_str().is_some_and(|s| !s.is_empty());
        let blocks = body["blocks"]
            .as_array()
            .is_some_and(|b| !b.is_empty() && b.iter().all(|b| b["type"].is_string()));
        text("channel") && text("text") && blocks && (!self.update || text("ts"))
    }
}

/// A call to Web API `name` as this gateway must make it.
pub fn slack_method(name: &str) -> MockBuilder {
    Mock::given(method("POST"))
        .and(path(format!("/api/{name}")))
        .and(bearer_token(TOKEN))
        .and(header("content-type", "application/json; charset=utf-8"))
        .and(MessageCall {
            update: name == "chat.update",
        })
}

pub fn gateway(server: &MockServer) -> SlackGateway {
    gateway_with_timeout(server, SlackSettings::DEFAULT_TIMEOUT)
}

pub fn gateway_with_timeout(server: &MockServer, timeout: Duration) -> SlackGateway {
    SlackGateway::new(&SlackSettings {
        api_base_url: format!("{}/api", server.uri()),
        timeout,
        ..SlackSettings::new(TOKEN.into(), "signing-secret".into())
    })
    .unwrap()
}

pub fn buttons(body: &Value) -> Vec<(String, String)> {
    body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap())
        .map(|b| {
            (
                b["action_id"].as_str().unwrap().to_owned(),
                b["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub fn message_ref() -> MessageRef {
    MessageRef {
        channel: CHANNEL.into(),
        message_id: TS.into(),
    }
}

pub fn ok_posted() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "ok": true,
        "channel": CHANNEL,
        "ts": TS,
        "message": {"type": "message", "subtype": "bot_message", "bot_id": "B0BOT", "ts": TS, "text": "…"}
    }))
}

pub fn ok_updated() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"ok": true, "channel": CHANNEL, "ts": TS, "text": "…"}))
}

pub fn slack_error(code: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": code}))
}

pub async fn only_body(server: &MockServer) -> Value {
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    serde_json::from_slice(&requests[0].body).unwrap()
}

/// Posts `message` to a fake that expects exactly that call, with a body holding `expected`;
/// fails unless the gateway returns where the message lives. Returns the body Slack received.
pub async fn posted_body(message: &ChatMessage, expected: Value) -> Value {
    let server = MockServer::start().await;
    slack_method("chat.postMessage")
        .and(body_partial_json(expected))
        .respond_with(ok_posted())
        .expect(1)
        .mount(&server)
        .await;

    let posted = gateway(&server).post(message).await.unwrap();

    assert_eq!(posted, message_ref());
    only_body(&server).await
}

/// Updates the message at `message_ref()` to `message`, through a fake that expects exactly
/// that call; returns the body Slack received.
pub async fn updated_body(message: &ChatMessage) -> Value {
    let server = MockServer::start().await;
    slack_method("chat.update")
        .and(body_partial_json(json!({"channel": CHANNEL, "ts": TS})))
        .respond_with(ok_updated())
        .expect(1)
        .mount(&server)
        .await;

    gateway(&server)
        .update(&message_ref(), message)
        .await
        .unwrap();

    only_body(&server).await
}

/// Sends `message` by Web API `name` (`chat.update` of the message at `message_ref()`, or
/// `chat.postMessage`), and returns the error the gateway must report.
pub async fn send_failing(gateway: &SlackGateway, name: &str, message: &ChatMessage) -> ChatError {
    if name == "chat.update" {
        gateway.update(&message_ref(), message).await.unwrap_err()
    } else {
        gateway.post(message).await.unwrap_err()
    }
}

/// For each `(method, code, retryable)`: Slack answers `method` (`chat.postMessage` or
/// `chat.update`) of `message` with the error `code`, and the gateway must report an error
/// naming the code, retryable or permanent as the case says.
pub async fn assert_errors_classified(message: &ChatMessage, cases: &[(&str, &str, bool)]) {
    let server = MockServer::start().await;
    let gateway = gateway(&server);
    for &(name, code, retryable) in cases {
        server.reset().await;
        slack_method(name)
            .respond_with(slack_error(code))
            .expect(1)
            .mount(&server)
            .await;

        let error = send_failing(&gateway, name, message).await;

        assert!(error.to_string().contains(code), "{name} {code}: {error}");
        assert_eq!(
            !matches!(error, ChatError::Permanent { .. }),
            retryable,
            "{name} {code}: {error}"
        );
        server.verify().await;
    }
}
