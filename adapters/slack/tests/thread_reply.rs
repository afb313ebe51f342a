//! A reply in a message's thread against a fake Slack (wiremock): one `chat.postMessage`
//! with the message's `ts` as `thread_ts`, its mentions as Slack mentions, no blocks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapter_slack::{SlackGateway, SlackSettings};
use application::chat::{ChatReply, RichText, SubjectRef, Tone};
use application::ports::{ChatError, ChatGateway, MessageRef};
use domain::Identity;
use serde_json::{Value, json};
use wiremock::matchers::{bearer_token, body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "xoxb-test";

fn gateway(server: &MockServer) -> SlackGateway {
    SlackGateway::new(&SlackSettings {
        api_base_url: format!("{}/api", server.uri()),
        ..SlackSettings::new(TOKEN.into(), "signing-secret".into())
    })
    .unwrap()
}

fn reminder() -> ChatReply {
    ChatReply {
        subject: SubjectRef {
            kind: "approval",
            id: uuid::Uuid::from_u128(1),
            version: 2,
        },
        tone: Tone::Neutral,
        text: RichText::new()
            .text("Reminder: <deploy> waits. ")
            .person(&Identity::parse("slack:U2CERLKJA").unwrap())
            .text(", please decide."),
    }
}

fn message() -> MessageRef {
    MessageRef {
        channel: "C0123456789".into(),
        message_id: "1700000000.000100".into(),
    }
}

#[tokio::test]
async fn a_reply_is_posted_in_the_thread_of_the_message_and_mentions_its_people() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(bearer_token(TOKEN))
        .and(header("content-type", "application/json; charset=utf-8"))
        .and(body_partial_json(json!({
            "channel": "C0123456789",
            "thread_ts": "1700000000.000100",
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "channel": "C0123456789", "ts": "1700000000.000200"
        })))
        .expect(1)
        .mount(&server)
        .await;

    gateway(&server)
        .reply(&message(), &reminder())
        .await
        .unwrap();

    let requests = server.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(
        body["text"],
        "Reminder: &lt;deploy&gt; waits. <@U2CERLKJA>, please decide."
    );
    assert!(body.get("blocks").is_none(), "{body}");
}

#[tokio::test]
async fn a_reply_to_a_message_slack_no_longer_has_is_permanent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "thread_not_found"})),
        )
        .mount(&server)
        .await;
    let result = gateway(&server).reply(&message(), &reminder()).await;
    assert!(
        matches!(&result, Err(ChatError::Permanent { reason }) if reason.contains("thread_not_found")),
        "{result:?}"
    );
}
