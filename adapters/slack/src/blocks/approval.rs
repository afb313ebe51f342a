//! The message that shows an approval request in its channel.
//!
//! A pending request gets Approve and Reject buttons; a settled one shows its outcome and who
//! decided, without buttons.

use domain::{ApprovalRequest, Status, Verdict};

use super::{
    BUTTON_TEXT_MAX, Block, Button, ButtonStyle, CONFIRM_BUTTON_MAX, CONFIRM_TEXT_MAX,
    CONFIRM_TITLE_MAX, Confirm, MESSAGE_TEXT_MAX, Message, SECTION_TEXT_MAX, Text, section,
};
use crate::text::{date, escape, escape_truncated, people, person, truncate};

/// Stable action ids: the interaction route recognises a click by these, whatever version of
/// the message the button was on.
pub(crate) const APPROVE_ACTION: &str = "approval_approve";
pub(crate) const REJECT_ACTION: &str = "approval_reject";

/// Renders the request as it is now.
pub(crate) fn approval_message(approval: &ApprovalRequest) -> Message {
    let last = match approval.status() {
        Status::Pending => actions(approval),
        Status::Approved => section(format!(
            ":white_check_mark: *Approved* by {}",
            people(&approved_by(approval).collect::<Vec<_>>())
        )),
        Status::Rejected => section(rejection(approval)),
        Status::Expired => section(":hourglass: *Expired* before it was decided".to_owned()),
        // Only the requester may cancel (a domain rule), so they are who cancelled.
        Status::Cancelled => section(format!(
            ":no_entry_sign: *Cancelled* by {}",
            person(approval.requester())
        )),
    };
    Message {
        text: fallback_text(approval),
        blocks: vec![summary(approval), context(approval), last],
    }
}

fn fallback_text(approval: &ApprovalRequest) -> String {
    let label = match approval.status() {
        Status::Pending => "Approval requested",
        Status::Approved => "Approved",
        Status::Rejected => "Rejected",
        Status::Expired => "Expired",
        Status::Cancelled => "Cancelled",
    };
    let budget = MESSAGE_TEXT_MAX - label.len() - 2;
    format!(
        "{label}: {}",
        escape_truncated(approval.title().as_str(), budget)
    )
}

/// Title and description. A title is at most 200 characters, so even fully escaped it leaves
/// most of the section for the description, which is cut to fit.
fn summary(approval: &ApprovalRequest) -> Block {
    let title = format!("*{}*", escape(approval.title().as_str()));
    let description = approval.description().as_str();
    let text = if description.is_empty() {
        title
    } else {
        let budget = SECTION_TEXT_MAX.saturating_sub(title.chars().count() + 1);
        format!("{title}\n{}", escape_truncated(description, budget))
    };
    section(text)
}

/// Requester, deadline (or when it closed), and approvals so far. Identities and numbers
/// only, so these stay far below the limit.
fn context(approval: &ApprovalRequest) -> Block {
    let when = match approval.resolved_at() {
        Some(resolved_at) => format!("Closed {}", date(resolved_at)),
        None => format!("Expires {}", date(approval.expires_at())),
    };
    let approvers: Vec<_> = approved_by(approval).collect();
    let mut approvals = format!(
        "Approvals: {} of {}",
        approvers.len(),
        approval.policy().required_approvals().get()
    );
    if !approvers.is_empty() {
        approvals.push_str(&format!(" ({})", people(&approvers)));
    }
    Block::Context {
        elements: vec![
            Text::Mrkdwn {
                text: format!("Requested by {}", person(approval.requester())),
            },
            Text::Mrkdwn { text: when },
            Text::Mrkdwn { text: approvals },
        ],
    }
}

