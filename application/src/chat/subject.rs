//! What a kind of aggregate offers in chat ([`ChatSubject`]), and the registry of them all
//! ([`ChatSubjects`]) that the chat sink and every chat platform's inbound routes share.
//!
//! Each aggregate implements [`ChatSubject`] once, in its own module beside this one: how its
//! current state reads as a [`ChatMessage`], which actions and slash-command verbs it offers,
//! which use case each of them calls, and how refusals are worded. Platforms and the sink
//! only ever see the registry, so adding or removing an aggregate is one registration line in
//! the composition root.

use std::sync::Arc;

use async_trait::async_trait;
use domain::Identity;
use uuid::Uuid;

use super::{ActionKey, ChatMessage, ChatReply, RichText};
use crate::ports::RepositoryError;

/// Shown when the failure is ours (the store is down, or the subject kept changing), so
/// trying again is the right move.
const TRY_AGAIN: &str =
    "Sorry, that did not go through: we could not record it just now. Please try again.";

/// A noun as generic replies use it: `widget` and `a widget`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Noun {
    pub word: &'static str,
    pub with_article: &'static str,
}

/// What the text after a slash-command verb's id may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextArg {
    /// Nothing: `poke <id>`.
    None,
    /// An optional comment: `turn <id> [comment]`.
    Optional,
    /// Required; `missing` explains its absence ("Smashing needs a reason.").
    Required { missing: &'static str },
}

/// One slash-command verb and the action it performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    /// What people type, e.g. `turn`. Unique across all subjects.
    pub verb: &'static str,
    /// The [`Action`](super::Action) id it performs, e.g. `turn`.
    pub action: &'static str,
    /// The arguments in the help, e.g. `<id> [comment]`.
    pub usage: &'static str,
    /// What it does, in the help: `turns a widget`.
    pub summary: &'static str,
    pub text: TextArg,
}

/// The fixed words and ids of one kind of subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vocabulary {
    /// The aggregate's outbox `aggregate_type`, e.g. `widget`.
    pub kind: &'static str,
    /// Its full name: `No blue widget or gadget has …`.
    pub name: Noun,
    /// What slash-command usage calls it: `“42” is not a widget id.`
    pub short: Noun,
    /// What people do with it, for the help's first line: `turn widgets`.
    pub purpose: &'static str,
    /// The ids of every action its messages can carry.
    pub actions: &'static [&'static str],
    pub commands: &'static [CommandSpec],
}

/// Where an action came from; replies are worded for it (after a click the message itself
/// shows the change, after a command only the reply does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Button,
    Command,
}

/// Someone asking for an action on a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Act {
    /// One of the subject's [`Vocabulary::actions`].
    pub action: &'static str,
    pub id: Uuid,
    /// From the platform's verified payload, never from typed text.
    pub actor: Identity,
    /// The text after the id of a slash command (a comment, a reason).
    pub text: Option<String>,
    pub via: Via,
}

/// How the chat sink shows one event of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Showing {
    /// Bring the subject's message up to date (post it, the first time): every change of
    /// state.
    Message,
    /// Reply in the thread of the subject's message, which stays as it is: news that is not
    /// a change of what the message shows. Without a message yet, the message is posted
    /// instead.
    Reply(ChatReply),
    /// Nothing any more: the event no longer applies (a reminder for a subject that settled
    /// since it was raised).
    Nothing,
}

/// One kind of aggregate as chat shows it and acts on it.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ChatSubject: Send + Sync {
    fn vocabulary(&self) -> &'static Vocabulary;

    /// The subject's current state as a message, or `None` when no such subject exists.
    ///
    /// # Errors
    /// The store's error: `Unavailable` (worth retrying), `Corrupt` (not).
    async fn message(&self, id: Uuid) -> Result<Option<ChatMessage>, RepositoryError>;

    /// How an event of type `event_type` on subject `id` shows in chat. The default, right
    /// for a subject whose every event is a change of state: [`Showing::Message`].
    ///
    /// # Errors
    /// The store's error, as for [`message`](Self::message).
    async fn showing(&self, event_type: &str, id: Uuid) -> Result<Showing, RepositoryError> {
        let _ = (event_type, id);
        Ok(Showing::Message)
    }

    /// Performs the action through its use case. `None` when it happened and a click needs no
    /// answer; otherwise what to tell the person (for a command, always). Never fails: every
    /// failure is explained in the reply, and logged where it stops.
    async fn act(&self, act: Act) -> Option<RichText>;

    /// Where the subject stands, for a `status` command; `None` when no such subject exists.
    ///
    /// # Errors
    /// The store's error.
    async fn status(&self, id: Uuid) -> Result<Option<RichText>, RepositoryError>;
}

/// What a click on a button came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clicked {
    /// Not one of our buttons: ignore it.
    NotOurs,
    /// Done; the message update will show it.
    Done,
    /// Tell the person who clicked.
    Note(RichText),
}

/// Every kind of subject the service shows in chat, in registration order.
#[derive(Clone, Default)]
pub struct ChatSubjects(Vec<Arc<dyn ChatSubject>>);

impl ChatSubjects {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one kind of subject. Its kind and verbs must not repeat another's, and its kind
    /// and action ids must fit the [`SubjectRef`](super::SubjectRef) formats; debug builds
    /// (every test run) check both, since a clash would send clicks to the wrong subject.
    #[must_use]
    pub fn with(mut self, subject: impl ChatSubject + 'static) -> Self {
        let added = subject.vocabulary();
        debug_assert!(is_id(added.kind, false), "bad kind {:?}", added.kind);
        debug_assert!(
            added.actions.iter().all(|a| is_id(a, true)),
            "bad action id"
        );
        debug_assert!(
            self.iter().all(|s| {
                let known = s.vocabulary();
                known.kind != added.kind
                    && known
                        .commands
                        .iter()
                        .all(|c| added.commands.iter().all(|a| a.verb != c.verb))
            }),
            "{:?} repeats a registered kind or verb",
            added.kind
        );
        self.0.push(Arc::new(subject));
        self
    }

