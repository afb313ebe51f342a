//! Alerts from Slack: Acknowledge and Resolve buttons, the `ack` and `resolve` commands, and
//! `status` on an alert id.

use application::ports::AlertRepository;
use application::use_cases::RaiseAlertInput;
use domain::{Alert, AlertId, AlertStatus, Identity};

use crate::support::TestSlack;

/// Who raises the alerts of these tests.
const MONITOR: &str = "monitor";

const ACKNOWLEDGE: &str = "alert_acknowledge";
const RESOLVE: &str = "alert_resolve";
const UNKNOWN_ID: &str = "01900000-0000-7000-8000-00000000dead";
/// When `TestSlack` raises its alert: 2026-01-01 09:00 UTC.
const RAISED_AT: &str = "<!date^1767258000^{date_short_pretty} at {time}|2026-01-01 09:00 UTC>";

/// The alert side of the test app; the rest is in `support.rs`.
impl TestSlack {
    /// An open critical alert raised by `monitor` with dedup key `disk:db-1`.
    pub async fn raise_alert(&self) -> Alert {
        let (alert, _) = self
            .use_cases
            .raise_alert
            .execute(
                Identity::parse(MONITOR).unwrap(),
                RaiseAlertInput {
                    severity: "critical".into(),
                    summary: "db-1 disk 97%".into(),
                    details: Some("/var/lib/postgres is almost full".into()),
                    destination: "C0123456789".into(),
                    dedup_key: "disk:db-1".into(),
                },
                None,
            )
            .await
            .unwrap();
        alert
    }

    pub async fn alert(&self, id: AlertId) -> Alert {
        AlertRepository::get(self.store.as_ref(), id)
            .await
            .unwrap()
            .unwrap()
    }

    /// Asserts that the alert is still open, with only its `Raised` event.
    pub async fn assert_alert_untouched(&self, id: AlertId) {
        let alert = self.alert(id).await;
        assert_eq!(alert.status(), AlertStatus::Open);
        assert_eq!(alert.state().acknowledged_by, None);
        assert_eq!(self.event_types(), ["alert.raised"]);
    }
}

fn slack_user(user: &str) -> Option<Identity> {
    Some(Identity::parse(&format!("slack:{user}")).unwrap())
}

#[tokio::test]
async fn an_acknowledge_click_acknowledges_and_is_answered_with_an_empty_body() {
    let slack = TestSlack::start();
    let alert = slack.raise_alert().await;

    let answer = slack
        .click("U0ALICE", ACKNOWLEDGE, &alert.id().to_string())
        .await;

    answer.assert_empty_ok();
    let alert = slack.alert(alert.id()).await;
    assert_eq!(alert.status(), AlertStatus::Acknowledged);
    assert_eq!(alert.state().acknowledged_by, slack_user("U0ALICE"));
    // Slack was not called (the mock gateway in `support` fails the test if it is).
    assert_eq!(slack.event_types(), ["alert.raised", "alert.acknowledged"]);
    slack.assert_nothing_delivered();
}

#[tokio::test]
async fn a_resolve_click_resolves_an_acknowledged_alert() {
    let slack = TestSlack::start();
    let alert = slack.raise_alert().await;
    let id = alert.id().to_string();
    slack.click("U0ALICE", ACKNOWLEDGE, &id).await;

    let answer = slack.click("U0BOB", RESOLVE, &id).await;

    answer.assert_empty_ok();
    let alert = slack.alert(alert.id()).await;
    assert_eq!(alert.status(), AlertStatus::Resolved);
    assert_eq!(alert.state().acknowledged_by, slack_user("U0ALICE"));
    assert_eq!(alert.state().resolved_by, slack_user("U0BOB"));
    assert_eq!(
        slack.event_types(),
        ["alert.raised", "alert.acknowledged", "alert.resolved"]
    );
}

