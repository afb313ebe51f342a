//! The chat sink against mocks: the interactions are the point (posted exactly once, the
//! reference recorded, an update instead of a second post).

use std::time::Duration;

use chrono::{TimeZone, Utc};
use domain::ChatDestination;
use mockall::predicate::eq;
use uuid::Uuid;

use super::*;
use crate::chat::subject::{MockChatSubject, Noun, Vocabulary};
use crate::chat::{ChatMessage, ChatReply, RichText, SubjectRef, Tone};
use crate::ports::{CHAT_SINK, MessageRef, MockChatGateway, MockChatMessages, RepositoryError};

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
    actions: &[],
    commands: &[],
};

fn id() -> Uuid {
    Uuid::from_u128(7)
}

fn event(kind: &str) -> OutboxMessage {
    OutboxMessage {
        id: 7,
        sink: CHAT_SINK.into(),
        aggregate_type: kind.into(),
        aggregate_id: id(),
        event_type: "widget.turned".into(),
        payload: serde_json::json!({"type": "turned"}),
        attempts: 0,
        created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        trying_since: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
    }
}

fn message() -> ChatMessage {
    ChatMessage {
        subject: SubjectRef {
            kind: "widget",
            id: id(),
            version: 2,
        },
        destination: ChatDestination::parse("C1").unwrap(),
        tone: Tone::Neutral,
        status: "turned".into(),
        notification: "Widget turned".into(),
        headline: RichText::new().strong("Widget"),
        body: String::new(),
        facts: vec![],
        outcome: vec![],
        actions: vec![],
    }
}

fn posted() -> MessageRef {
    MessageRef {
        channel: "C1".into(),
        message_id: "1700000000.000100".into(),
    }
}

struct Fixture {
    subject: MockChatSubject,
    chat: MockChatGateway,
    messages: MockChatMessages,
}

impl Fixture {
    /// A registered widget kind whose events are changes of state.
    fn new() -> Self {
        Self::showing(Showing::Message)
    }

    /// A registered widget kind whose events show as `showing`.
    fn showing(showing: Showing) -> Self {
        let mut subject = MockChatSubject::new();
        subject.expect_vocabulary().return_const(&WIDGET);
        subject
            .expect_showing()
            .withf(|event_type, widget| event_type == "widget.turned" && *widget == id())
            .returning(move |_, _| Ok(showing.clone()));
        Self {
            subject,
            chat: MockChatGateway::new(),
            messages: MockChatMessages::new(),
        }
    }

    fn existing(mut self) -> Self {
        self.subject
            .expect_message()
            .with(eq(id()))
            .returning(|_| Ok(Some(message())));
        self
    }

    fn sink(self) -> ChatSink {
        ChatSink::new(
            ChatSubjects::new().with(self.subject),
            Arc::new(self.chat),
            Arc::new(self.messages),
        )
    }
}

#[tokio::test]
async fn a_first_event_is_posted_once_and_its_message_recorded() {
    let mut f = Fixture::new().existing();
    f.messages.expect_get().returning(|_| Ok(None));
    f.chat
        .expect_post()
        .withf(|m| *m == message())
        .times(1)
        .returning(|_| Ok(posted()));
    f.chat.expect_update().never();
    f.messages
        .expect_put()
        .with(eq(id()), eq(posted()))
        .times(1)
        .returning(|_, _| Ok(()));
    assert_eq!(f.sink().deliver(&event("widget")).await, Ok(()));
}

#[tokio::test]
async fn later_events_update_the_recorded_message_instead_of_posting() {
    let mut f = Fixture::new().existing();
    f.messages.expect_get().returning(|_| Ok(Some(posted())));
    f.chat.expect_post().never();
    f.chat
        .expect_update()
        .withf(|at, m| *at == posted() && *m == message())
        .times(1)
        .returning(|_, _| Ok(()));
    f.messages.expect_put().never();
    assert_eq!(f.sink().deliver(&event("widget")).await, Ok(()));
}

