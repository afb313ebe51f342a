//! `POST /slack/commands`: a slash command, e.g. `/<service> approve <id> looks good`.
//!
//! The text after the command's name goes, with the Slack user of the verified form, to the
//! subjects registry, which parses it (the verbs are the registered subjects') and calls the
//! subject's use case — like a button click, and like the REST API. Every answer is an
//! ephemeral message to the person who typed it; the message in the channel is updated later
//! by the relay, never while Slack waits.

use application::chat::SlashCommand;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::identity::from_slack_user;
use crate::inbound::{SignedBody, SlackState};
use crate::reply::Ephemeral;

/// Shown in the help when Slack leaves the command's name out.
const DEFAULT_COMMAND: &str = concat!("/", env!("SERVICE_NAME"), "");

/// The fields of a slash command this route reads.
#[derive(Deserialize)]
struct Form {
    #[serde(default)]
    command: String,
    #[serde(default)]
    text: String,
    user_id: String,
    api_app_id: Option<String>,
}

pub(crate) async fn receive(
    State(state): State<SlackState>,
    SignedBody(body): SignedBody,
) -> Response {
    let form: Form = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(reason) => {
            tracing::warn!(%reason, "refused a Slack command: unreadable form");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    if let Err(refusal) = state.check_app(form.api_app_id.as_deref()) {
        return refusal.into_response();
    }
    let Some(actor) = from_slack_user(&form.user_id) else {
        tracing::warn!("refused a Slack command without a valid user id");
        return StatusCode::BAD_REQUEST.into_response();
    };
    let name = if form.command.is_empty() {
        DEFAULT_COMMAND
    } else {
        form.command.as_str()
    };
    let command = SlashCommand {
        name,
        text: &form.text,
        actor,
        platform: "Slack",
    };
    let answer = state.subjects().command(command).await;
    Ephemeral::to_command(&answer).into_response()
}