#[tokio::test]
async fn a_double_click_changes_nothing_and_says_so_kindly() {
    let slack = TestSlack::start();
    let alert = slack.raise_alert().await;
    let id = alert.id().to_string();
    slack.click("U0ALICE", ACKNOWLEDGE, &id).await;
    let events_after_first_click = slack.event_types();

    let answer = slack.click("U0ALICE", ACKNOWLEDGE, &id).await;

    assert_eq!(answer.json()["replace_original"], false);
    assert_eq!(
        answer.ephemeral_text(),
        "You already acknowledged this alert."
    );
    assert_eq!(slack.event_types(), events_after_first_click);
}

#[tokio::test]
async fn a_later_click_by_someone_else_is_told_who_was_quicker() {
    let slack = TestSlack::start();
    let alert = slack.raise_alert().await;
    let id = alert.id().to_string();
    slack.click("U0ALICE", ACKNOWLEDGE, &id).await;
    slack.click("U0ALICE", RESOLVE, &id).await;

    let acknowledge = slack.click("U0BOB", ACKNOWLEDGE, &id).await;
    let resolve = slack.click("U0BOB", RESOLVE, &id).await;

    assert_eq!(
        acknowledge.ephemeral_text(),
        "This alert is already resolved; there is nothing left to acknowledge."
    );
    assert_eq!(resolve.ephemeral_text(), "Already resolved by <@U0ALICE>.");
    let alert = slack.alert(alert.id()).await;
    assert_eq!(alert.state().acknowledged_by, slack_user("U0ALICE"));
    assert_eq!(alert.state().resolved_by, slack_user("U0ALICE"));
    assert_eq!(
        slack.event_types(),
        ["alert.raised", "alert.acknowledged", "alert.resolved"]
    );
}

#[tokio::test]
async fn acknowledging_an_alert_resolved_without_acknowledgement_is_refused() {
    let slack = TestSlack::start();
    let alert = slack.raise_alert().await;
    let id = alert.id().to_string();
    slack.click("U0ALICE", RESOLVE, &id).await;

    let answer = slack.click("U0BOB", ACKNOWLEDGE, &id).await;

    assert_eq!(
        answer.ephemeral_text(),
        "This alert is already resolved; there is nothing left to acknowledge."
    );
    let alert = slack.alert(alert.id()).await;
    assert_eq!(alert.status(), AlertStatus::Resolved);
    assert_eq!(alert.state().acknowledged_by, None);
}

#[tokio::test]
async fn a_click_on_an_unknown_alert_is_explained() {
    let slack = TestSlack::start();

    let unknown = slack.click("U0ALICE", ACKNOWLEDGE, UNKNOWN_ID).await;
    let not_an_id = slack.click("U0ALICE", RESOLVE, "not-an-id").await;

    assert_eq!(unknown.ephemeral_text(), "This alert does not exist.");
    assert_eq!(
        not_an_id.ephemeral_text(),
        "This button does not belong to an alert."
    );
}

#[tokio::test]
async fn a_store_failure_asks_to_try_again_and_still_answers_200() {
    let slack = TestSlack::start();
    let alert = slack.raise_alert().await;
    slack.fail_next_store_call();

    let answer = slack
        .click("U0ALICE", ACKNOWLEDGE, &alert.id().to_string())
        .await;

    assert!(answer.ephemeral_text().contains("Please try again."));
    slack.assert_alert_untouched(alert.id()).await;
}

#[tokio::test]
async fn ack_and_resolve_commands_settle_the_alert_and_say_what_they_did() {
    let slack = TestSlack::start();
    let alert = slack.raise_alert().await;

    let ack = slack
        .command("U0ALICE", &format!("ack {}", alert.id()))
        .await;
    assert_eq!(ack.ephemeral_text(), "You acknowledged *db-1 disk 97%*.");
    assert_eq!(
        slack.alert(alert.id()).await.status(),
        AlertStatus::Acknowledged
    );

    let resolve = slack
        .command("U0BOB", &format!("resolve {}", alert.id()))
        .await;
    assert_eq!(resolve.ephemeral_text(), "You resolved *db-1 disk 97%*.");
    let alert = slack.alert(alert.id()).await;
    assert_eq!(alert.status(), AlertStatus::Resolved);
    assert_eq!(alert.state().resolved_by, slack_user("U0BOB"));
}

