//! # adapter-slack — Slack as a chat platform: messages with buttons, and what people do
//! with them
//!
//! One Slack app, two directions:
//!
//! - **Outbound**, [`SlackGateway`]: the `ChatGateway` port over Slack's Web API. It renders
//!   any platform-neutral `ChatMessage` as Block Kit — headline, facts, outcome, one button
//!   per action — and posts it with `chat.postMessage` or replaces it with `chat.update`.
//!   Each answer is classified as `RateLimited`, `Retryable` or `Permanent`, so the outbox
//!   relay knows whether to try again and when.
//! - **Inbound**, [`routes`]: `POST /slack/interactions` (button clicks) and
//!   `POST /slack/commands` (slash commands). Every request's signature is verified over the
//!   raw body before anything parses it; the person acting is the Slack user of the verified
//!   payload; clicks and commands go to the registered chat subjects, which call the same use
//!   cases as the REST API. Slack gets its answer at once: the message update is an outbox
//!   event that the relay delivers later through the gateway.
//!
//! What belongs here: Slack's wire formats (Block Kit, interaction payloads, slash-command
//! forms, Web API answers), its markup, its signature scheme and its error codes. What does
//! not: what any aggregate looks like in chat or which use case an action calls (each
//! aggregate's module in `application::chat`), retry timing (the relay), other platforms.
//!
//! Where to look: signature check → `signature.rs` (applied by `SignedBody` in `inbound.rs`);
//! error classification → `web_api.rs`; the message layout → `blocks.rs`; mrkdwn, mentions,
//! dates and length limits → `markup.rs` and `text.rs`.

mod blocks;
mod client;
mod commands;
mod identity;
mod inbound;
mod interactions;
mod markup;
mod reply;
mod settings;
mod signature;
mod text;
mod web_api;

pub use client::SlackGateway;
pub use inbound::{SlackState, routes};
pub use settings::{SlackSettings, SlackSetupError};
