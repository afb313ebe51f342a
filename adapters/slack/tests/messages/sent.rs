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

/// The confirmation dialog of a button that settles something: `verb` confirms, Cancel
/// denies, both styled `style`.
pub fn confirm_dialog(title: &str, text: &str, verb: &str, style: &str) -> Value {
    json!({
        "title": {"type": "plain_text", "text": title},
        "text": {"type": "plain_text", "text": text},
        "confirm": {"type": "plain_text", "text": verb},
        "deny": {"type": "plain_text", "text": "Cancel"},
        "style": style
    })
}

/// Asserts the limits that cut a long message: its first section and fallback text are
/// within Block Kit's, and the second button's confirmation title is cut to the full
/// limit, ending in `title_end`.
pub fn assert_cut_to_block_kit_limits(message: &Value, title_end: &str) {
    assert!(text_of(&message["blocks"][0]).chars().count() <= SECTION_TEXT_MAX);
    let confirm_title = message["blocks"][2]["elements"][1]["confirm"]["title"]["text"]
        .as_str()
        .unwrap();
    assert_eq!(confirm_title.chars().count(), CONFIRM_TITLE_MAX);
    assert!(confirm_title.ends_with(title_end), "{confirm_title}");
    assert!(message["text"].as_str().unwrap().chars().count() <= MESSAGE_TEXT_MAX);
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
