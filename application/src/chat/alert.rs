//! Alerts in chat: how an alert reads, the Acknowledge and Resolve actions (buttons, and the
//! `ack` and `resolve` slash commands), and the replies to whoever acted.
//!
//! An alert has one message for its whole life: raising the same dedup key again while it is
//! unresolved updates that message (the count, the latest severity, summary and details)
//! instead of posting a new one. Everything chat knows about alerts is in this module and its
//! child `message`.

mod message;

use async_trait::async_trait;
use domain::{Alert, AlertError, AlertId, Identity, TransitionOutcome};
use uuid::Uuid;

use super::subject::{Act, ChatSubject, CommandSpec, Noun, TextArg, Via, Vocabulary, try_again};
use super::{ChatMessage, RichText};
use crate::Ports;
use crate::ports::RepositoryError;
use crate::use_cases::{AlertAction, GetAlert, GetAlertError, SettleAlert, SettleAlertError};

pub use message::alert_message;

const ACKNOWLEDGE: &str = "acknowledge";
const RESOLVE: &str = "resolve";

static VOCABULARY: Vocabulary = Vocabulary {
    kind: "alert",
    name: Noun {
        word: "alert",
        with_article: "an alert",
    },
    short: Noun {
        word: "alert",
        with_article: "an alert",
    },
    purpose: "handle alerts",
    actions: &[ACKNOWLEDGE, RESOLVE],
    commands: &[
        CommandSpec {
            verb: "ack",
            action: ACKNOWLEDGE,
            usage: "<alert id>",
            summary: "acknowledges an alert: you are on it",
            text: TextArg::None,
        },
        CommandSpec {
            verb: "resolve",
            action: RESOLVE,
            usage: "<alert id>",
            summary: "resolves it",
            text: TextArg::None,
        },
    ],
};

/// Alerts as a [`ChatSubject`]: shown through [`GetAlert`], acknowledged and resolved through
/// [`SettleAlert`], the use case the REST API calls too.
#[derive(Clone)]
pub struct AlertChat {
    get: GetAlert,
    settle: SettleAlert,
}

impl AlertChat {
    pub fn new(ports: &Ports) -> Self {
        Self {
            get: GetAlert::new(ports.alerts.clone()),
            settle: SettleAlert::new(ports.alerts.clone(), ports.clock.clone()),
        }
    }

    async fn find(&self, id: Uuid) -> Result<Option<Alert>, RepositoryError> {
        match self.get.execute(AlertId::from_uuid(id)).await {
            Ok(alert) => Ok(Some(alert)),
            Err(GetAlertError::NotFound) => Ok(None),
            Err(GetAlertError::Store(error)) => Err(error),
        }
    }
}

#[async_trait]
impl ChatSubject for AlertChat {
    fn vocabulary(&self) -> &'static Vocabulary {
        &VOCABULARY
    }

    async fn message(&self, id: Uuid) -> Result<Option<ChatMessage>, RepositoryError> {
        Ok(self.find(id).await?.as_ref().map(alert_message))
    }

    async fn act(&self, act: Act) -> Option<RichText> {
        let action = match act.action {
            ACKNOWLEDGE => AlertAction::Acknowledge,
            RESOLVE => AlertAction::Resolve,
            other => {
                tracing::warn!(action = other, "no such action on alerts");
                return Some("That is not something I can do with an alert.".into());
            }
        };
        let user = act.actor;
        let settled = self
            .settle
            .execute(AlertId::from_uuid(act.id), action, user.clone(), None)
            .await;
        match (settled, act.via) {
            (Ok((_, TransitionOutcome::Changed)), Via::Button) => None,
            (Ok((alert, TransitionOutcome::Changed)), Via::Command) => Some(
                RichText::new()
                    .text(format!("You {} ", past_tense(action)))
                    .strong(alert.state().summary.as_str())
                    .text("."),
            ),
            (Ok((alert, TransitionOutcome::Unchanged)), _) => {
                Some(already_settled(action, &alert, &user))
            }
            (Err(error), _) => Some(refused(&error)),
        }
    }

    async fn status(&self, id: Uuid) -> Result<Option<RichText>, RepositoryError> {
        Ok(self.find(id).await?.as_ref().map(message::status))
    }
}

fn past_tense(action: AlertAction) -> &'static str {
    match action {
        AlertAction::Acknowledge => "acknowledged",
        AlertAction::Resolve => "resolved",
    }
}

/// Explains that `action` changed nothing because `alert` was there already: a double click by
/// `user`, or someone else was quicker.
fn already_settled(action: AlertAction, alert: &Alert, user: &Identity) -> RichText {
    let state = alert.state();
    let by = match action {
        AlertAction::Acknowledge => state.acknowledged_by.as_ref(),
        AlertAction::Resolve => state.resolved_by.as_ref(),
    };
    let done = past_tense(action);
    match by {
        Some(by) if by == user => format!("You already {done} this alert.").as_str().into(),
        Some(by) => RichText::new()
            .text(format!("Already {done} by "))
            .person(by)
            .text("."),
        None => format!("This alert is already {done}.").as_str().into(),
    }
}

/// Explains why an alert was not acknowledged or resolved, and logs it where it stops.
fn refused(error: &SettleAlertError) -> RichText {
    let text = match error {
        SettleAlertError::Conflict | SettleAlertError::Store(_) => return try_again(error),
        SettleAlertError::NotFound => "This alert does not exist.".into(),
        // Only acknowledging can be refused: resolving a resolved alert is a harmless repeat.
        SettleAlertError::Refused(AlertError::AlreadyResolved) => {
            "This alert is already resolved; there is nothing left to acknowledge.".into()
        }
    };
    tracing::info!(%error, "alert action from chat refused");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verb_performs_one_of_the_actions() {
        for command in VOCABULARY.commands {
            assert!(VOCABULARY.actions.contains(&command.action), "{command:?}");
        }
    }

    #[test]
    fn refusals_are_explained_and_our_failures_ask_to_try_again() {
        assert_eq!(
            refused(&SettleAlertError::NotFound).to_string(),
            "This alert does not exist."
        );
        assert_eq!(
            refused(&SettleAlertError::Refused(AlertError::AlreadyResolved)).to_string(),
            "This alert is already resolved; there is nothing left to acknowledge."
        );
        for error in [
            SettleAlertError::Conflict,
            SettleAlertError::Store(RepositoryError::Unavailable("down".into())),
        ] {
            assert!(refused(&error).to_string().ends_with("Please try again."));
        }
    }
}
