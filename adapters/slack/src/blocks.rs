//! Block Kit, the layout language of Slack messages: the few pieces this adapter builds its
//! messages from, their limits, and [`render`], which lays out any neutral [`ChatMessage`].
//!
//! Every message has the same shape, whatever it is about:
//!
//! 1. a section with the headline and the body,
//! 2. a context line with the facts (`Requested by: …`, `Expires: …`),
//! 3. a section with the outcome so far, once there is one,
//! 4. the buttons, while there are actions left.
//!
//! A message always renders its subject's *current* state, so posting and every later update
//! go through the same function. Every text respects its Block Kit limit by construction
//! (see `markup.rs` for how it is cut).

use application::chat::{Action, ActionStyle, ChatMessage, RichText, SubjectRef};
use serde::Serialize;

use crate::markup::{mrkdwn, plain};
use crate::text::truncate;

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
    /// Formatted text, built by `markup::mrkdwn` with user input escaped.
    Mrkdwn { text: String },
    /// Shown as is; needs no escaping.
    PlainText { text: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename = "button")]
pub(crate) struct Button {
    /// `<kind>_<action>` (`SubjectRef::action_key`): the same on every version of every
    /// message, so the interaction route recognises a click on an old message too.
    action_id: String,
    text: Text,
    /// The id of the subject the button acts on.
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

/// Lays `message` out as Block Kit.
pub(crate) fn render(message: &ChatMessage) -> Message {
    let mut headline = message.headline.clone();
    if !message.body.is_empty() {
        headline = headline.text("\n").text(message.body.as_str());
    }
    let mut blocks = vec![section(&headline)];
    if !message.facts.is_empty() {
        let elements = message.facts.iter().map(|fact| Text::Mrkdwn {
            text: mrkdwn(
                &RichText::new()
                    .text(format!("{}: ", fact.label))
                    .then(fact.value.clone()),
                SECTION_TEXT_MAX,
            ),
        });
        blocks.push(Block::Context {
            elements: elements.collect(),
        });
    }
    if !message.outcome.is_empty() {
        blocks.push(section(&RichText::lines(message.outcome.iter().cloned())));
    }
    if !message.actions.is_empty() {
        blocks.push(Block::Actions {
            // New with every version, as Slack asks of updated messages.
            block_id: message.subject.versioned_id(),
            elements: message
                .actions
                .iter()
                .map(|action| button(&message.subject, action))
                .collect(),
        });
    }
    Message {
        text: mrkdwn(&message.notification, MESSAGE_TEXT_MAX),
        blocks,
    }
}

fn section(text: &RichText) -> Block {
    Block::Section {
        text: Text::Mrkdwn {
            text: mrkdwn(text, SECTION_TEXT_MAX),
        },
    }
}

fn button(subject: &SubjectRef, action: &Action) -> Button {
    let style = action.style.map(|style| match style {
        ActionStyle::Primary => ButtonStyle::Primary,
        ActionStyle::Danger => ButtonStyle::Danger,
    });
    let plain_text = |text: &str, max_chars| Text::PlainText {
        text: truncate(text, max_chars),
    };
    Button {
        action_id: subject.action_key(action),
        text: plain_text(&action.label, BUTTON_TEXT_MAX),
        value: subject.id.to_string(),
        style,
        confirm: action.confirm.as_ref().map(|confirm| Confirm {
            title: Text::PlainText {
                text: plain(&confirm.title, CONFIRM_TITLE_MAX),
            },
            text: plain_text(&confirm.text, CONFIRM_TEXT_MAX),
            confirm: plain_text(&confirm.confirm, CONFIRM_BUTTON_MAX),
            deny: plain_text(&confirm.deny, CONFIRM_BUTTON_MAX),
            style: style.unwrap_or(ButtonStyle::Primary),
        }),
    }
}

#[cfg(test)]
mod tests {
    use application::chat::{Confirmation, Fact, Tone};
    use domain::ChatDestination;
    use serde_json::{Value, json};
    use uuid::Uuid;

    use super::*;

    fn message() -> ChatMessage {
        ChatMessage {
            subject: SubjectRef {
                kind: "widget",
                id: Uuid::nil(),
                version: 4,
            },
            destination: ChatDestination::parse("C1").unwrap(),
            tone: Tone::Neutral,
            status: "waiting".into(),
            notification: "Widget waiting: <b>".into(),
            headline: RichText::new().strong("<b>"),
            body: String::new(),
            facts: vec![],
            outcome: vec![],
            actions: vec![],
        }
    }

    fn json(message: &ChatMessage) -> Value {
        serde_json::to_value(render(message)).unwrap()
    }

    #[test]
    fn a_bare_message_is_one_section_and_its_escaped_fallback_text() {
        assert_eq!(
            json(&message()),
            json!({
                "text": "Widget waiting: &lt;b&gt;",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*&lt;b&gt;*"}}]
            })
        );
    }

    #[test]
    fn facts_outcome_and_actions_each_get_their_block_in_order() {
        let mut message = message();
        message.body = "more".into();
        message.facts = vec![Fact {
            label: "Size".into(),
            value: "large".into(),
        }];
        message.outcome = vec!["one".into(), "two".into()];
        message.actions = vec![Action {
            id: "turn",
            label: "Turn".into(),
            style: None,
            confirm: Some(Confirmation {
                title: "Sure?".into(),
                text: "Really.".into(),
                confirm: "Yes".into(),
                deny: "No".into(),
            }),
            rest: None,
        }];
        let blocks = json(&message)["blocks"].clone();
        let nil = Uuid::nil();
        assert_eq!(
            blocks,
            json!([
                {"type": "section", "text": {"type": "mrkdwn", "text": "*&lt;b&gt;*\nmore"}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "Size: large"}]},
                {"type": "section", "text": {"type": "mrkdwn", "text": "one\ntwo"}},
                {"type": "actions", "block_id": format!("widget-{nil}-v4"), "elements": [
                    {"type": "button", "action_id": "widget_turn", "value": nil.to_string(),
                     "text": {"type": "plain_text", "text": "Turn"},
                     "confirm": {
                        "title": {"type": "plain_text", "text": "Sure?"},
                        "text": {"type": "plain_text", "text": "Really."},
                        "confirm": {"type": "plain_text", "text": "Yes"},
                        "deny": {"type": "plain_text", "text": "No"},
                        "style": "primary"
                     }}
                ]}
            ])
        );
    }
}
