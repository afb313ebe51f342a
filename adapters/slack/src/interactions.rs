//! `POST /slack/interactions`: someone clicked Approve or Reject on an approval message.
//!
//! The click is decided through the same `Decide` use case as the REST API, and answered at
//! once: an empty 200 when the decision was recorded, or an ephemeral note when it was not.
//! The approval message itself is not touched here. The decision's events went to the outbox
//! in the same transaction as the decision, and the relay turns them into a `chat.update`; so
//! the answer never waits on Slack (which allows three seconds), and a Slack outage cannot
//! lose the update.

use application::use_cases::DecideInput;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{ApprovalId, DecideOutcome, Verdict};
use serde::Deserialize;

use crate::blocks::{APPROVE_ACTION, REJECT_ACTION};
use crate::identity::from_slack_user;
use crate::inbound::{SignedBody, SlackState};
use crate::reply::{Ephemeral, past_tense, refused};

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
    let Some((verdict, value)) = payload.actions.iter().find_map(click) else {
        tracing::debug!("ignored a Slack interaction without an approval button");
        return StatusCode::OK.into_response();
    };
    let Some(approver) = payload.user.as_ref().and_then(|u| from_slack_user(&u.id)) else {
        tracing::warn!("refused a Slack interaction without a valid user id");
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Ok(approval_id) = value.parse::<uuid::Uuid>().map(ApprovalId::from_uuid) else {
        tracing::warn!(value, "a Slack button carried no approval id");
        return Ephemeral::to_click("This button does not belong to an approval request.".into())
            .into_response();
    };

    let input = DecideInput {
        approval_id,
        approver,
        verdict,
        comment: None,
    };
    match state.use_cases().decide.execute(input).await {
        Ok(decided) if decided.outcome == DecideOutcome::Unchanged => {
            Ephemeral::to_click(format!("You already {} this request.", past_tense(verdict)))
                .into_response()
        }
        Ok(_) => StatusCode::OK.into_response(),
        Err(error) => Ephemeral::to_click(refused(&error)).into_response(),
    }
}

fn parse(body: &[u8]) -> Result<Payload, String> {
    let form: Form = serde_urlencoded::from_bytes(body).map_err(|e| format!("form: {e}"))?;
    serde_json::from_str(&form.payload).map_err(|e| format!("payload JSON: {e}"))
}

/// The verdict and button value of an approval button; `None` for any other action.
fn click(action: &Action) -> Option<(Verdict, &str)> {
    let verdict = match action.action_id.as_str() {
        APPROVE_ACTION => Verdict::Approve,
        REJECT_ACTION => Verdict::Reject,
        _ => return None,
    };
    Some((verdict, action.value.as_deref().unwrap_or_default()))
}
