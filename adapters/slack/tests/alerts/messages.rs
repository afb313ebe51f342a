//! An alert in Slack: one message for its whole life, Acknowledge and Resolve buttons while
//! they apply, and who acted.

use application::chat::alert::alert_message;
use chrono::{DateTime, TimeZone, Utc};
use domain::{
    Alert, AlertId, ChatDestination, DedupKey, Description, Identity, NewAlert, Severity, Title,
};
use serde_json::{Value, json};

use crate::sent::{action_ids, assert_cut_to_block_kit_limits, confirm_dialog, sent, text_of};

const ID: &str = "01900000-0000-7000-8000-0000000000a1";
/// 2026-01-01 09:00 UTC and 09:40 UTC.
const RAISED: &str = "<!date^1767258000^{date_short_pretty} at {time}|2026-01-01 09:00 UTC>";
const REPEATED: &str = "<!date^1767260400^{date_short_pretty} at {time}|2026-01-01 09:40 UTC>";
const ACKNOWLEDGE: &str = "alert_acknowledge";
const RESOLVE: &str = "alert_resolve";

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 9, minute, 0).unwrap()
}

fn who(raw: &str) -> Identity {
    Identity::parse(raw).unwrap()
}

fn new_alert(severity: Severity, summary: &str, details: &str, key: &str) -> NewAlert {
    NewAlert {
        severity,
        summary: Title::parse(summary).unwrap(),
        details: Description::parse(details).unwrap(),
        destination: ChatDestination::parse("C0123456789").unwrap(),
        dedup_key: DedupKey::parse(key).unwrap(),
        raised_by: who("monitor"),
    }
}

fn raised(new: NewAlert) -> Alert {
    let id = AlertId::from_uuid(uuid::Uuid::parse_str(ID).unwrap());
    let mut alert = Alert::raise(id, new, at(0));
    alert.take_events();
    alert
}

fn open() -> Alert {
    raised(new_alert(
        Severity::Critical,
        "db-1 disk 97%",
        "/var/lib/postgres",
        "disk:db-1",
    ))
}

fn acknowledged() -> Alert {
    let mut alert = open();
    alert.acknowledge(who("slack:U0ALICE"), at(5)).unwrap();
    alert.take_events();
    alert
}

async fn json(alert: &Alert) -> Value {
    sent(&alert_message(alert)).await
}

#[tokio::test]
async fn an_open_alert_gets_acknowledge_and_resolve_buttons_carrying_its_id() {
    assert_eq!(
        json(&open()).await,
        json!({
            "text": "Critical alert: db-1 disk 97%",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn",
                    "text": ":red_circle: Critical · *db-1 disk 97%*\n/var/lib/postgres"}},
                {"type": "context", "elements": [
                    {"type": "mrkdwn", "text": format!("Raised by: monitor · {RAISED}")},
                    {"type": "mrkdwn", "text": "Key: `disk:db-1`"}
                ]},
                {"type": "actions", "block_id": format!("alert-{ID}-v1"), "elements": [
                    {"type": "button", "action_id": "alert_acknowledge",
                     "text": {"type": "plain_text", "text": "Acknowledge"}, "value": ID},
                    {"type": "button", "action_id": "alert_resolve", "style": "primary",
                     "text": {"type": "plain_text", "text": "Resolve"}, "value": ID,
                     "confirm": confirm_dialog(
                        "Resolve “db-1 disk 97%”?",
                        "Resolving closes the alert for good. If the problem comes back, it is raised as a new alert.",
                        "Resolve",
                        "primary",
                     )}
                ]}
            ]
        })
    );
}

#[tokio::test]
async fn a_repeat_shows_the_count_and_the_latest_severity_and_summary() {
    let mut alert = open();
    alert
        .repeat(
            new_alert(Severity::Warning, "db-1 disk 92%", "", "disk:db-1"),
            at(20),
        )
        .unwrap();
    alert
        .repeat(
            new_alert(Severity::Warning, "db-1 disk 93%", "", "disk:db-1"),
            at(40),
        )
        .unwrap();
    alert.take_events();
    let message = json(&alert).await;

    assert_eq!(message["text"], "Warning alert: db-1 disk 93%");
    assert_eq!(
        text_of(&message["blocks"][0]),
        ":large_orange_circle: Warning · *db-1 disk 93%*"
    );
    assert_eq!(
        message["blocks"][1]["elements"][1]["text"],
        format!("Raised: 3 times, last {REPEATED}")
    );
    assert_eq!(message["blocks"][2]["block_id"], format!("alert-{ID}-v2"));
}

