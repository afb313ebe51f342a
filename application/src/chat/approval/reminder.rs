//! How a reminder reads in the thread of an approval request's message: what is waiting,
//! for whom, and until when.
//!
//! The people a reminder mentions are the allowed approvers who have not decided yet (the
//! requester too only if they may approve their own request). A request without an
//! allow-list names nobody: anyone may decide, and pinging a whole channel is not ours to do.

use domain::{ApprovalRequest, Identity, Reminder};

use super::message::subject_ref;
use crate::chat::{ChatReply, Emoji, RichText, Tone};

/// The reply that reminds the approvers of `approval`, or warns them that it expires soon.
pub(super) fn reminder(approval: &ApprovalRequest, kind: Reminder) -> ChatReply {
    let title = approval.title().as_str();
    let (tone, opening) = match kind {
        Reminder::Repeat => (Tone::Neutral, "Reminder: "),
        Reminder::ExpiryWarning => (Tone::Warning, "Expires soon: "),
    };
    let mut text = RichText::new()
        .emoji(Emoji::Hourglass)
        .text(" ")
        .strong(opening)
        .text("“")
        .text(title)
        .text(format!(
            "” is waiting for a decision ({} of {} approvals) and expires ",
            approval.approvals(),
            approval.policy().required_approvals().get()
        ))
        .time(approval.expires_at())
        .text(".");
    let waiting_for: Vec<_> = waiting_for(approval).collect();
    if !waiting_for.is_empty() {
        text = text.text(" ").people(waiting_for).text(", please decide.");
    }
    ChatReply {
        subject: subject_ref(approval),
        tone,
        text,
    }
}

/// The allowed approvers who may still decide.
fn waiting_for(approval: &ApprovalRequest) -> impl Iterator<Item = &Identity> {
    let policy = approval.policy();
    policy.allowed_approvers().iter().filter(move |approver| {
        (policy.allow_self_approval() || *approver != approval.requester())
            && approval
                .decisions()
                .iter()
                .all(|d| d.approver != **approver)
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::{TimeZone, Utc};
    use domain::{
        ApprovalId, ChatDestination, Description, Metadata, NewApproval, Policy, RemindAfter,
        RequiredApprovals, Title, Ttl, Verdict,
    };

    use super::*;
    use crate::chat::Span;

    fn id(raw: &str) -> Identity {
        Identity::parse(raw).unwrap()
    }

    fn approval(allowed: &[&str]) -> ApprovalRequest {
        let requester = id("slack:UCI");
        let allowed: BTreeSet<_> = allowed.iter().map(|a| id(a)).collect();
        let policy = Policy::new(
            RequiredApprovals::new(2).unwrap(),
            allowed,
            false,
            &requester,
        )
        .unwrap()
        .with_remind_after(Some(RemindAfter::from_seconds(3600).unwrap()));
        let mut approval = ApprovalRequest::open(
            ApprovalId::from_uuid(uuid::Uuid::from_u128(1)),
            NewApproval {
                title: Title::parse("Deploy v7").unwrap(),
                description: Description::default(),
                destination: ChatDestination::parse("C1").unwrap(),
                metadata: Metadata::default(),
                callback_url: None,
                policy,
                ttl: Ttl::default(),
                requester,
            },
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        );
        approval.take_events();
        approval
    }

    fn mentioned(reply: &ChatReply) -> Vec<String> {
        reply
            .text
            .spans()
            .iter()
            .filter_map(|span| match span {
                Span::Person(who) => Some(who.to_string()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_reminder_mentions_the_allowed_approvers_who_have_not_decided() {
        let mut approval = approval(&["slack:UA", "slack:UB", "slack:UC", "slack:UCI"]);
        let later = Utc.with_ymd_and_hms(2026, 1, 1, 1, 0, 0).unwrap();
        approval
            .decide(id("slack:UB"), Verdict::Approve, None, later)
            .unwrap();
        let reply = reminder(&approval, Reminder::Repeat);
        // The requester is on the list but may not approve their own request.
        assert_eq!(mentioned(&reply), ["slack:UA", "slack:UC"]);
        assert_eq!(reply.tone, Tone::Neutral);
        assert_eq!(reply.subject.id, approval.id().as_uuid());
        assert!(
            reply.text.to_string().contains("Reminder"),
            "{}",
            reply.text
        );
        assert!(
            reply.text.to_string().contains("(1 of 2 approvals)"),
            "{}",
            reply.text
        );
    }

    #[test]
    fn without_an_allow_list_nobody_is_mentioned_and_a_warning_says_it_expires_soon() {
        let reply = reminder(&approval(&[]), Reminder::ExpiryWarning);
        assert!(mentioned(&reply).is_empty());
        assert_eq!(reply.tone, Tone::Warning);
        assert!(
            reply.text.to_string().contains("Expires soon"),
            "{}",
            reply.text
        );
        assert!(
            reply
                .text
                .spans()
                .contains(&Span::Time(approval(&[]).expires_at()))
        );
    }
}
