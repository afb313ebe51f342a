//! `POST /slack/interactions`: someone clicked a button on one of our messages.
//!
//! A button's `action_id` is `<kind>_<action>` and its value the subject's id (see
//! `blocks.rs`); both go, untrusted, to the subjects registry, which calls the subject's use
//! case — the same one the REST API calls. The click is answered at once: an empty 200 when
//! it changed something, or an ephemeral note when it did not. The clicked message itself is
//! not touched here. The change's events went to the outbox in the same transaction as the
//! change, and the relay turns them into a `chat.update`; so the answer never waits on Slack
//! (which allows three seconds), and a Slack outage cannot lose the update.

use application::chat::Clicked;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::identity::from_slack_user;
use crate::inbound::{SignedBody, SlackState};
use crate::reply::Ephemeral;

/// The form Slack posts: one field, `payload`, holding JSON.
#[derive(Deserialize)]
struct Form {
    payload: String,
}

/// The fields of an interaction payload this route reads. Slack adds fields and new block
/// and action types over time, so everything else is ignored rather than refused.
#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "type")]
    kind: String,
    api_app_id: Option<String>,
    user: Option<User>,
    #[serde(default)]
    actions: Vec<Action>,
}

#[derive(Deserialize)]
struct User {
    id: String,
}

#[derive(Deserialize)]
struct Action {
    #[serde(default)]
    action_id: String,
    value: Option<String>,
}

pub(crate) async fn receive(
    State(state): State<SlackState>,
    SignedBody(body): SignedBody,
) -> Response {
    let payload = match parse(&body) {
        Ok(payload) => payload,
        Err(reason) => {
            tracing::warn!(%reason, "refused a Slack interaction: unreadable payload");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    if let Err(refusal) = state.check_app(payload.api_app_id.as_deref()) {
        return refusal.into_response();
    }
    if payload.kind != "block_actions" {
        tracing::debug!(
            kind = payload.kind,
            "ignored a Slack interaction of another type"
        );
        return StatusCode::OK.into_response();
    }
    // Slack sends one action per click; the first is the one.
    let Some(action) = payload.actions.first() else {
        tracing::debug!("ignored a Slack interaction without an action");
        return StatusCode::OK.into_response();
    };
    let Some(user) = payload.user.as_ref().and_then(|u| from_slack_user(&u.id)) else {
        tracing::warn!("refused a Slack interaction without a valid user id");
        return StatusCode::BAD_REQUEST.into_response();
    };
    let value = action.value.as_deref().unwrap_or_default();
    match state.subjects().click(&action.action_id, value, user).await {
        Clicked::NotOurs => {
            tracing::debug!(
                action_id = action.action_id,
                "ignored a click on a button that is not ours"
            );
            StatusCode::OK.into_response()
        }
        Clicked::Done => StatusCode::OK.into_response(),
        Clicked::Note(note) => Ephemeral::to_click(&note).into_response(),
    }
}

fn parse(body: &[u8]) -> Result<Payload, String> {
    let form: Form = serde_urlencoded::from_bytes(body).map_err(|e| format!("form: {e}"))?;
    serde_json::from_str(&form.payload).map_err(|e| format!("payload JSON: {e}"))
}
