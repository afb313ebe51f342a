//! The alert's messages through the gateway: its buttons, its settled state, and the same
//! error handling as every other message.

use application::chat::alert::alert_message;
use chrono::{TimeZone, Utc};
use domain::{
    Alert, AlertId, ChatDestination, DedupKey, Description, Identity, NewAlert, Severity, Title,
};

use serde_json::json;

use crate::fake_web_api::{CHANNEL, assert_errors_classified, buttons, posted_body, updated_body};

/// An open critical alert.
fn alert() -> Alert {
    let mut alert = Alert::raise(
        AlertId::from_uuid(uuid::Uuid::from_u128(
            0x0190_0000_0000_7000_8000_0000_0000_00a1,
        )),
        NewAlert {
            severity: Severity::Critical,
            summary: Title::parse("db-1 disk 97%").unwrap(),
            details: Description::parse("/var/lib/postgres is almost full").unwrap(),
            destination: ChatDestination::parse(CHANNEL).unwrap(),
            dedup_key: DedupKey::parse("disk:db-1").unwrap(),
            raised_by: Identity::parse("monitor").unwrap(),
        },
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
    );
    alert.take_events();
    alert
}

/// `(action_id, value)` of every button in the body's blocks.
#[tokio::test]
async fn posting_an_alert_sends_acknowledge_and_resolve_buttons() {
    let alert = alert();

    let body = posted_body(
        &alert_message(&alert),
        json!({"channel": CHANNEL, "unfurl_links": false, "unfurl_media": false}),
    )
    .await;

    assert_eq!(body["text"], "Critical alert: db-1 disk 97%");
    assert_eq!(
        body["blocks"][0]["text"]["text"],
        ":red_circle: Critical · *db-1 disk 97%*\n/var/lib/postgres is almost full"
    );
    let id = alert.id().to_string();
    assert_eq!(
        buttons(&body),
        [
            ("alert_acknowledge".to_owned(), id.clone()),
            ("alert_resolve".to_owned(), id)
        ]
    );
}

#[tokio::test]
async fn updating_a_resolved_alert_shows_who_resolved_it_and_no_buttons() {
    let mut alert = alert();
    alert.resolve(
        Identity::parse("slack:U0ALICE").unwrap(),
        Utc.with_ymd_and_hms(2026, 1, 1, 1, 0, 0).unwrap(),
    );
    alert.take_events();

    let body = updated_body(&alert_message(&alert)).await;

    assert_eq!(body["text"], "Resolved critical alert: db-1 disk 97%");
    assert!(buttons(&body).is_empty());
    let outcome = body["blocks"][2]["text"]["text"].as_str().unwrap();
    assert!(
        outcome.starts_with(":white_check_mark: *Resolved* by <@U0ALICE>"),
        "{outcome}"
    );
}

#[tokio::test]
async fn alert_calls_classify_errors_like_approval_calls() {
    assert_errors_classified(
        &alert_message(&alert()),
        &[
            ("chat.postMessage", "channel_not_found", false),
            ("chat.postMessage", "ratelimited", true),
            ("chat.update", "message_not_found", false),
            ("chat.update", "service_unavailable", true),
        ],
    )
    .await;
}
