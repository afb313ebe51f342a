//! An approval request in Slack: Approve and Reject buttons while pending, the outcome and
//! who decided once settled.

use application::chat::approval::approval_message;
use chrono::{Duration, TimeZone, Utc};
use domain::{ApprovalRequest, Comment, Description, Identity, Title, Verdict};
use serde_json::{Value, json};

use crate::fixture::approval;
use crate::sent::{
    SECTION_TEXT_MAX, action_ids, assert_cut_to_block_kit_limits, confirm_dialog, sent, text_of,
};

fn id(raw: &str) -> Identity {
    Identity::parse(raw).unwrap()
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

async fn json(approval: &ApprovalRequest) -> Value {
    sent(&approval_message(approval)).await
}

#[tokio::test]
async fn a_pending_request_gets_approve_and_reject_buttons_carrying_its_id() {
    let approval = approval("Deploy api v1.4.2", "to production", 1);
    let message = json(&approval).await;
    let id = approval.id().to_string();

    assert_eq!(message["text"], "Approval requested: Deploy api v1.4.2");
    assert_eq!(
        message["blocks"][0],
        json!({"type": "section", "text": {"type": "mrkdwn", "text": "*Deploy api v1.4.2*\nto production"}})
    );
    assert_eq!(message["blocks"][1]["type"], "context");
    assert_eq!(
        message["blocks"][2],
        json!({
            "type": "actions",
            "block_id": format!("approval-{id}-v1"),
            "elements": [
                {"type": "button", "action_id": "approval_approve", "style": "primary",
                 "text": {"type": "plain_text", "text": "Approve"}, "value": id},
                {"type": "button", "action_id": "approval_reject", "style": "danger",
                 "text": {"type": "plain_text", "text": "Reject"}, "value": id,
                 "confirm": confirm_dialog(
                    "Reject “Deploy api v1.4.2”?",
                    "A rejection settles the request at once and the requester is told. It cannot be undone.",
                    "Reject",
                    "danger",
                 )}
            ]
        })
    );
}

#[tokio::test]
async fn the_context_names_the_requester_the_deadline_and_the_approvals_so_far() {
    let mut approval = approval("Deploy", "", 2);
    decide(&mut approval, "slack:U1", Verdict::Approve, None);
    let message = json(&approval).await;
    let elements: Vec<&str> = message["blocks"][1]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        elements,
        [
            "Requested by: ci-pipeline",
            "Expires: <!date^1767312000^{date_short_pretty} at {time}|2026-01-02 00:00 UTC>",
            "Approvals: 1 of 2 (<@U1>)",
        ]
    );
}

#[tokio::test]
async fn every_new_version_gets_a_new_block_id() {
    let mut approval = approval("Deploy", "", 2);
    let before = json(&approval).await["blocks"][2]["block_id"].clone();
    decide(&mut approval, "slack:U1", Verdict::Approve, None);
    let after = json(&approval).await;
    assert_ne!(before, after["blocks"][2]["block_id"]);
    assert_eq!(action_ids(&after), ["approval_approve", "approval_reject"]);
}

#[tokio::test]
async fn an_approved_request_has_no_buttons_and_names_its_approvers() {
    let mut approval = approval("Deploy", "", 2);
    decide(&mut approval, "slack:U1", Verdict::Approve, None);
    decide(&mut approval, "ops-bot", Verdict::Approve, None);
    let message = json(&approval).await;
    assert_eq!(message["text"], "Approved: Deploy");
    let blocks = message["blocks"].as_array().unwrap();
    assert!(blocks.iter().all(|b| b["type"] != "actions"));
    assert_eq!(
        text_of(&blocks[2]),
        ":white_check_mark: *Approved* by <@U1> and ops-bot"
    );
    assert!(
        blocks[1]["elements"][1]["text"]
            .as_str()
            .unwrap()
            .starts_with("Closed: <!date^")
    );
}

#[tokio::test]
async fn a_rejected_request_shows_who_rejected_and_why_escaped() {
    let mut approval = approval("Deploy", "", 2);
    decide(&mut approval, "slack:U1", Verdict::Approve, None);
    decide(
        &mut approval,
        "slack:U2",
        Verdict::Reject,
        Some("tests fail <!channel>"),
    );
    let message = json(&approval).await;
    assert_eq!(message["text"], "Rejected: Deploy");
    assert_eq!(
        text_of(&message["blocks"][2]),
        ":x: *Rejected* by <@U2>: “tests fail &lt;!channel&gt;”"
    );
}

#[tokio::test]
async fn expired_and_cancelled_requests_say_so() {
    let mut expired = approval("Deploy", "", 1);
    expired
        .expire(Utc.with_ymd_and_hms(2026, 1, 3, 0, 0, 0).unwrap())
        .unwrap();
    assert_eq!(
        text_of(&json(&expired).await["blocks"][2]),
        ":hourglass: *Expired* before it was decided"
    );

    let mut cancelled = approval("Deploy", "", 1);
    cancelled
        .cancel(
            &id("ci-pipeline"),
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(1),
        )
        .unwrap();
    assert_eq!(
        text_of(&json(&cancelled).await["blocks"][2]),
        ":no_entry_sign: *Cancelled* by ci-pipeline"
    );
}

#[tokio::test]
async fn user_text_is_escaped_so_it_cannot_ping_or_link() {
    let approval = approval("<!here> & <https://evil|click>", "a > b", 1);
    let message = json(&approval).await;
    assert_eq!(
        message["text"],
        "Approval requested: &lt;!here&gt; &amp; &lt;https://evil|click&gt;"
    );
    assert_eq!(
        text_of(&message["blocks"][0]),
        "*&lt;!here&gt; &amp; &lt;https://evil|click&gt;*\na &gt; b"
    );
}

#[tokio::test]
async fn long_titles_and_descriptions_are_cut_to_block_kit_limits() {
    let title = "T".repeat(Title::MAX_CHARS);
    let description = "&".repeat(Description::MAX_CHARS);
    let message = json(&approval(&title, &description, 1)).await;

    assert_cut_to_block_kit_limits(&message, "T…”?");
    let section = text_of(&message["blocks"][0]);
    assert!(section.starts_with(&format!("*{title}*\n&amp;")));
    assert!(section.ends_with("&amp;…"), "cut inside an entity");
}

#[tokio::test]
async fn a_long_rejection_comment_is_cut_to_the_section_limit() {
    let mut approval = approval("Deploy", "", 1);
    decide(
        &mut approval,
        "slack:U2",
        Verdict::Reject,
        Some(&"<".repeat(Comment::MAX_CHARS)),
    );
    let outcome = text_of(&json(&approval).await["blocks"][2]).to_owned();
    assert!(outcome.chars().count() <= SECTION_TEXT_MAX);
    assert!(outcome.ends_with("&lt;…”"), "{outcome}");
}
