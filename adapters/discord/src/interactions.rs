//! `POST /discord/interactions`: a PING, a click on one of our buttons, or the slash command.
//!
//! Every answer is inline, well within Discord's three seconds:
//!
//! - PING → `{"type": 1}` (PONG).
//! - A click whose action happened → `7` (UPDATE_MESSAGE) with the subject's message as it
//!   now is, so the clicker sees the outcome at once; the relay's edit of the same message
//!   follows from the outbox and shows the same. If the message cannot be rendered right now,
//!   `6` (DEFERRED_UPDATE_MESSAGE) and the relay's edit shows it.
//! - A click that changed nothing (a refusal, a double click) → `4` with flag 64: an
//!   ephemeral reply, seen by the clicker only, saying why; the message stays as it was.
//! - The slash command → an ephemeral reply with the command's answer.
//!
//! A button's `custom_id` is `<kind>_<action>:<subject id>` (see `render.rs`); it is untrusted
//! and goes to the subjects registry, which refuses anything it did not hand out.

use application::chat::{ActionKey, ChatSubjects, Clicked, RichText, SlashCommand};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::Identity;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::commands::{COMMAND_NAME, command_text};
use crate::identity::from_discord_user;
use crate::inbound::{DiscordState, SignedInteraction};
use crate::markdown::markdown;
use crate::render::{AllowedMentions, Message, NO_PINGS, render};

const PING: u8 = 1;
const APPLICATION_COMMAND: u8 = 2;
const MESSAGE_COMPONENT: u8 = 3;

/// Callback types.
const PONG: u8 = 1;
const CHANNEL_MESSAGE: u8 = 4;
const DEFERRED_UPDATE: u8 = 6;
const UPDATE_MESSAGE: u8 = 7;
/// Only the person who clicked or typed sees the message.
const EPHEMERAL: u32 = 1 << 6;
const REPLY_MAX: usize = 2000;

/// The fields of an interaction this route reads. Discord adds fields over time, so
/// everything else is ignored rather than refused.
#[derive(Deserialize)]
struct Interaction {
    #[serde(rename = "type")]
    kind: u8,
    application_id: Option<String>,
    #[serde(default)]
    data: Value,
    member: Option<Member>,
    user: Option<User>,
}

#[derive(Deserialize)]
struct Member {
    user: Option<User>,
}

#[derive(Deserialize)]
struct User {
    id: String,
}

#[derive(Serialize)]
struct Reply<'a> {
    content: String,
    flags: u32,
    allowed_mentions: &'a AllowedMentions,
}

pub(crate) async fn receive(
    State(state): State<DiscordState>,
    SignedInteraction(body): SignedInteraction,
) -> Response {
    let interaction: Interaction = match serde_json::from_slice(&body) {
        Ok(interaction) => interaction,
        Err(reason) => {
            tracing::warn!(%reason, "refused a Discord interaction: unreadable payload");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    if interaction.kind == PING {
        return Json(json!({"type": PONG})).into_response();
    }
    if let Err(refusal) = state.check_application(interaction.application_id.as_deref()) {
        return refusal.into_response();
    }
    // In a server the user is under `member`, in a direct message at the top level.
    let user = interaction
        .member
        .as_ref()
        .and_then(|m| m.user.as_ref())
        .or(interaction.user.as_ref());
    let Some(actor) = user.and_then(|u| from_discord_user(&u.id)) else {
        tracing::warn!("refused a Discord interaction without a valid user id");
        return StatusCode::BAD_REQUEST.into_response();
    };
    match interaction.kind {
        MESSAGE_COMPONENT => click(state.subjects(), &interaction.data, actor).await,
        APPLICATION_COMMAND => command(state.subjects(), &interaction.data, actor).await,
        other => {
            tracing::debug!(
                kind = other,
                "refused a Discord interaction of another type"
            );
            StatusCode::BAD_REQUEST.into_response()
        }
    }
}

async fn click(subjects: &ChatSubjects, data: &Value, actor: Identity) -> Response {
    let custom_id = data["custom_id"].as_str().unwrap_or_default();
    let (key, value) = custom_id.split_once(':').unwrap_or((custom_id, ""));
    match subjects.click(key, value, actor).await {
        Clicked::NotOurs => {
            tracing::debug!(custom_id, "ignored a click on a component that is not ours");
            Json(json!({"type": DEFERRED_UPDATE})).into_response()
        }
        Clicked::Done => match current(subjects, key, value).await {
            Some(message) => Json(json!({"type": UPDATE_MESSAGE, "data": message})).into_response(),
            None => Json(json!({"type": DEFERRED_UPDATE})).into_response(),
        },
        Clicked::Note(note) => ephemeral(&note),
    }
}

/// The clicked subject's message as it is now, after the click's change.
async fn current(subjects: &ChatSubjects, key: &str, value: &str) -> Option<Message> {
    let kind = ActionKey::parse(key)?.kind;
    let id = value.parse::<Uuid>().ok()?;
    match subjects.get(kind)?.message(id).await {
        Ok(message) => message.as_ref().map(render),
        Err(error) => {
            tracing::warn!(%error, "could not render the clicked message; the relay will");
            None
        }
    }
}

async fn command(subjects: &ChatSubjects, data: &Value, actor: Identity) -> Response {
    let name = format!("/{}", data["name"].as_str().unwrap_or(COMMAND_NAME));
    let text = command_text(data);
    let command = SlashCommand {
        name: &name,
        text: &text,
        actor,
        platform: "Discord",
    };
    ephemeral(&subjects.command(command).await)
}

/// A message only the person who clicked or typed sees. Always a 200: for anything else
/// Discord shows its own "interaction failed", which says nothing.
fn ephemeral(text: &RichText) -> Response {
    Json(json!({
        "type": CHANNEL_MESSAGE,
        "data": Reply {
            content: markdown(text, REPLY_MAX),
            flags: EPHEMERAL,
            allowed_mentions: &NO_PINGS,
        },
    }))
    .into_response()
}
