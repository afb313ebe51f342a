//! The approval message as a neutral model. How Slack shows it is checked in the Slack
//! adapter's tests, against what Slack receives.

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};
use domain::{
    ApprovalId, ChatDestination, Comment, Description, Metadata, NewApproval, Policy,
    RequiredApprovals, Title, Ttl,
};

use super::*;

fn id(raw: &str) -> Identity {
    Identity::parse(raw).unwrap()
}

fn approval(required: i64) -> ApprovalRequest {
    let requester = id("ci-pipeline");
    let mut approval = ApprovalRequest::open(
        ApprovalId::from_uuid(uuid::Uuid::from_u128(1)),
        NewApproval {
            title: Title::parse("Deploy").unwrap(),
            description: Description::parse("to production").unwrap(),
            destination: ChatDestination::parse("C1").unwrap(),
            metadata: Metadata::default(),
            callback_url: None,
            policy: Policy::new(
                RequiredApprovals::new(required).unwrap(),
                BTreeSet::new(),
                false,
                &requester,
            )
            .unwrap(),
            ttl: Ttl::default(),
            requester,
        },
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
    );
    approval.take_events();
    approval
}

fn decide(approval: &mut ApprovalRequest, who: &str, verdict: Verdict, comment: Option<&str>) {
    approval
        .decide(
            id(who),
            verdict,
            comment.map(|c| Comment::parse(c).unwrap()),
            Utc.with_ymd_and_hms(2026, 1, 1, 1, 0, 0).unwrap(),
        )
        .unwrap();
    approval.take_events();
}

#[test]
fn a_pending_request_offers_approve_and_reject_on_its_current_version() {
    let approval = approval(2);
    let message = approval_message(&approval);
    assert_eq!(
        message.subject,
        SubjectRef {
            kind: "approval",
            id: uuid::Uuid::from_u128(1),
            version: 1
        }
    );
    assert_eq!(
        message.notification.to_string(),
        "Approval requested: Deploy"
    );
    assert_eq!(message.headline, RichText::new().strong("Deploy"));
    assert_eq!(message.body, "to production");
    assert!(message.outcome.is_empty());
    let actions: Vec<_> = message.actions.iter().map(|a| (a.id, a.style)).collect();
    assert_eq!(
        actions,
        [
            ("approve", Some(ActionStyle::Primary)),
            ("reject", Some(ActionStyle::Danger))
        ]
    );
    let confirm = message.actions[1].confirm.as_ref().unwrap();
    assert_eq!(confirm.title.to_string(), "Reject “Deploy”?");
    assert_eq!(
        message.actions[1].rest,
        Some(RestCall {
            path: format!("/v1/approvals/{}/decisions", approval.id()),
            body: Some(r#"{"verdict":"reject"}"#.into()),
        })
    );
}

#[test]
fn the_facts_name_the_requester_the_deadline_and_the_approvals_so_far() {
    let mut approval = approval(2);
    decide(&mut approval, "slack:U1", Verdict::Approve, None);
    let facts: Vec<_> = approval_message(&approval)
        .facts
        .iter()
        .map(|f| format!("{}: {}", f.label, f.value))
        .collect();
    assert_eq!(
        facts,
        [
            "Requested by: ci-pipeline",
            "Expires: 2026-01-02T00:00:00+00:00",
            "Approvals: 1 of 2 (slack:U1)",
        ]
    );
}

#[test]
fn a_settled_request_has_no_actions_and_says_who_settled_it() {
    let mut approval = approval(1);
    decide(
        &mut approval,
        "slack:U2",
        Verdict::Reject,
        Some("tests fail"),
    );
    let message = approval_message(&approval);
    assert!(message.actions.is_empty());
    assert_eq!(message.tone, Tone::Danger);
    assert_eq!(message.subject.version, 2);
    assert_eq!(message.facts[1].label, "Closed");
    assert_eq!(
        message.outcome,
        [RichText::new()
            .emoji(Emoji::CrossMark)
            .text(" ")
            .strong("Rejected")
            .text(" by ")
            .person(&id("slack:U2"))
            .text(": “")
            .text("tests fail")
            .text("”")]
    );
}

#[test]
fn status_lists_every_decision_with_its_comment_cut_short() {
    let mut approval = approval(2);
    let long = "x".repeat(Comment::MAX_CHARS);
    decide(&mut approval, "slack:U1", Verdict::Approve, Some(&long));
    let status = status(&approval).to_string();
    let lines: Vec<_> = status.lines().collect();
    assert_eq!(lines[0], "Deploy");
    assert!(lines[1].starts_with("Status: pending · approvals: 1 of 2 · expires "));
    assert_eq!(
        lines[3],
        format!("• slack:U1 approved: “{}…”", "x".repeat(199))
    );
}
