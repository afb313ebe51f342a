//! How an approval request reads in chat: its message, and its `status` text.
//!
//! A pending request gets Approve and Reject actions; a settled one shows its outcome and who
//! decided, without actions.

use domain::{ApprovalRequest, Identity, Status, Verdict};

use super::{APPROVE, REJECT, VOCABULARY};
use crate::chat::rich_text::truncate;
use crate::chat::{
    Action, ActionStyle, ChatMessage, Confirmation, Emoji, Fact, RestCall, RichText, SubjectRef,
    Tone,
};

/// Keeps a status reply with many decisions within one message.
const COMMENT_MAX_CHARS_IN_STATUS: usize = 200;

/// The request as it is now.
pub fn approval_message(approval: &ApprovalRequest) -> ChatMessage {
    let status = approval.status();
    let (tone, label) = match status {
        Status::Pending => (Tone::Neutral, "Approval requested"),
        Status::Approved => (Tone::Success, "Approved"),
        Status::Rejected => (Tone::Danger, "Rejected"),
        Status::Expired => (Tone::Muted, "Expired"),
        Status::Cancelled => (Tone::Muted, "Cancelled"),
    };
    let title = approval.title().as_str();
    ChatMessage {
        subject: subject_ref(approval),
        destination: approval.destination().clone(),
        tone,
        status: status.to_string(),
        notification: RichText::new().text(format!("{label}: ")).text(title),
        headline: RichText::new().strong(title),
        body: approval.description().as_str().to_owned(),
        facts: facts(approval),
        outcome: outcome(approval).into_iter().collect(),
        actions: if status == Status::Pending {
            actions(approval)
        } else {
            Vec::new()
        },
    }
}

/// Which request, at which version, the message or a reply shows.
pub(super) fn subject_ref(approval: &ApprovalRequest) -> SubjectRef {
    SubjectRef {
        kind: VOCABULARY.kind,
        id: approval.id().as_uuid(),
        version: approval.version(),
    }
}

/// Requester, deadline (or when it closed), and approvals so far.
fn facts(approval: &ApprovalRequest) -> Vec<Fact> {
    let (when, at) = match approval.resolved_at() {
        Some(resolved_at) => ("Closed", resolved_at),
        None => ("Expires", approval.expires_at()),
    };
    let approvers: Vec<_> = approved_by(approval).collect();
    let mut approvals = RichText::new().text(format!(
        "{} of {}",
        approvers.len(),
        approval.policy().required_approvals().get()
    ));
    if !approvers.is_empty() {
        approvals = approvals.text(" (").people(approvers).text(")");
    }
    vec![
        fact("Requested by", RichText::new().person(approval.requester())),
        fact(when, RichText::new().time(at)),
        fact("Approvals", approvals),
    ]
}

fn fact(label: &str, value: RichText) -> Fact {
    Fact {
        label: label.to_owned(),
        value,
    }
}

/// How a settled request ended, and who settled it.
fn outcome(approval: &ApprovalRequest) -> Option<RichText> {
    let line = match approval.status() {
        Status::Pending => return None,
        Status::Approved => RichText::new()
            .emoji(Emoji::CheckMark)
            .text(" ")
            .strong("Approved")
            .text(" by ")
            .people(approved_by(approval)),
        Status::Rejected => rejection(approval),
        Status::Expired => RichText::new()
            .emoji(Emoji::Hourglass)
            .text(" ")
            .strong("Expired")
            .text(" before it was decided"),
        // Only the requester may cancel (a domain rule), so they are who cancelled.
        Status::Cancelled => RichText::new()
            .emoji(Emoji::NoEntry)
            .text(" ")
            .strong("Cancelled")
            .text(" by ")
            .person(approval.requester()),
    };
    Some(line)
}

/// Who rejected, and their reason when they gave one.
fn rejection(approval: &ApprovalRequest) -> RichText {
    let rejection = approval
        .decisions()
        .iter()
        .find(|d| d.verdict == Verdict::Reject);
    let mut line = RichText::new()
        .emoji(Emoji::CrossMark)
        .text(" ")
        .strong("Rejected");
    if let Some(rejection) = rejection {
        line = line.text(" by ").person(&rejection.approver);
        if let Some(comment) = &rejection.comment {
            line = line.text(": “").text(comment.as_str()).text("”");
        }
    }
    line
}

fn actions(approval: &ApprovalRequest) -> Vec<Action> {
    let decisions = format!("/v1/approvals/{}/decisions", approval.id());
    let rest = |verdict: &str| {
        Some(RestCall {
            path: decisions.clone(),
            body: Some(format!(r#"{{"verdict":"{verdict}"}}"#)),
        })
    };
    vec![
        Action {
            id: APPROVE,
            label: "Approve".to_owned(),
            style: Some(ActionStyle::Primary),
            confirm: None,
            rest: rest("approve"),
        },
        Action {
            id: REJECT,
            label: "Reject".to_owned(),
            style: Some(ActionStyle::Danger),
            confirm: Some(Confirmation {
                title: RichText::new()
                    .text("Reject “")
                    .text(approval.title().as_str())
                    .text("”?"),
                text: "A rejection settles the request at once and the requester is told. \
                       It cannot be undone."
                    .to_owned(),
                confirm: "Reject".to_owned(),
                deny: "Cancel".to_owned(),
            }),
            rest: rest("reject"),
        },
    ]
}

/// Where the request stands, and every decision so far, for the `status` command.
pub(super) fn status(approval: &ApprovalRequest) -> RichText {
    let (when, at) = match approval.resolved_at() {
        Some(resolved_at) => ("closed", resolved_at),
        None => ("expires", approval.expires_at()),
    };
    let mut lines = vec![
        RichText::new().strong(approval.title().as_str()),
        RichText::new()
            .text("Status: ")
            .strong(approval.status().as_str())
            .text(format!(
                " · approvals: {} of {} · {when} ",
                approval.approvals(),
                approval.policy().required_approvals().get()
            ))
            .time(at),
        RichText::new()
            .text("Requested by ")
            .person(approval.requester())
            .text(" · id ")
            .code(approval.id().to_string()),
    ];
    for decision in approval.decisions() {
        let mut line = RichText::new()
            .text("• ")
            .person(&decision.approver)
            .text(format!(" {}", super::replies::past_tense(decision.verdict)));
        if let Some(comment) = &decision.comment {
            let comment = truncate(comment.as_str(), COMMENT_MAX_CHARS_IN_STATUS);
            line = line.text(": “").text(comment).text("”");
        }
        lines.push(line);
    }
    RichText::lines(lines)
}

fn approved_by(approval: &ApprovalRequest) -> impl Iterator<Item = &Identity> {
    approval
        .decisions()
        .iter()
        .filter(|d| d.verdict == Verdict::Approve)
        .map(|d| &d.approver)
}

#[cfg(test)]
#[path = "message/tests.rs"]
mod tests;
