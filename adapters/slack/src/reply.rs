//! Answers to the person who clicked or typed, and the wording of decision and alert outcomes
//! shared by buttons and slash commands.

use application::use_cases::{AlertAction, DecideError, SettleAlertError};
use axum::Json;
use axum::response::{IntoResponse, Response};
use domain::{Alert, AlertError, DecisionError, Identity, Status, Verdict};
use serde::Serialize;

use crate::blocks::MESSAGE_TEXT_MAX;
use crate::text::{date, escape, people, person, truncate};

/// Shown when the failure is ours (the store is down, or the request kept changing), so
/// trying again is the right move. The answer is still a 200: for anything else Slack shows
/// its own, less helpful error.
const TRY_AGAIN: &str =
    "Sorry, that did not go through: hexagate could not record it just now. Please try again.";

/// A message only the person who clicked or typed sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Ephemeral {
    response_type: &'static str,
    /// mrkdwn, built with user input escaped.
    text: String,
    /// Only for clicks: keeps the clicked message itself as it is (the relay updates it).
    #[serde(skip_serializing_if = "Option::is_none")]
    replace_original: Option<bool>,
}

impl Ephemeral {
    pub(crate) fn to_click(text: String) -> Self {
        Self::new(text, Some(false))
    }

    pub(crate) fn to_command(text: String) -> Self {
        Self::new(text, None)
    }

    /// Callers build texts well within the limit; the cut is a last resort.
    fn new(text: String, replace_original: Option<bool>) -> Self {
        Self {
            response_type: "ephemeral",
            text: truncate(&text, MESSAGE_TEXT_MAX),
            replace_original,
        }
    }
}

impl IntoResponse for Ephemeral {
    fn into_response(self) -> Response {
        Json(self).into_response()
    }
}

pub(crate) fn past_tense(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Approve => "approved",
        Verdict::Reject => "rejected",
    }
}

/// Explains why a decision did not happen. It is logged here, because this is where it stops:
/// a refusal as information, a failure of ours as an error.
pub(crate) fn refused(error: &DecideError) -> String {
    if !matches!(error, DecideError::Conflict | DecideError::Store(_)) {
        tracing::info!(%error, "decision from Slack refused");
    }
    match error {
        DecideError::NotFound => "This approval request does not exist.".to_owned(),
        DecideError::Invalid(invalid) => {
            format!("That was not accepted: {}.", escape(&invalid.to_string()))
        }
        DecideError::Refused(refusal) => refusal_text(refusal),
        DecideError::Conflict | DecideError::Store(_) => {
            tracing::error!(%error, "could not record a decision from Slack");
            TRY_AGAIN.to_owned()
        }
    }
}

pub(crate) fn alert_past_tense(action: AlertAction) -> &'static str {
    match action {
        AlertAction::Acknowledge => "acknowledged",
        AlertAction::Resolve => "resolved",
    }
}

/// Explains that `action` changed nothing because `alert` was there already: a double click by
/// `user`, or someone else was quicker.
pub(crate) fn already_settled(action: AlertAction, alert: &Alert, user: &Identity) -> String {
    let state = alert.state();
    let by = match action {
        AlertAction::Acknowledge => state.acknowledged_by.as_ref(),
        AlertAction::Resolve => state.resolved_by.as_ref(),
    };
    let done = alert_past_tense(action);
    match by {
        Some(by) if by == user => format!("You already {done} this alert."),
        Some(by) => format!("Already {done} by {}.", person(by)),
        None => format!("This alert is already {done}."),
    }
}

/// Explains why an alert was not acknowledged or resolved, and logs it like [`refused`].
pub(crate) fn settle_refused(error: &SettleAlertError) -> String {
    if !matches!(
        error,
        SettleAlertError::Conflict | SettleAlertError::Store(_)
    ) {
        tracing::info!(%error, "alert action from Slack refused");
    }
    match error {
        SettleAlertError::NotFound => "This alert does not exist.".to_owned(),
        // Only acknowledging can be refused: resolving a resolved alert is a harmless repeat.
        SettleAlertError::Refused(AlertError::AlreadyResolved) => {
            "This alert is already resolved; there is nothing left to acknowledge.".to_owned()
        }
        SettleAlertError::Conflict | SettleAlertError::Store(_) => {
            tracing::error!(%error, "could not record an alert action from Slack");
            TRY_AGAIN.to_owned()
        }
    }
}

/// Tells the user that something other than a decision or an alert action failed on our side.
pub(crate) fn try_again(error: &dyn std::error::Error) -> String {
    tracing::error!(%error, "could not answer a Slack request");
    TRY_AGAIN.to_owned()
}

