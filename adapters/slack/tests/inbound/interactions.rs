//! Button clicks: approve, reject, the refusals, and payloads this service does not handle.

use application::use_cases::CreateApprovalInput;
use axum::http::StatusCode;
use chrono::Duration;
use domain::{Identity, Status, Verdict};
use serde_json::json;

use crate::support::{APP_ID, TestSlack, block_actions, input, payload};

const APPROVE: &str = "approval_approve";
const REJECT: &str = "approval_reject";

#[tokio::test]
async fn an_approve_click_approves_and_is_acknowledged_with_an_empty_body() {
    let slack = TestSlack::start();
    let approval = slack.request(1).await;

    let answer = slack
        .click("U0ALICE", APPROVE, &approval.id().to_string())
        .await;

    answer.assert_empty_ok();
    let approval = slack.approval(approval.id()).await;
    assert_eq!(approval.status(), Status::Approved);
    let decision = &approval.decisions()[0];
    assert_eq!(decision.approver, Identity::parse("slack:U0ALICE").unwrap());
    assert_eq!(decision.verdict, Verdict::Approve);
    // Slack was not called (the mock gateway in `support` fails the test if it is).
    assert_eq!(
        slack.event_types(),
        [
            "approval.requested",
            "approval.decision_recorded",
            "approval.approved"
        ]
    );
    slack.assert_nothing_delivered();
}

#[tokio::test]
async fn a_reject_click_rejects() {
    let slack = TestSlack::start();
    let approval = slack.request(2).await;

    let answer = slack
        .click("U0BOB", REJECT, &approval.id().to_string())
        .await;

    answer.assert_empty_ok();
    assert_eq!(
        slack.approval(approval.id()).await.status(),
        Status::Rejected
    );
}

#[tokio::test]
async fn a_later_click_by_someone_else_is_told_who_already_approved() {
    let slack = TestSlack::start();
    let approval = slack.request(1).await;
    let id = approval.id().to_string();
    slack.click("U0ALICE", APPROVE, &id).await;

    let answer = slack.click("U0BOB", REJECT, &id).await;

    assert_eq!(answer.json()["replace_original"], false);
    assert_eq!(answer.ephemeral_text(), "Already approved by <@U0ALICE>.");
    let approval = slack.approval(approval.id()).await;
    assert_eq!(approval.status(), Status::Approved);
    assert_eq!(approval.decisions().len(), 1, "exactly one decision");
}

#[tokio::test]
async fn a_double_click_changes_nothing_and_says_so_kindly() {
    let slack = TestSlack::start();
    let approval = slack.request(2).await;
    let id = approval.id().to_string();
    slack.click("U0ALICE", APPROVE, &id).await;
    let events_after_first_click = slack.event_types();

    let answer = slack.click("U0ALICE", APPROVE, &id).await;

    assert_eq!(
        answer.ephemeral_text(),
        "You already approved this request."
    );
    let approval = slack.approval(approval.id()).await;
    assert_eq!(approval.status(), Status::Pending);
    assert_eq!(approval.decisions().len(), 1);
    assert_eq!(slack.event_types(), events_after_first_click);
}

#[tokio::test]
async fn the_requester_cannot_approve_their_own_request() {
    let slack = TestSlack::start();
    let approval = slack.request_by("slack:U0ALICE", input()).await;

    let answer = slack
        .click("U0ALICE", APPROVE, &approval.id().to_string())
        .await;

    assert!(answer.ephemeral_text().contains("four-eyes"));
    slack.assert_untouched(approval.id()).await;
}

#[tokio::test]
async fn someone_off_the_allow_list_cannot_decide() {
    let slack = TestSlack::start();
    let approval = slack
        .request_with(CreateApprovalInput {
            allowed_approvers: vec!["slack:U0ALICE".into()],
            ..input()
        })
        .await;

    let answer = slack
        .click("U0BOB", APPROVE, &approval.id().to_string())
        .await;

    assert_eq!(
        answer.ephemeral_text(),
        "You are not on this request's list of approvers."
    );
    slack.assert_untouched(approval.id()).await;
}

#[tokio::test]
async fn an_overdue_request_cannot_be_decided() {
    let slack = TestSlack::start();
    let approval = slack.request(1).await;
    slack.clock.advance(Duration::hours(25));

    let answer = slack
        .click("U0ALICE", APPROVE, &approval.id().to_string())
        .await;

    assert!(
        answer
            .ephemeral_text()
            .starts_with("This request expired <!date^")
    );
    slack.assert_untouched(approval.id()).await;
}

#[tokio::test]
async fn a_click_on_an_unknown_request_is_explained() {
    let slack = TestSlack::start();
    let answer = slack
        .click("U0ALICE", APPROVE, "01900000-0000-7000-8000-00000000dead")
        .await;
    assert_eq!(
        answer.ephemeral_text(),
        "This approval request does not exist."
    );

    let answer = slack.click("U0ALICE", APPROVE, "not-an-id").await;
    assert_eq!(
        answer.ephemeral_text(),
        "This button does not belong to an approval request."
    );
}

#[tokio::test]
async fn a_store_failure_asks_to_try_again_and_still_answers_200() {
    let slack = TestSlack::start();
    let approval = slack.request(1).await;
    slack.fail_next_store_call();

    let answer = slack
        .click("U0ALICE", APPROVE, &approval.id().to_string())
        .await;

    assert!(answer.ephemeral_text().contains("Please try again."));
    slack.assert_untouched(approval.id()).await;
}

#[tokio::test]
async fn garbage_after_a_valid_signature_is_a_bad_request_and_changes_nothing() {
    let slack = TestSlack::start();
    let approval = slack.request(1).await;
    let id = approval.id().to_string();
    let without_user = payload(&json!({
        "type": "block_actions",
        "api_app_id": APP_ID,
        "actions": [{"action_id": APPROVE, "value": id}]
    }));
    let bad_user = block_actions("U0 <!channel>", APPROVE, &id);
    for body in [
        "",
        "%%%",
        "payload=not-json",
        "payload=%5B1%2C2%5D",
        "other=1",
        "payload=%7B%7D",
        without_user.as_str(),
        bad_user.as_str(),
    ] {
        let answer = slack.signed("/slack/interactions", body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body:?}");
    }
    slack.assert_untouched(approval.id()).await;
}

#[tokio::test]
async fn other_interactions_and_actions_are_acknowledged_and_ignored() {
    let slack = TestSlack::start();
    let approval = slack.request(1).await;
    let view_closed = payload(&json!({
        "type": "view_closed",
        "api_app_id": APP_ID,
        "user": {"id": "U0ALICE"},
        "view": {"id": "V1", "type": "modal"}
    }));
    let other_button = block_actions("U0ALICE", "open_dashboard", &approval.id().to_string());
    for body in [view_closed, other_button] {
        let answer = slack.signed("/slack/interactions", &body).await;
        answer.assert_empty_ok();
    }
    slack.assert_untouched(approval.id()).await;
}
