//! A neutral [`ChatMessage`] as a Discord message: the notification as `content`, one embed
//! (headline and body, facts as fields, the outcome, the status in the footer, the tone as
//! its colour) and one action row with a button per action.
//!
//! A message always renders its subject's *current* state, so posting, every later edit and
//! the answer to a click go through [`render`]. A settled subject has no actions left, and
//! its message is sent with an empty `components` list: on an edit, that removes the buttons.
//! Every text respects its Discord limit by construction.

use application::chat::{Action, ActionStyle, ChatMessage, RichText, SubjectRef, Tone};
use serde::Serialize;

use crate::markdown::{markdown, plain};

// Discord limits, in characters (components and embed references).
const CONTENT_MAX: usize = 2000;
const TITLE_MAX: usize = 256;
/// The embed allows 4,096; kept lower so that all embed text stays under its 6,000 total.
const DESCRIPTION_MAX: usize = 3000;
const FIELD_NAME_MAX: usize = 256;
const FIELD_VALUE_MAX: usize = 512;
const FIELDS_MAX: usize = 10;
const FOOTER_MAX: usize = 256;
const LABEL_MAX: usize = 80;
/// An action row holds at most five buttons.
const BUTTONS_MAX: usize = 5;

/// The body of a Create Message or Edit Message call, and the `data` of an UPDATE_MESSAGE
/// interaction answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Message {
    pub content: String,
    pub embeds: Vec<Embed>,
    /// Always sent, even empty: an edit without it would keep the old buttons.
    pub components: Vec<ActionRow>,
    pub allowed_mentions: AllowedMentions,
}

/// Nobody is pinged by accident: mentions render as names, but no `@everyone`, role or user
/// mention notifies anyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AllowedMentions {
    pub parse: [&'static str; 0],
}