/// The buttons. The block id changes with every version, as Slack asks for updated
/// messages; the action ids never change.
fn actions(approval: &ApprovalRequest) -> Block {
    let id = approval.id().to_string();
    // "Reject “…”?" around the title: 10 characters.
    let confirm_title = format!(
        "Reject “{}”?",
        truncate(approval.title().as_str(), CONFIRM_TITLE_MAX - 10)
    );
    Block::Actions {
        block_id: format!("approval-{id}-v{}", approval.version()),
        elements: vec![
            Button {
                action_id: APPROVE_ACTION,
                text: Text::plain("Approve", BUTTON_TEXT_MAX),
                value: id.clone(),
                style: Some(ButtonStyle::Primary),
                confirm: None,
            },
            Button {
                action_id: REJECT_ACTION,
                text: Text::plain("Reject", BUTTON_TEXT_MAX),
                value: id,
                style: Some(ButtonStyle::Danger),
                confirm: Some(Confirm {
                    title: Text::plain(&confirm_title, CONFIRM_TITLE_MAX),
                    text: Text::plain(
                        "A rejection settles the request at once and the requester is told. \
                         It cannot be undone.",
                        CONFIRM_TEXT_MAX,
                    ),
                    confirm: Text::plain("Reject", CONFIRM_BUTTON_MAX),
                    deny: Text::plain("Cancel", CONFIRM_BUTTON_MAX),
                    style: ButtonStyle::Danger,
                }),
            },
        ],
    }
}

/// Who rejected, and their reason when they gave one.
fn rejection(approval: &ApprovalRequest) -> String {
    let rejection = approval
        .decisions()
        .iter()
        .find(|d| d.verdict == Verdict::Reject);
    let by = rejection.map_or_else(String::new, |d| format!(" by {}", person(&d.approver)));
    let head = format!(":x: *Rejected*{by}");
    match rejection.and_then(|d| d.comment.as_ref()) {
        Some(comment) => {
            // ": “" and "”" around the comment: 4 characters.
            let budget = SECTION_TEXT_MAX.saturating_sub(head.chars().count() + 4);
            format!("{head}: “{}”", escape_truncated(comment.as_str(), budget))
        }
        None => head,
    }
}