fn refusal_text(refusal: &DecisionError) -> String {
    match refusal {
        DecisionError::NotPending { status, decided_by } => settled(*status, decided_by),
        DecisionError::Expired { expired_at } => format!(
            "This request expired {}; it can no longer be decided.",
            date(*expired_at)
        ),
        DecisionError::SelfApproval => {
            "You asked for this approval yourself, so someone else has to decide it \
             (four-eyes principle)."
                .to_owned()
        }
        DecisionError::NotAllowed { .. } => {
            "You are not on this request's list of approvers.".to_owned()
        }
        DecisionError::ConflictingVerdict { previous, .. } => format!(
            "You already {} this request and cannot change your verdict.",
            past_tense(*previous)
        ),
    }
}

/// "Already approved by A and B". `decided_by` lists deciders in the order they decided. A
/// rejection settles a request at once, so on a rejected request the last decider is the one
/// who rejected (anyone before them approved); on an approved request everyone approved.
fn settled(status: Status, decided_by: &[Identity]) -> String {
    match status {
        Status::Approved => format!(
            "Already approved by {}.",
            people(&decided_by.iter().collect::<Vec<_>>())
        ),
        Status::Rejected => match decided_by.last() {
            Some(rejecter) => format!("Already rejected by {}.", person(rejecter)),
            None => "Already rejected.".to_owned(),
        },
        Status::Expired => "This request has expired; it can no longer be decided.".to_owned(),
        Status::Cancelled => "This request was cancelled by its requester.".to_owned(),
        Status::Pending => "This request cannot be decided right now.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use application::ports::RepositoryError;
    use serde_json::json;

    use super::*;

    fn id(raw: &str) -> Identity {
        Identity::parse(raw).unwrap()
    }

    #[test]
    fn a_click_reply_leaves_the_original_message_alone() {
        assert_eq!(
            serde_json::to_value(Ephemeral::to_click("hi".into())).unwrap(),
            json!({"response_type": "ephemeral", "text": "hi", "replace_original": false})
        );
        assert_eq!(
            serde_json::to_value(Ephemeral::to_command("hi".into())).unwrap(),
            json!({"response_type": "ephemeral", "text": "hi"})
        );
    }

    #[test]
    fn a_settled_request_names_who_settled_it() {
        let approved = DecideError::Refused(DecisionError::NotPending {
            status: Status::Approved,
            decided_by: vec![id("slack:U1"), id("slack:U2")],
        });
        assert_eq!(refused(&approved), "Already approved by <@U1> and <@U2>.");

        let rejected = DecideError::Refused(DecisionError::NotPending {
            status: Status::Rejected,
            decided_by: vec![id("slack:U1"), id("slack:U3")],
        });
        assert_eq!(refused(&rejected), "Already rejected by <@U3>.");
    }

    #[test]
    fn our_own_failures_ask_to_try_again() {
        for error in [
            DecideError::Conflict,
            DecideError::Store(RepositoryError::Unavailable("down".into())),
        ] {
            assert_eq!(refused(&error), TRY_AGAIN);
        }
    }

    #[test]
    fn alert_actions_explain_refusals_and_ask_to_retry_our_failures() {
        assert_eq!(
            settle_refused(&SettleAlertError::NotFound),
            "This alert does not exist."
        );
        assert_eq!(
            settle_refused(&SettleAlertError::Refused(AlertError::AlreadyResolved)),
            "This alert is already resolved; there is nothing left to acknowledge."
        );
        for error in [
            SettleAlertError::Conflict,
            SettleAlertError::Store(RepositoryError::Unavailable("down".into())),
        ] {
            assert_eq!(settle_refused(&error), TRY_AGAIN);
        }
    }

    #[test]
    fn every_refusal_is_explained() {
        let cases = [
            (DecideError::NotFound, "does not exist"),
            (
                DecideError::Refused(DecisionError::SelfApproval),
                "four-eyes",
            ),
            (
                DecideError::Refused(DecisionError::NotAllowed {
                    approver: id("slack:U9"),
                }),
                "not on this request's list",
            ),
            (
                DecideError::Refused(DecisionError::ConflictingVerdict {
                    approver: id("slack:U9"),
                    previous: Verdict::Approve,
                }),
                "already approved this request",
            ),
            (
                DecideError::Refused(DecisionError::NotPending {
                    status: Status::Cancelled,
                    decided_by: vec![],
                }),
                "cancelled",
            ),
        ];
        for (error, expected) in cases {
            let text = refused(&error);
            assert!(text.contains(expected), "{text:?} lacks {expected:?}");
        }
    }
}