pub(crate) const NO_PINGS: AllowedMentions = AllowedMentions { parse: [] };

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Embed {
    title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    color: u32,
    fields: Vec<Field>,
    footer: Footer,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct Field {
    name: String,
    value: String,
    inline: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
struct Footer {
    text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ActionRow {
    /// 1: an action row.
    #[serde(rename = "type")]
    kind: u8,
    components: Vec<Button>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Button {
    /// 2: a button.
    #[serde(rename = "type")]
    kind: u8,
    style: u8,
    label: String,
    /// `<kind>_<action>:<subject id>` (see [`custom_id`]).
    custom_id: String,
}

/// Button styles: Discord's numbers.
const SECONDARY: u8 = 2;
const SUCCESS: u8 = 3;
const DANGER: u8 = 4;

/// Lays `message` out for Discord.
pub(crate) fn render(message: &ChatMessage) -> Message {
    let mut description = Vec::new();
    if !message.body.is_empty() {
        description.push(RichText::from(message.body.as_str()));
    }
    if !message.outcome.is_empty() {
        description.push(RichText::lines(message.outcome.iter().cloned()));
    }
    let description = RichText::lines(description.into_iter().enumerate().map(|(i, part)| {
        if i > 0 {
            RichText::from("\n").then(part)
        } else {
            part
        }
    }));
    let fields = message
        .facts
        .iter()
        .take(FIELDS_MAX)
        .map(|fact| Field {
            name: plain(&RichText::from(fact.label.as_str()), FIELD_NAME_MAX),
            value: markdown(&fact.value, FIELD_VALUE_MAX),
            inline: true,
        })
        .collect();
    let buttons: Vec<Button> = message
        .actions
        .iter()
        .take(BUTTONS_MAX)
        .map(|action| button(&message.subject, action))
        .collect();
    let components = if buttons.is_empty() {
        Vec::new()
    } else {
        vec![ActionRow {
            kind: 1,
            components: buttons,
        }]
    };
    Message {
        content: markdown(&message.notification, CONTENT_MAX),
        embeds: vec![Embed {
            title: markdown(&message.headline, TITLE_MAX),
            description: markdown(&description, DESCRIPTION_MAX),
            color: color(message.tone),
            fields,
            footer: Footer {
                text: plain(&RichText::from(message.status.as_str()), FOOTER_MAX),
            },
        }],
        components,
        allowed_mentions: NO_PINGS,
    }
}

/// `<kind>_<action>:<subject id>`: the action key the registry reads back, and the id of
/// the subject, in the one field Discord gives a button (at most 100 characters: kinds and
/// actions are short words, the id a UUID).
pub(crate) fn custom_id(subject: &SubjectRef, action: &Action) -> String {
    format!("{}:{}", subject.action_key(action), subject.id)
}

fn button(subject: &SubjectRef, action: &Action) -> Button {
    Button {
        kind: 2,
        // The affirmative action is green (Approve, Resolve), the destructive one red.
        style: match action.style {
            Some(ActionStyle::Primary) => SUCCESS,
            Some(ActionStyle::Danger) => DANGER,
            None => SECONDARY,
        },
        label: plain(&RichText::from(action.label.as_str()), LABEL_MAX),
        custom_id: custom_id(subject, action),
    }
}

fn color(tone: Tone) -> u32 {
    match tone {
        Tone::Neutral => 0x5865F2,
        Tone::Info => 0x3498DB,
        Tone::Warning => 0xE67E22,
        Tone::Danger => 0xE74C3C,
        Tone::Success => 0x2ECC71,
        Tone::Muted => 0x95A5A6,
    }
}

#[cfg(test)]
mod tests {
    use application::chat::Fact;
    use domain::ChatDestination;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn action(id: &'static str, style: Option<ActionStyle>) -> Action {
        Action {
            id,
            label: id.to_uppercase(),
            style,
            confirm: None,
            rest: None,
        }
    }

    fn message(actions: Vec<Action>) -> ChatMessage {
        ChatMessage {
            subject: SubjectRef {
                kind: "widget",
                id: Uuid::nil(),
                version: 2,
            },
            destination: ChatDestination::parse("discord:1").unwrap(),
            tone: Tone::Neutral,
            status: "pending".into(),
            notification: "Widget: turn?".into(),
            headline: RichText::new().strong("turn"),
            body: "the *blue* one".into(),
            facts: vec![Fact {
                label: "By".into(),
                value: "ci".into(),
            }],
            outcome: vec!["nobody yet".into()],
            actions,
        }
    }

    #[test]
    fn a_message_with_actions_has_one_row_of_styled_buttons() {
        let rendered = serde_json::to_value(render(&message(vec![
            action("ok", Some(ActionStyle::Primary)),
            action("no", Some(ActionStyle::Danger)),
            action("meh", None),
        ])))
        .unwrap();
        let nil = Uuid::nil();
        assert_eq!(
            rendered["components"],
            json!([{"type": 1, "components": [
                {"type": 2, "style": 3, "label": "OK", "custom_id": format!("widget_ok:{nil}")},
                {"type": 2, "style": 4, "label": "NO", "custom_id": format!("widget_no:{nil}")},
                {"type": 2, "style": 2, "label": "MEH", "custom_id": format!("widget_meh:{nil}")},
            ]}])
        );
        assert_eq!(rendered["allowed_mentions"], json!({"parse": []}));
        assert_eq!(rendered["content"], "Widget: turn?");
        assert_eq!(rendered["embeds"][0]["title"], "**turn**");
        assert_eq!(
            rendered["embeds"][0]["description"],
            "the \\*blue\\* one\n\nnobody yet"
        );
        assert_eq!(
            rendered["embeds"][0]["fields"],
            json!([{"name": "By", "value": "ci", "inline": true}])
        );
        assert_eq!(rendered["embeds"][0]["footer"]["text"], "pending");
    }

    #[test]
    fn a_settled_message_sends_an_empty_component_list() {
        let rendered = serde_json::to_value(render(&message(vec![]))).unwrap();
        assert_eq!(rendered["components"], json!([]));
    }
}
