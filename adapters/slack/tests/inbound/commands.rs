//! Slash commands on approval requests: `approve`, `reject`, `status`, `help`, and what
//! happens with bad input. Every other aggregate's commands, and its part of the texts all
//! aggregates share, are tested in that aggregate's own file.

use axum::http::StatusCode;
use domain::Status;

use crate::support::{TestSlack, slash_command};

#[tokio::test]
async fn approve_records_the_decision_with_its_comment() {
    let slack = TestSlack::start();
    let approval = slack.request(1).await;

    let answer = slack
        .command("U0ALICE", &format!("approve {} ship it", approval.id()))
        .await;

    assert_eq!(
        answer.ephemeral_text(),
        "You approved *Deploy api v1.4.2 to production*. It is now approved."
    );
    let approval = slack.approval(approval.id()).await;
    assert_eq!(approval.status(), Status::Approved);
    let comment = approval.decisions()[0].comment.as_ref().unwrap();
    assert_eq!(comment.as_str(), "ship it");
}

#[tokio::test]
async fn an_approval_short_of_the_quorum_says_how_many_are_in() {
    let slack = TestSlack::start();
    let approval = slack.request(2).await;

    let answer = slack
        .command("U0ALICE", &format!("approve {}", approval.id()))
        .await;

    assert_eq!(
        answer.ephemeral_text(),
        "You approved *Deploy api v1.4.2 to production*. Approvals so far: 1 of 2."
    );
    assert_eq!(
        slack.approval(approval.id()).await.status(),
        Status::Pending
    );
}

#[tokio::test]
async fn reject_without_a_reason_is_refused_and_changes_nothing() {
    let slack = TestSlack::start();
    let approval = slack.request(1).await;

    let answer = slack
        .command("U0BOB", &format!("reject {}", approval.id()))
        .await;

    let text = answer.ephemeral_text();
    assert!(text.starts_with("A rejection needs a reason."), "{text}");
    assert!(
        text.contains(concat!(
            "`/",
            env!("SERVICE_NAME"),
            " reject &lt;id&gt; &lt;reason&gt;`"
        )),
        "{text}"
    );
    slack.assert_untouched(approval.id()).await;
}

#[tokio::test]
async fn reject_with_a_reason_rejects() {
    let slack = TestSlack::start();
    let approval = slack.request(2).await;

    let answer = slack
        .command("U0BOB", &format!("reject {} tests are red", approval.id()))
        .await;

    assert_eq!(
        answer.ephemeral_text(),
        "You rejected *Deploy api v1.4.2 to production*. It is now rejected."
    );
    let approval = slack.approval(approval.id()).await;
    assert_eq!(approval.status(), Status::Rejected);
    assert_eq!(
        approval.decisions()[0].comment.as_ref().unwrap().as_str(),
        "tests are red"
    );
}

#[tokio::test]
async fn a_command_on_a_settled_request_names_who_settled_it() {
    let slack = TestSlack::start();
    let approval = slack.request(1).await;
    slack
        .command("U0BOB", &format!("reject {} not today", approval.id()))
        .await;

    let answer = slack
        .command("U0ALICE", &format!("approve {}", approval.id()))
        .await;

    assert_eq!(answer.ephemeral_text(), "Already rejected by <@U0BOB>.");
    assert_eq!(slack.approval(approval.id()).await.decisions().len(), 1);
}

#[tokio::test]
async fn status_shows_the_state_and_every_decision() {
    let slack = TestSlack::start();
    let approval = slack.request(2).await;
    slack
        .command(
            "U0ALICE",
            &format!("approve {} fine <by> me", approval.id()),
        )
        .await;

    let answer = slack
        .command("U0BOB", &format!("status {}", approval.id()))
        .await;

    let text = answer.ephemeral_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "*Deploy api v1.4.2 to production*");
    assert!(
        lines[1].starts_with("Status: *pending* · approvals: 1 of 2 · expires <!date^"),
        "{text}"
    );
    assert_eq!(
        lines[2],
        format!("Requested by ci-pipeline · id `{}`", approval.id())
    );
    assert_eq!(lines[3], "• <@U0ALICE> approved: “fine &lt;by&gt; me”");
    // Reading changes nothing.
    assert_eq!(slack.approval(approval.id()).await.decisions().len(), 1);
}

#[tokio::test]
async fn status_of_an_unknown_request_says_so() {
    let slack = TestSlack::start();
    let answer = slack
        .command("U0BOB", "status 01900000-0000-7000-8000-00000000dead")
        .await;
    // The sentence names every registered aggregate; each checks its own part.
    let text = answer.ephemeral_text();
    assert!(text.starts_with("No approval request"), "{text}");
    assert!(
        text.ends_with(" has the id `01900000-0000-7000-8000-00000000dead`."),
        "{text}"
    );
}

#[tokio::test]
async fn a_store_failure_during_status_asks_to_try_again() {
    let slack = TestSlack::start();
    let approval = slack.request(1).await;
    slack.fail_next_store_call();

    let answer = slack
        .command("U0BOB", &format!("status {}", approval.id()))
        .await;

    assert!(answer.ephemeral_text().contains("Please try again."));
}

#[tokio::test]
async fn help_and_an_empty_command_show_the_usage() {
    let slack = TestSlack::start();
    for text in ["", "help"] {
        let answer = slack.command("U0BOB", text).await;
        let usage = answer.ephemeral_text();
        // Each registered aggregate adds its purpose and commands, and checks them itself.
        assert!(usage.starts_with("Decide approval requests"), "{usage}");
        assert!(usage.contains(" from Slack:"), "{usage}");
        for line in [
            concat!("`/", env!("SERVICE_NAME"), " approve &lt;id&gt; [comment]`"),
            concat!(
                "`/",
                env!("SERVICE_NAME"),
                " reject &lt;id&gt; &lt;reason&gt;`"
            ),
            concat!("`/", env!("SERVICE_NAME"), " status &lt;id&gt;`"),
            concat!("`/", env!("SERVICE_NAME"), " help`"),
        ] {
            assert!(usage.contains(line), "{usage} lacks {line}");
        }
    }
}

#[tokio::test]
async fn an_unknown_subcommand_or_bad_id_is_explained_above_the_usage() {
    let slack = TestSlack::start();
    let cases = [
        ("deploy <!here>", "“deploy” is not something I can do."),
        ("approve 42", "“42” is not a request id."),
        ("status", "Which request"),
    ];
    for (text, expected) in cases {
        let reply = slack.command("U0BOB", text).await.ephemeral_text();
        assert!(reply.starts_with(expected), "{text:?}: {reply}");
        assert!(reply.contains("Decide approval requests"), "{reply}");
    }
}

#[tokio::test]
async fn a_command_without_a_user_is_a_bad_request() {
    let slack = TestSlack::start();
    let approval = slack.request(1).await;
    let body = slash_command(
        "",
        concat!("/", env!("SERVICE_NAME"), ""),
        &format!("approve {}", approval.id()),
    );
    let answer = slack.signed("/slack/commands", &body).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    slack.assert_untouched(approval.id()).await;
}