#[tokio::test]
async fn a_rate_limit_is_passed_on_with_the_platforms_delay() {
    let mut f = Fixture::new().existing();
    f.messages.expect_get().returning(|_| Ok(None));
    f.chat.expect_post().returning(|_| {
        Err(ChatError::RateLimited {
            reason: "ratelimited".into(),
            retry_after: Duration::from_secs(30),
        })
    });
    f.messages.expect_put().never();
    assert_eq!(
        f.sink().deliver(&event("widget")).await,
        Err(SinkError::RateLimited {
            reason: "ratelimited".into(),
            retry_after: Duration::from_secs(30)
        })
    );
}

#[tokio::test]
async fn a_permanent_chat_error_is_permanent() {
    let mut f = Fixture::new().existing();
    f.messages.expect_get().returning(|_| Ok(Some(posted())));
    f.chat.expect_update().returning(|_, _| {
        Err(ChatError::Permanent {
            reason: "channel_not_found".into(),
        })
    });
    assert_eq!(
        f.sink().deliver(&event("widget")).await,
        Err(SinkError::Permanent {
            reason: "channel_not_found".into()
        })
    );
}

#[tokio::test]
async fn an_unknown_aggregate_type_is_permanent_without_calling_chat() {
    let mut f = Fixture::new();
    f.subject.expect_message().never();
    f.chat.expect_post().never();
    let result = f.sink().deliver(&event("gadget")).await;
    assert!(
        matches!(&result, Err(SinkError::Permanent { reason }) if reason.contains("\"gadget\"")),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_missing_aggregate_is_permanent_without_calling_chat() {
    let mut f = Fixture::new();
    f.subject.expect_message().returning(|_| Ok(None));
    f.chat.expect_post().never();
    f.chat.expect_update().never();
    let result = f.sink().deliver(&event("widget")).await;
    assert!(
        matches!(&result, Err(SinkError::Permanent { reason }) if reason.contains("no longer exists")),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_unreadable_aggregate_is_permanent_and_an_unreachable_store_retryable() {
    for (error, permanent) in [
        (RepositoryError::Corrupt("bad status".into()), true),
        (RepositoryError::Unavailable("down".into()), false),
    ] {
        let mut f = Fixture::new();
        f.subject
            .expect_message()
            .returning(move |_| Err(error.clone()));
        f.chat.expect_post().never();
        let result = f.sink().deliver(&event("widget")).await;
        assert_eq!(
            matches!(result, Err(SinkError::Permanent { .. })),
            permanent,
            "{result:?}"
        );
    }
}

fn reply() -> ChatReply {
    ChatReply {
        subject: message().subject,
        tone: Tone::Warning,
        text: "Still waiting for you".into(),
    }
}

#[tokio::test]
async fn a_reply_goes_to_the_thread_of_the_recorded_message_which_stays_as_it_is() {
    let mut f = Fixture::showing(Showing::Reply(reply()));
    f.messages.expect_get().returning(|_| Ok(Some(posted())));
    f.chat
        .expect_reply()
        .withf(|to, r| *to == posted() && *r == reply())
        .times(1)
        .returning(|_, _| Ok(()));
    f.chat.expect_post().never();
    f.chat.expect_update().never();
    f.subject.expect_message().never();
    assert_eq!(f.sink().deliver(&event("widget")).await, Ok(()));
}

#[tokio::test]
async fn a_reply_without_a_message_to_answer_posts_the_message_instead() {
    let mut f = Fixture::showing(Showing::Reply(reply())).existing();
    f.messages.expect_get().returning(|_| Ok(None));
    f.chat.expect_reply().never();
    f.chat
        .expect_post()
        .withf(|m| *m == message())
        .times(1)
        .returning(|_| Ok(posted()));
    f.messages.expect_put().times(1).returning(|_, _| Ok(()));
    assert_eq!(f.sink().deliver(&event("widget")).await, Ok(()));
}

#[tokio::test]
async fn an_event_that_no_longer_applies_shows_nothing() {
    let mut f = Fixture::showing(Showing::Nothing);
    f.subject.expect_message().never();
    f.messages.expect_get().never();
    f.chat.expect_post().never();
    f.chat.expect_update().never();
    f.chat.expect_reply().never();
    assert_eq!(f.sink().deliver(&event("widget")).await, Ok(()));
}

#[test]
fn the_sink_is_named_chat() {
    assert_eq!(Fixture::new().sink().name(), "chat");
}