    /// The subject of this kind (an outbox `aggregate_type`).
    pub fn get(&self, kind: &str) -> Option<&dyn ChatSubject> {
        self.iter().find(|s| s.vocabulary().kind == kind)
    }

    pub fn iter(&self) -> impl Iterator<Item = &dyn ChatSubject> {
        self.0.iter().map(|s| s.as_ref())
    }

    /// Handles a click on a button whose action key is `key` (see
    /// [`SubjectRef::action_key`](super::SubjectRef::action_key)) and whose value is `value`,
    /// the subject id. Both are untrusted.
    pub async fn click(&self, key: &str, value: &str, actor: Identity) -> Clicked {
        let Some((subject, action)) = ActionKey::parse(key).and_then(|key| {
            let subject = self.get(key.kind)?;
            let action = subject
                .vocabulary()
                .actions
                .iter()
                .find(|a| **a == key.action)?;
            Some((subject, *action))
        }) else {
            return Clicked::NotOurs;
        };
        let Ok(id) = value.parse::<Uuid>() else {
            tracing::warn!(value, "a chat button carried no subject id");
            let name = subject.vocabulary().name.with_article;
            return Clicked::Note(
                format!("This button does not belong to {name}.")
                    .as_str()
                    .into(),
            );
        };
        let act = Act {
            action,
            id,
            actor,
            text: None,
            via: Via::Button,
        };
        match subject.act(act).await {
            None => Clicked::Done,
            Some(note) => Clicked::Note(note),
        }
    }

    /// Where the subject with this id stands, whatever its kind: each kind is asked in turn.
    pub async fn status(&self, id: Uuid) -> RichText {
        for subject in self.iter() {
            match subject.status(id).await {
                Ok(Some(status)) => return status,
                Ok(None) => {}
                Err(error) => return try_again(&error),
            }
        }
        let names = self.join(|v| v.name.word, " or ");
        RichText::new()
            .text(format!("No {names} has the id "))
            .code(id.to_string())
            .text(".")
    }

    /// The vocabularies' words joined, in registration order.
    pub(crate) fn join(&self, word: impl Fn(&Vocabulary) -> &'static str, by: &str) -> String {
        self.iter()
            .map(|s| word(s.vocabulary()))
            .collect::<Vec<_>>()
            .join(by)
    }
}

/// Lower-case ASCII letters and digits (and `-` where allowed): never a `_`, which separates
/// kind and action in an action key.
fn is_id(raw: &str, dash: bool) -> bool {
    !raw.is_empty()
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || (dash && c == '-'))
}

/// Tells the person that the failure is ours, and logs it as an error.
pub fn try_again(error: &dyn std::error::Error) -> RichText {
    tracing::error!(%error, "could not answer a chat request");
    TRY_AGAIN.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    static WIDGET: Vocabulary = Vocabulary {
        kind: "widget",
        name: Noun {
            word: "widget",
            with_article: "a widget",
        },
        short: Noun {
            word: "widget",
            with_article: "a widget",
        },
        purpose: "turn widgets",
        actions: &["turn"],
        commands: &[],
    };

    fn widgets(subject: MockChatSubject) -> ChatSubjects {
        ChatSubjects::new().with(subject)
    }

    fn widget() -> MockChatSubject {
        let mut subject = MockChatSubject::new();
        subject.expect_vocabulary().return_const(&WIDGET);
        subject
    }

    fn alice() -> Identity {
        Identity::parse("slack:U1").unwrap()
    }

    #[tokio::test]
    async fn a_click_reaches_its_subject_with_the_action_and_the_id() {
        let mut subject = widget();
        subject
            .expect_act()
            .withf(|act| act.action == "turn" && act.id == Uuid::max() && act.via == Via::Button)
            .times(1)
            .returning(|_| None);
        let clicked = widgets(subject)
            .click("widget_turn", &Uuid::max().to_string(), alice())
            .await;
        assert_eq!(clicked, Clicked::Done);
    }

    #[tokio::test]
    async fn unknown_kinds_and_actions_are_not_ours_and_a_bad_id_is_explained() {
        let mut subject = widget();
        subject.expect_act().never();
        let subjects = widgets(subject);
        let id = Uuid::max().to_string();
        for key in ["gadget_turn", "widget_smash", "widget", "open_dashboard"] {
            assert_eq!(subjects.click(key, &id, alice()).await, Clicked::NotOurs);
        }
        assert_eq!(
            subjects.click("widget_turn", "not-an-id", alice()).await,
            Clicked::Note("This button does not belong to a widget.".into())
        );
    }

    #[tokio::test]
    async fn status_asks_each_kind_and_says_when_none_knows_the_id() {
        let mut subject = widget();
        subject.expect_status().returning(|_| Ok(None));
        let status = widgets(subject).status(Uuid::nil()).await;
        assert_eq!(
            status,
            RichText::new()
                .text("No widget has the id ")
                .code(Uuid::nil().to_string())
                .text(".")
        );
    }

    #[tokio::test]
    async fn a_store_failure_during_status_asks_to_try_again() {
        let mut subject = widget();
        subject
            .expect_status()
            .returning(|_| Err(RepositoryError::Unavailable("down".into())));
        assert_eq!(widgets(subject).status(Uuid::nil()).await, TRY_AGAIN.into());
    }
}