#[tokio::test]
async fn commands_on_a_settled_or_unknown_alert_are_explained() {
    let slack = TestSlack::start();
    let alert = slack.raise_alert().await;
    slack
        .command("U0ALICE", &format!("resolve {}", alert.id()))
        .await;

    let again = slack
        .command("U0ALICE", &format!("resolve {}", alert.id()))
        .await;
    let ack = slack.command("U0BOB", &format!("ack {}", alert.id())).await;
    let unknown = slack.command("U0BOB", &format!("ack {UNKNOWN_ID}")).await;

    assert_eq!(again.ephemeral_text(), "You already resolved this alert.");
    assert_eq!(
        ack.ephemeral_text(),
        "This alert is already resolved; there is nothing left to acknowledge."
    );
    assert_eq!(unknown.ephemeral_text(), "This alert does not exist.");
    assert_eq!(slack.event_types(), ["alert.raised", "alert.resolved"]);
}

#[tokio::test]
async fn ack_without_an_alert_id_is_explained_above_the_usage() {
    let slack = TestSlack::start();
    let alert = slack.raise_alert().await;
    let cases = [
        ("ack".to_owned(), "Which alert? Give its id."),
        ("resolve 42".to_owned(), "“42” is not an alert id."),
        (
            format!("ack {} now", alert.id()),
            "`ack` takes only an alert id.",
        ),
    ];
    for (text, expected) in cases {
        let reply = slack.command("U0BOB", &text).await.ephemeral_text();
        assert!(reply.starts_with(expected), "{text:?}: {reply}");
        assert!(
            reply.contains(concat!(
                "`/",
                env!("SERVICE_NAME"),
                " ack &lt;alert id&gt;`"
            )),
            "{reply}"
        );
    }
    slack.assert_alert_untouched(alert.id()).await;
}

#[tokio::test]
async fn status_of_an_alert_shows_its_state_and_who_acted() {
    let slack = TestSlack::start();
    let alert = slack.raise_alert().await;
    slack
        .click("U0ALICE", ACKNOWLEDGE, &alert.id().to_string())
        .await;

    let answer = slack
        .command("U0BOB", &format!("status {}", alert.id()))
        .await;

    let text = answer.ephemeral_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..3],
        [
            ":red_circle: Critical · *db-1 disk 97%*".to_owned(),
            format!("Status: *acknowledged* · raised once, last {RAISED_AT}"),
            format!("Raised by monitor · key `disk:db-1` · id `{}`", alert.id()),
        ]
    );
    assert_eq!(
        lines[3],
        format!(":eyes: *Acknowledged* by <@U0ALICE> · {RAISED_AT}")
    );
    assert_eq!(lines.len(), 4, "{text}");
}

#[tokio::test]
async fn a_store_failure_while_looking_for_an_alert_asks_to_try_again() {
    let slack = TestSlack::start();
    let alert = slack.raise_alert().await;
    slack.fail_next_store_call();

    let answer = slack.command("U0BOB", &format!("ack {}", alert.id())).await;

    assert!(answer.ephemeral_text().contains("Please try again."));
    slack.assert_alert_untouched(alert.id()).await;
}

#[tokio::test]
async fn the_shared_command_texts_include_the_alert() {
    let slack = TestSlack::start();
    let usage = slack.command("U0BOB", "help").await.ephemeral_text();
    assert!(
        usage.starts_with("Decide approval requests and handle alerts from Slack:"),
        "{usage}"
    );
    for line in [
        concat!("`/", env!("SERVICE_NAME"), " ack &lt;alert id&gt;`"),
        concat!("`/", env!("SERVICE_NAME"), " resolve &lt;alert id&gt;`"),
    ] {
        assert!(usage.contains(line), "{usage} lacks {line}");
    }
    let unknown = slack
        .command("U0BOB", &format!("status {UNKNOWN_ID}"))
        .await
        .ephemeral_text();
    assert_eq!(
        unknown,
        format!("No approval request or alert has the id `{UNKNOWN_ID}`.")
    );
    let no_id = slack.command("U0BOB", "status").await.ephemeral_text();
    assert!(
        no_id.starts_with("Which request or alert? Give its id."),
        "{no_id}"
    );
}
