//! The platform-neutral chat message: what an aggregate shows of its current state, before
//! any platform's markup. Slack renders it as Block Kit, the console as text, Discord as
//! components — each from this one model.

use std::fmt;

use domain::ChatDestination;
use uuid::Uuid;

use super::RichText;

/// What a message is about: which aggregate, and which version of it the message shows.
///
/// Renderers build their stable ids from it (Slack's `action_id` and button `value`, a
/// Discord `custom_id`), and inbound adapters read those back with [`Self::action_key`]'s
/// format in mind. `kind` is the aggregate's outbox `aggregate_type`: lower-case ASCII
/// letters and digits, so it never contains the separators the formats use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubjectRef {
    pub kind: &'static str,
    pub id: Uuid,
    pub version: i64,
}

impl SubjectRef {
    /// `<kind>-<id>-v<version>`: different for every version, for platforms that want a new id
    /// when a message changes (Slack's `block_id`).
    pub fn versioned_id(&self) -> String {
        format!("{}-{}-v{}", self.kind, self.id, self.version)
    }

    /// `<kind>_<action>`: which action on which kind of subject, the same for every version
    /// of every message, so a click on an old message still means what it said.
    pub fn action_key(&self, action: &Action) -> String {
        format!("{}_{}", self.kind, action.id)
    }
}

/// An action key read back from a platform: untrusted text, split into its parts. Whether
/// the kind and action exist is for the registry to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionKey<'a> {
    pub kind: &'a str,
    pub action: &'a str,
}

impl<'a> ActionKey<'a> {
    /// Splits `<kind>_<action>` into kind and action; `None` for anything not shaped so.
    pub fn parse(raw: &'a str) -> Option<Self> {
        let (kind, action) = raw.split_once('_')?;
        let kind_ok = !kind.is_empty()
            && kind
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        (kind_ok && !action.is_empty()).then_some(Self { kind, action })
    }
}

/// The overall mood of a message, for platforms that colour it (a Discord embed's side bar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Waiting for someone, nothing wrong.
    Neutral,
    Info,
    Warning,
    Danger,
    /// Settled well.
    Success,
    /// Settled without effect (expired, cancelled).
    Muted,
}

/// One label/value pair about the subject: who asked, until when, how many so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub label: String,
    pub value: RichText,
}

/// How an action's button looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionStyle {
    Primary,
    Danger,
}

/// The "are you sure?" question a platform asks before sending a click.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// Plain text; a renderer that has to shorten it cuts its longest span.
    pub title: RichText,
    pub text: String,
    pub confirm: String,
    pub deny: String,
}

/// The same action through the REST API (always a `POST`), for platforms without buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestCall {
    /// From the API's root, e.g. `/v1/widgets/<id>/turn`.
    pub path: String,
    /// A JSON body, when the call takes one.
    pub body: Option<String>,
}

/// Something a reader can do from the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// Stable within its kind of subject (`turn`, `close`): lower case, no `_`.
    pub id: &'static str,
    pub label: String,
    /// `None` is the platform's default, neutral look.
    pub style: Option<ActionStyle>,
    pub confirm: Option<Confirmation>,
    pub rest: Option<RestCall>,
}

/// An aggregate's current state, ready to be posted or to replace its earlier message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub subject: SubjectRef,
    /// The channel to post to; updates go to where the message was posted.
    pub destination: ChatDestination,
    pub tone: Tone,
    /// A word or two for the state, e.g. `pending` or `critical, open`.
    pub status: String,
    /// The one line a notification or a screen reader shows.
    pub notification: RichText,
    pub headline: RichText,
    /// Longer text under the headline (user-provided, may be cut to fit a platform).
    pub body: String,
    pub facts: Vec<Fact>,
    /// What happened so far (who acted, and how), one entry per line.
    pub outcome: Vec<RichText>,
    pub actions: Vec<Action>,
}

/// A short note in the thread of a subject's message, leaving the message as it is: news
/// that is not a change of state (a reminder). Platforms post it as a reply — Slack in the
/// message's thread, Discord as a message that references it — and let its mentions notify
/// the people named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatReply {
    pub subject: SubjectRef,
    pub tone: Tone,
    /// The whole note; its [`Span::Person`](super::Span::Person)s are the people it is for.
    pub text: RichText,
}

impl fmt::Display for SubjectRef {
    /// `<kind> <id>` for logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(id: &'static str) -> Action {
        Action {
            id,
            label: id.into(),
            style: None,
            confirm: None,
            rest: None,
        }
    }

    #[test]
    fn an_action_key_reads_back_as_the_kind_and_action_it_was_made_of() {
        let subject = SubjectRef {
            kind: "widget",
            id: Uuid::nil(),
            version: 3,
        };
        let key = subject.action_key(&action("turn"));
        assert_eq!(key, "widget_turn");
        assert_eq!(
            ActionKey::parse(&key),
            Some(ActionKey {
                kind: "widget",
                action: "turn"
            })
        );
        assert_eq!(
            subject.versioned_id(),
            "widget-00000000-0000-0000-0000-000000000000-v3"
        );
    }

    #[test]
    fn keys_of_another_shape_are_not_action_keys() {
        for raw in ["", "turn", "_turn", "widget_", "Widget_turn", "a-b_c"] {
            assert_eq!(ActionKey::parse(raw), None, "{raw:?}");
        }
    }
}
