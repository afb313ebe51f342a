//! # adapter-discord — Discord as a chat platform: messages with buttons, and what people do
//! with them
//!
//! One Discord application, two directions, on the same neutral model the Slack adapter
//! renders:
//!
//! - **Outbound**, [`DiscordGateway`]: the `ChatGateway` port over Discord's REST API. Any
//!   `ChatMessage` becomes a message with an embed (headline, body, facts, outcome) and an
//!   action row of buttons, posted with `POST /channels/{id}/messages` (with a nonce, so a
//!   retried post does not create a second message) and replaced with
//!   `PATCH /channels/{id}/messages/{message id}`. Answers are classified as `RateLimited`,
//!   `Retryable` or `Permanent` for the outbox relay.
//! - **Inbound**, [`routes`]: `POST /discord/interactions`. The Ed25519 signature is checked
//!   over the timestamp and the raw body before anything parses it; PINGs are answered; a
//!   button click or a slash command goes, as `discord:<user id>` of the verified payload, to
//!   the registered chat subjects — the same use cases as Slack and the REST API.
//! - [`register_commands`]: puts the slash command, built from the subjects' vocabularies,
//!   with `PUT /applications/{id}/commands` (the `discord register-commands` command of `bin`).
//!
//! What belongs here: Discord's wire formats (components, embeds, interactions, REST answers),
//! its markdown, its signature scheme, its limits and error codes. What does not: what any
//! aggregate looks like or which use case an action calls (`application::chat`), retry timing
//! (the relay), which platform a destination names (`application::chat::ChatRouter`).
//!
//! Where to look: signature → `signature.rs` (applied by `SignedInteraction` in
//! `inbound.rs`); error classification → `rest.rs`; the layout → `render.rs`; markdown,
//! mentions and times → `markdown.rs`; the slash command → `commands.rs`.

mod client;
mod commands;
mod identity;
mod inbound;
mod interactions;
mod markdown;
mod render;
mod reply;
mod rest;
mod settings;
mod signature;

pub use client::DiscordGateway;
pub use commands::{command_definitions, register_commands};
pub use inbound::{DiscordState, routes};
pub use settings::{DiscordSettings, DiscordSetupError, PublicKey};
