//! What the person who decided is told: the outcome of a command, or why nothing happened.

use domain::{DecideOutcome, DecisionError, Identity, Status, Verdict};

use crate::chat::RichText;
use crate::chat::subject::try_again;
use crate::use_cases::{DecideError, Decided};

pub(super) fn past_tense(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Approve => "approved",
        Verdict::Reject => "rejected",
    }
}

/// What a slash command did.
pub(super) fn decided(verdict: Verdict, decided: &Decided) -> RichText {
    let approval = &decided.approval;
    let title = approval.title().as_str();
    let done = past_tense(verdict);
    match decided.outcome {
        DecideOutcome::Unchanged => RichText::new()
            .text(format!("You already {done} "))
            .strong(title)
            .text("."),
        DecideOutcome::Recorded {
            status: Status::Pending,
        } => RichText::new()
            .text(format!("You {done} "))
            .strong(title)
            .text(format!(
                ". Approvals so far: {} of {}.",
                approval.approvals(),
                approval.policy().required_approvals().get()
            )),
        DecideOutcome::Recorded { status } => RichText::new()
            .text(format!("You {done} "))
            .strong(title)
            .text(format!(". It is now {status}.")),
    }
}

/// Explains why a decision did not happen. It is logged here, because this is where it stops:
/// a refusal as information, a failure of ours as an error.
pub(super) fn refused(error: &DecideError) -> RichText {
    let text = match error {
        DecideError::Conflict | DecideError::Store(_) => return try_again(error),
        DecideError::NotFound => "This approval request does not exist.".into(),
        DecideError::Invalid(invalid) => {
            RichText::new().text(format!("That was not accepted: {invalid}."))
        }
        DecideError::Refused(refusal) => refusal_text(refusal),
    };
    tracing::info!(%error, "decision from chat refused");
    text
}

fn refusal_text(refusal: &DecisionError) -> RichText {
    match refusal {
        DecisionError::NotPending { status, decided_by } => settled(*status, decided_by),
        DecisionError::Expired { expired_at } => RichText::new()
            .text("This request expired ")
            .time(*expired_at)
            .text("; it can no longer be decided."),
        DecisionError::SelfApproval => "You asked for this approval yourself, so someone \
             else has to decide it (four-eyes principle)."
            .into(),
        DecisionError::NotAllowed { .. } => {
            "You are not on this request's list of approvers.".into()
        }
        DecisionError::ConflictingVerdict { previous, .. } => RichText::new().text(format!(
            "You already {} this request and cannot change your verdict.",
            past_tense(*previous)
        )),
    }
}

/// "Already approved by A and B". `decided_by` lists deciders in the order they decided. A
/// rejection settles a request at once, so on a rejected request the last decider is the one
/// who rejected (anyone before them approved); on an approved request everyone approved.
fn settled(status: Status, decided_by: &[Identity]) -> RichText {
    match status {
        Status::Approved => RichText::new()
            .text("Already approved by ")
            .people(decided_by)
            .text("."),
        Status::Rejected => match decided_by.last() {
            Some(rejecter) => RichText::new()
                .text("Already rejected by ")
                .person(rejecter)
                .text("."),
            None => "Already rejected.".into(),
        },
        Status::Expired => "This request has expired; it can no longer be decided.".into(),
        Status::Cancelled => "This request was cancelled by its requester.".into(),
        Status::Pending => "This request cannot be decided right now.".into(),
    }
}

#[cfg(test)]
mod tests {
    use crate::ports::RepositoryError;

    use super::*;

    fn id(raw: &str) -> Identity {
        Identity::parse(raw).unwrap()
    }

    #[test]
    fn a_settled_request_names_who_settled_it() {
        let approved = DecideError::Refused(DecisionError::NotPending {
            status: Status::Approved,
            decided_by: vec![id("slack:U1"), id("slack:U2")],
        });
        assert_eq!(
            refused(&approved),
            RichText::new()
                .text("Already approved by ")
                .person(&id("slack:U1"))
                .text(" and ")
                .person(&id("slack:U2"))
                .text(".")
        );

        let rejected = DecideError::Refused(DecisionError::NotPending {
            status: Status::Rejected,
            decided_by: vec![id("slack:U1"), id("slack:U3")],
        });
        assert_eq!(
            refused(&rejected).to_string(),
            "Already rejected by slack:U3."
        );
    }

    #[test]
    fn our_own_failures_ask_to_try_again() {
        for error in [
            DecideError::Conflict,
            DecideError::Store(RepositoryError::Unavailable("down".into())),
        ] {
            assert!(refused(&error).to_string().ends_with("Please try again."));
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
            let text = refused(&error).to_string();
            assert!(text.contains(expected), "{text:?} lacks {expected:?}");
        }
    }
}
