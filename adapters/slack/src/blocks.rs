//! Block Kit, the layout language of Slack messages: the few pieces this adapter builds its
//! messages from, their limits, and one module per message (`approval`, `alert`).
//!
//! A message always renders its subject's *current* state, so posting and every later update
//! go through the same function, and a late update cannot show anything older than what it
//! was given. Every text respects its Block Kit limit by construction (see `text.rs` for how
//! it is cut).

mod alert;
mod approval;

use serde::Serialize;

use crate::text::truncate;

pub(crate) use alert::{
    ACKNOWLEDGE_ACTION, RESOLVE_ACTION, acknowledged_line, alert_headline, alert_message,
    resolved_line,
};
pub(crate) use approval::{APPROVE_ACTION, REJECT_ACTION, approval_message};

// Block Kit limits, in characters.
const SECTION_TEXT_MAX: usize = 3000;
const BUTTON_TEXT_MAX: usize = 75;
const CONFIRM_TITLE_MAX: usize = 100;
const CONFIRM_TEXT_MAX: usize = 300;
const CONFIRM_BUTTON_MAX: usize = 30;
/// Slack accepts more, but `chat.update` refuses a `text` over 4,000 (`msg_too_long`).
pub(crate) const MESSAGE_TEXT_MAX: usize = 4000;

/// The `text` and `blocks` of a `chat.postMessage` or `chat.update` call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Message {
    /// The notification and screen-reader fallback; always set.
    pub text: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Block {
    Section {
        text: Text,
    },
    Context {
        elements: Vec<Text>,
    },
    Actions {
        block_id: String,
        elements: Vec<Button>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Text {
    /// Formatted text. Whoever builds one escapes user input and keeps within the limit.
    Mrkdwn { text: String },
    /// Shown as is; needs no escaping.
    PlainText { text: String },
}

impl Text {
    fn plain(text: &str, max_chars: usize) -> Self {
        Self::PlainText {
            text: truncate(text, max_chars),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename = "button")]
pub(crate) struct Button {
    action_id: &'static str,
    text: Text,
    /// The id of what the button acts on (an approval request or an alert).
    value: String,
    /// `None` is Slack's default, neutral look.
    #[serde(skip_serializing_if = "Option::is_none")]
    style: Option<ButtonStyle>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confirm: Option<Confirm>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum ButtonStyle {
    Primary,
    Danger,
}

/// The "are you sure?" dialog Slack shows before sending a click.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Confirm {
    title: Text,
    text: Text,
    confirm: Text,
    deny: Text,
    style: ButtonStyle,
}

/// A mrkdwn section whose text the caller built within [`SECTION_TEXT_MAX`].
fn section(text: String) -> Block {
    Block::Section {
        text: Text::Mrkdwn { text },
    }
}