#[tokio::test]
async fn every_new_version_gets_a_new_block_id_and_the_same_action_ids() {
    let before = json(&open()).await;
    let after = json(&acknowledged()).await;
    assert_ne!(
        before["blocks"][2]["block_id"],
        after["blocks"][3]["block_id"]
    );
    assert_eq!(action_ids(&before), [ACKNOWLEDGE, RESOLVE]);
    assert_eq!(action_ids(&after), [RESOLVE]);
}

#[tokio::test]
async fn an_acknowledged_alert_names_who_is_on_it_and_keeps_only_resolve() {
    let message = json(&acknowledged()).await;
    assert_eq!(
        message["text"],
        "Acknowledged critical alert: db-1 disk 97%"
    );
    let blocks = message["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 4);
    assert!(
        text_of(&blocks[2]).starts_with(":eyes: *Acknowledged* by <@U0ALICE> · <!date^1767258300^"),
        "{}",
        blocks[2]
    );
    assert_eq!(action_ids(&message), [RESOLVE]);
}

#[tokio::test]
async fn a_resolved_alert_has_no_buttons_and_keeps_its_history() {
    let mut alert = acknowledged();
    alert.resolve(who("slack:U0BOB"), at(30));
    alert.take_events();
    let message = json(&alert).await;

    assert_eq!(message["text"], "Resolved critical alert: db-1 disk 97%");
    let blocks = message["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 3);
    assert!(action_ids(&message).is_empty());
    let lines: Vec<&str> = text_of(&blocks[2]).lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with(":eyes: *Acknowledged* by <@U0ALICE>"));
    assert!(
        lines[1].starts_with(":white_check_mark: *Resolved* by <@U0BOB> · <!date^"),
        "{}",
        lines[1]
    );
}

#[tokio::test]
async fn an_alert_resolved_while_open_says_only_who_resolved_it() {
    let mut alert = open();
    alert.resolve(who("ops-bot"), at(30));
    alert.take_events();
    let message = json(&alert).await;
    assert!(text_of(&message["blocks"][2]).starts_with(":white_check_mark: *Resolved* by ops-bot"));
    assert!(!text_of(&message["blocks"][2]).contains("Acknowledged"));
}

#[tokio::test]
async fn each_severity_has_its_marker() {
    for (severity, expected) in [
        (Severity::Info, ":large_blue_circle: Info · *x*"),
        (Severity::Warning, ":large_orange_circle: Warning · *x*"),
        (Severity::Critical, ":red_circle: Critical · *x*"),
    ] {
        let alert = raised(new_alert(severity, "x", "", "k"));
        assert_eq!(text_of(&json(&alert).await["blocks"][0]), expected);
    }
}

#[tokio::test]
async fn user_text_is_escaped_so_it_cannot_ping_or_link() {
    let alert = raised(new_alert(
        Severity::Info,
        "<!channel> & <https://evil|click>",
        "a > b",
        "<!here>",
    ));
    let message = json(&alert).await;
    assert_eq!(
        message["text"],
        "Info alert: &lt;!channel&gt; &amp; &lt;https://evil|click&gt;"
    );
    assert_eq!(
        text_of(&message["blocks"][0]),
        ":large_blue_circle: Info · *&lt;!channel&gt; &amp; &lt;https://evil|click&gt;*\na &gt; b"
    );
    assert_eq!(
        message["blocks"][1]["elements"][1]["text"],
        "Key: `&lt;!here&gt;`"
    );
}

#[tokio::test]
async fn long_summaries_and_details_are_cut_to_block_kit_limits() {
    let summary = "S".repeat(Title::MAX_CHARS);
    let details = "<".repeat(Description::MAX_CHARS);
    let message = json(&raised(new_alert(
        Severity::Critical,
        &summary,
        &details,
        &"k".repeat(DedupKey::MAX_CHARS),
    )))
    .await;

    assert_cut_to_block_kit_limits(&message, "S…”?");
    let section = text_of(&message["blocks"][0]);
    assert!(section.starts_with(&format!(":red_circle: Critical · *{summary}*\n&lt;")));
    assert!(section.ends_with("&lt;…"), "cut inside an entity");
}
