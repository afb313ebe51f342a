//! `POST /slack/interactions`: someone clicked a button on one of our messages — Approve or
//! Reject on an approval request, Acknowledge or Resolve on an alert.
//!
//! A click goes through the same use case as the REST API (`Decide`, `SettleAlert`) and is
//! answered at once: an empty 200 when it changed something, or an ephemeral note when it did
//! not. The clicked message itself is not touched here. The change's events went to the outbox
//! in the same transaction as the change, and the relay turns them into a `chat.update`; so
//! the answer never waits on Slack (which allows three seconds), and a Slack outage cannot
//! lose the update.

use application::use_cases::{AlertAction, DecideInput};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{AlertId, ApprovalId, DecideOutcome, Identity, TransitionOutcome, Verdict};
use serde::Deserialize;

use crate::blocks::{ACKNOWLEDGE_ACTION, APPROVE_ACTION, REJECT_ACTION, RESOLVE_ACTION};
use crate::identity::from_slack_user;
use crate::inbound::{SignedBody, SlackState};
use crate::reply::{Ephemeral, already_settled, past_tense, refused, settle_refused};

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

/// What a click on one of our buttons asks for, with the button's value: the id of what it
/// acts on.
enum Click<'a> {
    Decide { verdict: Verdict, value: &'a str },
    Settle { action: AlertAction, value: &'a str },
}

impl<'a> Click<'a> {
    /// `None` for any action that is not one of our buttons.
    fn of(action: &'a Action) -> Option<Self> {
        let value = action.value.as_deref().unwrap_or_default();
        let click = match action.action_id.as_str() {
            APPROVE_ACTION => Self::Decide {
                verdict: Verdict::Approve,
                value,
            },
            REJECT_ACTION => Self::Decide {
                verdict: Verdict::Reject,
                value,
            },
            ACKNOWLEDGE_ACTION => Self::Settle {
                action: AlertAction::Acknowledge,
                value,
            },
            RESOLVE_ACTION => Self::Settle {
                action: AlertAction::Resolve,
                value,
            },
            _ => return None,
        };
        Some(click)
    }
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
    let Some(click) = payload.actions.iter().find_map(Click::of) else {
        tracing::debug!("ignored a Slack interaction without one of our buttons");
        return StatusCode::OK.into_response();
    };
    let Some(user) = payload.user.as_ref().and_then(|u| from_slack_user(&u.id)) else {
        tracing::warn!("refused a Slack interaction without a valid user id");
        return StatusCode::BAD_REQUEST.into_response();
    };
    let note = match click {
        Click::Decide { verdict, value } => decide(&state, user, verdict, value).await,
        Click::Settle { action, value } => settle(&state, user, action, value).await,
    };
    match note {
        None => StatusCode::OK.into_response(),
        Some(text) => Ephemeral::to_click(text).into_response(),
    }
}

fn parse(body: &[u8]) -> Result<Payload, String> {
    let form: Form = serde_urlencoded::from_bytes(body).map_err(|e| format!("form: {e}"))?;
    serde_json::from_str(&form.payload).map_err(|e| format!("payload JSON: {e}"))
}

/// Decides the approval request whose id the button carries. `None` when the decision was
/// recorded, else the note that tells the approver why not.
async fn decide(
    state: &SlackState,
    approver: Identity,
    verdict: Verdict,
    value: &str,
) -> Option<String> {
    let Ok(approval_id) = value.parse::<uuid::Uuid>().map(ApprovalId::from_uuid) else {
        tracing::warn!(value, "a Slack button carried no approval id");
        return Some("This button does not belong to an approval request.".to_owned());
    };
    let input = DecideInput {
        approval_id,
        approver,
        verdict,
        comment: None,
    };
    match state.use_cases().decide.execute(input, None).await {
        Ok(decided) if decided.outcome == DecideOutcome::Unchanged => {
            Some(format!("You already {} this request.", past_tense(verdict)))
        }
        Ok(_) => None,
        Err(error) => Some(refused(&error)),
    }
}

/// Acknowledges or resolves the alert whose id the button carries. `None` when the alert
/// changed, else the note that tells the user why not.
async fn settle(
    state: &SlackState,
    user: Identity,
    action: AlertAction,
    value: &str,
) -> Option<String> {
    let Ok(alert_id) = value.parse::<uuid::Uuid>().map(AlertId::from_uuid) else {
        tracing::warn!(value, "a Slack button carried no alert id");
        return Some("This button does not belong to an alert.".to_owned());
    };
    match state
        .use_cases()
        .settle_alert
        .execute(alert_id, action, user.clone(), None)
        .await
    {
        Ok((_, TransitionOutcome::Changed)) => None,
        Ok((alert, TransitionOutcome::Unchanged)) => Some(already_settled(action, &alert, &user)),
        Err(error) => Some(settle_refused(&error)),
    }
}
