//! Approval requests in chat: how a request reads, the Approve and Reject actions (buttons,
//! and the `approve` and `reject` slash commands), the replies to whoever acted, and the
//! reminders posted in the request's thread.
//!
//! Everything chat knows about approval requests is in this module and its three children
//! (`message`: the message and the status text; `replies`: the wording of outcomes and
//! refusals; `reminder`: the reminder and the expiry warning). Platforms render what it
//! returns without knowing what an approval is.

mod message;
mod reminder;
mod replies;

use async_trait::async_trait;
use domain::{ApprovalEvent, ApprovalId, DecideOutcome, Reminder, Status, Verdict};
use uuid::Uuid;

use super::subject::{Act, ChatSubject, CommandSpec, Noun, Showing, TextArg, Via, Vocabulary};
use super::{ChatMessage, RichText};
use crate::Ports;
use crate::ports::RepositoryError;
use crate::use_cases::{Decide, DecideInput, GetApproval, GetApprovalError};

pub use message::approval_message;

const APPROVE: &str = "approve";
const REJECT: &str = "reject";

static VOCABULARY: Vocabulary = Vocabulary {
    kind: "approval",
    name: Noun {
        word: "approval request",
        with_article: "an approval request",
    },
    short: Noun {
        word: "request",
        with_article: "a request",
    },
    purpose: "decide approval requests",
    actions: &[APPROVE, REJECT],
    commands: &[
        CommandSpec {
            verb: "approve",
            action: APPROVE,
            usage: "<id> [comment]",
            summary: "approves a request",
            text: TextArg::Optional,
        },
        CommandSpec {
            verb: "reject",
            action: REJECT,
            usage: "<id> <reason>",
            summary: "rejects it; a reason is required",
            text: TextArg::Required {
                missing: "A rejection needs a reason.",
            },
        },
    ],
};

/// Approval requests as a [`ChatSubject`]: shown through [`GetApproval`], decided through
/// [`Decide`] — the same use case the REST API calls, so the rules hold in one place.
#[derive(Clone)]
pub struct ApprovalChat {
    get: GetApproval,
    decide: Decide,
}

impl ApprovalChat {
    pub fn new(ports: &Ports) -> Self {
        Self {
            get: GetApproval::new(ports.approvals.clone()),
            decide: Decide::new(ports.approvals.clone(), ports.clock.clone()),
        }
    }
}

#[async_trait]
impl ChatSubject for ApprovalChat {
    fn vocabulary(&self) -> &'static Vocabulary {
        &VOCABULARY
    }

    async fn message(&self, id: Uuid) -> Result<Option<ChatMessage>, RepositoryError> {
        match self.get.execute(ApprovalId::from_uuid(id)).await {
            Ok(approval) => Ok(Some(approval_message(&approval))),
            Err(GetApprovalError::NotFound) => Ok(None),
            Err(GetApprovalError::Store(error)) => Err(error),
        }
    }

    /// Reminders are replies in the request's thread, and only while it is pending: one
    /// delivered after the request settled is dropped. Every other event updates the message.
    async fn showing(&self, event_type: &str, id: Uuid) -> Result<Showing, RepositoryError> {
        let kind = match event_type {
            ApprovalEvent::REMINDED => Reminder::Repeat,
            ApprovalEvent::EXPIRY_WARNED => Reminder::ExpiryWarning,
            _ => return Ok(Showing::Message),
        };
        match self.get.execute(ApprovalId::from_uuid(id)).await {
            Ok(approval) if approval.status() == Status::Pending => {
                Ok(Showing::Reply(reminder::reminder(&approval, kind)))
            }
            Ok(_) => Ok(Showing::Nothing),
            // The sink reports a missing subject, as for any other event.
            Err(GetApprovalError::NotFound) => Ok(Showing::Message),
            Err(GetApprovalError::Store(error)) => Err(error),
        }
    }

    async fn act(&self, act: Act) -> Option<RichText> {
        let verdict = match act.action {
            APPROVE => Verdict::Approve,
            REJECT => Verdict::Reject,
            other => {
                tracing::warn!(action = other, "no such action on approval requests");
                return Some("That is not something I can do with a request.".into());
            }
        };
        let input = DecideInput {
            approval_id: ApprovalId::from_uuid(act.id),
            approver: act.actor,
            verdict,
            comment: act.text,
        };
        match (self.decide.execute(input, None).await, act.via) {
            (Ok(decided), Via::Command) => Some(replies::decided(verdict, &decided)),
            (Ok(decided), Via::Button) if decided.outcome == DecideOutcome::Unchanged => Some(
                format!("You already {} this request.", replies::past_tense(verdict))
                    .as_str()
                    .into(),
            ),
            (Ok(_), Via::Button) => None,
            (Err(error), _) => Some(replies::refused(&error)),
        }
    }

    async fn status(&self, id: Uuid) -> Result<Option<RichText>, RepositoryError> {
        match self.get.execute(ApprovalId::from_uuid(id)).await {
            Ok(approval) => Ok(Some(message::status(&approval))),
            Err(GetApprovalError::NotFound) => Ok(None),
            Err(GetApprovalError::Store(error)) => Err(error),
        }
    }
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
}
