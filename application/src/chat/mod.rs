//! Chat as a way to show and act on aggregates, whatever the platform.
//!
//! Each aggregate describes its current state as one platform-neutral [`ChatMessage`]
//! (headline, body, facts, outcome, actions with stable ids) and maps the actions people take
//! back to its use cases, in one module per aggregate ([`approval`], [`alert`]). The
//! [`ChatSubjects`] registry holds them; the composition root registers each with one line.
//! Everything else here is generic and names no aggregate:
//!
//! - [`ChatSink`] delivers outbox events: it looks the aggregate's kind up in the registry,
//!   renders its current state and posts or updates the message through the `ChatGateway`
//!   port, which Slack, the console and Discord implement by rendering the same model — or,
//!   for an event the subject shows as a [`ChatReply`] (a reminder), replies in the thread
//!   of that message.
//! - [`ChatRouter`] stands in front of every connected platform: it sends each message to
//!   the platform its destination names (`discord:<id>`, `slack:<id>`, or a bare Slack id)
//!   and tells the create use cases which destinations can be delivered to.
//! - [`ChatSubjects::click`] and [`ChatSubjects::command`] are where every platform's inbound
//!   routes hand button clicks and slash commands, with the identity of the verified sender.
//!
//! What does not belong here: any platform's markup, wire format or limits (the adapters).

pub mod alert;
pub mod approval;
mod commands;
mod message;
mod rich_text;
mod router;
mod sink;
mod subject;

pub use commands::SlashCommand;
pub use message::{
    Action, ActionKey, ActionStyle, ChatMessage, ChatReply, Confirmation, Fact, RestCall,
    SubjectRef, Tone,
};
pub use rich_text::{Emoji, RichText, Span, SpanMarkup, fit, truncate};
pub use router::ChatRouter;
pub use sink::ChatSink;
pub use subject::{
    Act, ChatSubject, ChatSubjects, Clicked, CommandSpec, Noun, Showing, TextArg, Via, Vocabulary,
};

#[cfg(any(test, feature = "mocks"))]
pub use subject::MockChatSubject;
