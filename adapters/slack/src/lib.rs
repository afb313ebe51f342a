//! # adapter-slack — Slack as a way to ask for and give approvals, and to handle alerts
//!
//! One Slack app, two directions:
//!
//! - **Outbound**, [`SlackGateway`]: the `ChatGateway` port over Slack's Web API.
//!   `chat.postMessage` announces a request with Approve/Reject buttons, or an alert with
//!   Acknowledge/Resolve buttons (Block Kit); `chat.update` shows its new state. An alert keeps
//!   one message for its whole life: a repeat of its dedup key updates that message's count
//!   instead of posting again. Each answer is classified as `Retryable` or `Permanent`, so the
//!   outbox relay knows whether to try again and when.
//! - **Inbound**, [`routes`]: `POST /slack/interactions` (button clicks) and
//!   `POST /slack/commands` (slash commands). Every request's signature is verified over the
//!   raw body before anything parses it; the person acting is the Slack user of the verified
//!   payload; decisions go through the same `Decide` use case as the REST API, alert actions
//!   through `SettleAlert`. Slack gets its answer at once: the message update is an outbox
//!   event that the relay delivers later through the gateway.
//!
//! What belongs here: Slack's wire formats (Block Kit, interaction payloads, slash-command
//! forms, Web API answers), its signature scheme and its error codes. What does not: decision
//! and alert rules (the domain), retry timing (the relay, in `application`), other chat
//! platforms.
//!
//! Where to look: signature check → `signature.rs` (applied by `SignedBody` in `inbound.rs`);
//! error classification → `web_api.rs`; the message layouts → `blocks/approval.rs` and
//! `blocks/alert.rs` (shared Block Kit types in `blocks.rs`); escaping and length limits →
//! `text.rs`.

mod blocks;
mod client;
mod commands;
mod identity;
mod inbound;
mod interactions;
mod reply;
mod settings;
mod signature;
mod text;
mod web_api;

pub use client::SlackGateway;
pub use inbound::{SlackState, routes};
pub use settings::{SlackSettings, SlackSetupError};
