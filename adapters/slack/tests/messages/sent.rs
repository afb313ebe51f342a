//! What Slack receives for a message: the gateway posts it to a fake Slack, and these read
//! the body back.

use adapter_slack::{SlackGateway, SlackSettings};
use application::chat::ChatMessage;
use application::ports::ChatGateway;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

// Block Kit limits, in characters.
pub const SECTION_TEXT_MAX: usize = 3000;
pub const CONFIRM_TITLE_MAX: usize = 100;
pub const MESSAGE_TEXT_MAX: usize = 4000;

/// The `text` and `blocks` Slack receives when `message` is posted.
pub async fn sent(message: &ChatMessage) -> Value {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "channel": "C1", "ts": "1.2"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let gateway = SlackGateway::new(&SlackSettings {
        api_base_url: format!("{}/api", server.uri()),
        ..SlackSettings::new("xoxb-test".into(), "signing-secret".into())
    })
    .unwrap();
    gateway.post(message).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    json!({"text": body["text"], "blocks": body["blocks"]})
}

pub fn text_of(block: &Value) -> &str {
    block["text"]["text"].as_str().unwrap()
}

/// The `action_id` of every button.
pub fn action_ids(message: &Value) -> Vec<&str> {
    message["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap())
        .map(|e| e["action_id"].as_str().unwrap())
        .collect()
}
