//! Answers to the person who clicked or typed.

use application::chat::RichText;
use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::blocks::MESSAGE_TEXT_MAX;
use crate::markup::mrkdwn;

/// A message only the person who clicked or typed sees. The answer is a 200 even when it
/// explains a failure: for anything else Slack shows its own, less helpful error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Ephemeral {
    response_type: &'static str,
    /// mrkdwn, with user input escaped.
    text: String,
    /// Only for clicks: keeps the clicked message itself as it is (the relay updates it).
    #[serde(skip_serializing_if = "Option::is_none")]
    replace_original: Option<bool>,
}

impl Ephemeral {
    pub(crate) fn to_click(text: &RichText) -> Self {
        Self::new(text, Some(false))
    }

    pub(crate) fn to_command(text: &RichText) -> Self {
        Self::new(text, None)
    }

    fn new(text: &RichText, replace_original: Option<bool>) -> Self {
        Self {
            response_type: "ephemeral",
            text: mrkdwn(text, MESSAGE_TEXT_MAX),
            replace_original,
        }
    }
}

impl IntoResponse for Ephemeral {
    fn into_response(self) -> Response {
        Json(self).into_response()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_click_reply_leaves_the_original_message_alone() {
        assert_eq!(
            serde_json::to_value(Ephemeral::to_click(&"hi".into())).unwrap(),
            json!({"response_type": "ephemeral", "text": "hi", "replace_original": false})
        );
        assert_eq!(
            serde_json::to_value(Ephemeral::to_command(&"hi".into())).unwrap(),
            json!({"response_type": "ephemeral", "text": "hi"})
        );
    }

    #[test]
    fn reply_text_is_mrkdwn_with_user_text_escaped() {
        let text = RichText::new().text("no <!here> ").strong("a&b");
        assert_eq!(
            serde_json::to_value(Ephemeral::to_command(&text)).unwrap()["text"],
            "no &lt;!here&gt; *a&amp;b*"
        );
    }
}