fn approved_by(approval: &ApprovalRequest) -> impl Iterator<Item = &domain::Identity> {
    approval
        .decisions()
        .iter()
        .filter(|d| d.verdict == Verdict::Approve)
        .map(|d| &d.approver)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::{Duration, TimeZone, Utc};
    use domain::{
        ApprovalId, ChatDestination, Comment, Description, Identity, Metadata, NewApproval, Policy,
        RequiredApprovals, Title, Ttl,
    };
    use serde_json::{Value, json};

    use super::*;

    fn id(raw: &str) -> Identity {
        Identity::parse(raw).unwrap()
    }

    fn approval(title: &str, description: &str, required: i64) -> ApprovalRequest {
        let requester = id("ci-pipeline");
        let mut approval = ApprovalRequest::open(
            ApprovalId::from_uuid(uuid::Uuid::from_u128(
                0x0190_0000_0000_7000_8000_0000_0000_0001,
            )),
            NewApproval {
                title: Title::parse(title).unwrap(),
                description: Description::parse(description).unwrap(),
                destination: ChatDestination::parse("C0123456789").unwrap(),
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

    fn json(approval: &ApprovalRequest) -> Value {
        serde_json::to_value(approval_message(approval)).unwrap()
    }

    fn text_of(block: &Value) -> &str {
        block["text"]["text"].as_str().unwrap()
    }

    #[test]
    fn a_pending_request_gets_approve_and_reject_buttons_carrying_its_id() {
        let approval = approval("Deploy api v1.4.2", "to production", 1);
        let message = json(&approval);
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
                     "confirm": {
                        "title": {"type": "plain_text", "text": "Reject “Deploy api v1.4.2”?"},
                        "text": {"type": "plain_text", "text": "A rejection settles the request at once and the requester is told. It cannot be undone."},
                        "confirm": {"type": "plain_text", "text": "Reject"},
                        "deny": {"type": "plain_text", "text": "Cancel"},
                        "style": "danger"
                     }}
                ]
            })
        );
    }

    #[test]
    fn the_context_names_the_requester_the_deadline_and_the_approvals_so_far() {
        let mut approval = approval("Deploy", "", 2);
        decide(&mut approval, "slack:U1", Verdict::Approve, None);
        let message = json(&approval);
        let elements: Vec<&str> = message["blocks"][1]["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["text"].as_str().unwrap())
            .collect();
        assert_eq!(
            elements,
            [
                "Requested by ci-pipeline",
                "Expires <!date^1767312000^{date_short_pretty} at {time}|2026-01-02 00:00 UTC>",
                "Approvals: 1 of 2 (<@U1>)",
            ]
        );
    }

    #[test]
    fn every_new_version_gets_a_new_block_id() {
        let mut approval = approval("Deploy", "", 2);
        let before = json(&approval)["blocks"][2]["block_id"].clone();
        decide(&mut approval, "slack:U1", Verdict::Approve, None);
        let after = json(&approval)["blocks"][2]["block_id"].clone();
        assert_ne!(before, after);
        assert_eq!(
            json(&approval)["blocks"][2]["elements"][0]["action_id"],
            APPROVE_ACTION
        );
    }

    #[test]
    fn an_approved_request_has_no_buttons_and_names_its_approvers() {
        let mut approval = approval("Deploy", "", 2);
        decide(&mut approval, "slack:U1", Verdict::Approve, None);
        decide(&mut approval, "ops-bot", Verdict::Approve, None);
        let message = json(&approval);
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
                .starts_with("Closed <!date^")
        );
    }

    #[test]
    fn a_rejected_request_shows_who_rejected_and_why_escaped() {
        let mut approval = approval("Deploy", "", 2);
        decide(&mut approval, "slack:U1", Verdict::Approve, None);
        decide(
            &mut approval,
            "slack:U2",
            Verdict::Reject,
            Some("tests fail <!channel>"),
        );
        let message = json(&approval);
        assert_eq!(message["text"], "Rejected: Deploy");
        assert_eq!(
            text_of(&message["blocks"][2]),
            ":x: *Rejected* by <@U2>: “tests fail &lt;!channel&gt;”"
        );
    }

    #[test]
    fn expired_and_cancelled_requests_say_so() {
        let mut expired = approval("Deploy", "", 1);
        expired
            .expire(Utc.with_ymd_and_hms(2026, 1, 3, 0, 0, 0).unwrap())
            .unwrap();
        assert_eq!(
            text_of(&json(&expired)["blocks"][2]),
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
            text_of(&json(&cancelled)["blocks"][2]),
            ":no_entry_sign: *Cancelled* by ci-pipeline"
        );
    }

    #[test]
    fn user_text_is_escaped_so_it_cannot_ping_or_link() {
        let approval = approval("<!here> & <https://evil|click>", "a > b", 1);
        let message = json(&approval);
        assert_eq!(
            message["text"],
            "Approval requested: &lt;!here&gt; &amp; &lt;https://evil|click&gt;"
        );
        assert_eq!(
            text_of(&message["blocks"][0]),
            "*&lt;!here&gt; &amp; &lt;https://evil|click&gt;*\na &gt; b"
        );
    }

    #[test]
    fn long_titles_and_descriptions_are_cut_to_block_kit_limits() {
        let title = "T".repeat(Title::MAX_CHARS);
        let description = "&".repeat(Description::MAX_CHARS);
        let message = json(&approval(&title, &description, 1));

        let section = text_of(&message["blocks"][0]);
        assert!(section.chars().count() <= SECTION_TEXT_MAX);
        assert!(section.starts_with(&format!("*{title}*\n&amp;")));
        assert!(section.ends_with("&amp;…"), "cut inside an entity");

        let confirm_title = message["blocks"][2]["elements"][1]["confirm"]["title"]["text"]
            .as_str()
            .unwrap();
        assert_eq!(confirm_title.chars().count(), CONFIRM_TITLE_MAX);
        assert!(confirm_title.ends_with("T…”?"), "{confirm_title}");
        assert!(message["text"].as_str().unwrap().chars().count() <= MESSAGE_TEXT_MAX);
    }

    #[test]
    fn a_long_rejection_comment_is_cut_to_the_section_limit() {
        let mut approval = approval("Deploy", "", 1);
        decide(
            &mut approval,
            "slack:U2",
            Verdict::Reject,
            Some(&"<".repeat(Comment::MAX_CHARS)),
        );
        let outcome = text_of(&json(&approval)["blocks"][2]).to_owned();
        assert!(outcome.chars().count() <= SECTION_TEXT_MAX);
        assert!(outcome.ends_with("&lt;…”"), "{outcome}");
    }
}
