//! The alert's messages through the gateway: its buttons, its settled state, and the same
//! error handling as every other message.

use application::chat::alert::alert_message;
use chrono::{TimeZone, Utc};
use domain::{
    Alert, AlertId, ChatDestination, DedupKey, Description, Identity, NewAlert, Severity, Title,
};

use application::ports::{ChatError, ChatGateway};
use serde_json::json;
use wiremock::matchers::body_partial_json;
use wiremock::{MockServer, ResponseTemplate};

use crate::fake_web_api::{
    CHANNEL, TS, buttons, gateway, message_ref, ok_posted, only_body, slack_error, slack_method,
};

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
    let server = MockServer::start().await;
    slack_method("chat.postMessage")
        .and(body_partial_json(
            json!({"channel": CHANNEL, "unfurl_links": false, "unfurl_media": false}),
        ))
        .respond_with(ok_posted())
        .expect(1)
        .mount(&server)
        .await;
    let alert = alert();

    let posted = gateway(&server).post(&alert_message(&alert)).await.unwrap();

    assert_eq!(posted, message_ref());
    let body = only_body(&server).await;
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
    let server = MockServer::start().await;
    slack_method("chat.update")
        .and(body_partial_json(json!({"channel": CHANNEL, "ts": TS})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "channel": CHANNEL, "ts": TS, "text": "…"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut alert = alert();
    alert.resolve(
        Identity::parse("slack:U0ALICE").unwrap(),
        Utc.with_ymd_and_hms(2026, 1, 1, 1, 0, 0).unwrap(),
    );
    alert.take_events();

    gateway(&server)
        .update(&message_ref(), &alert_message(&alert))
        .await
        .unwrap();

    let body = only_body(&server).await;
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
    let server = MockServer::start().await;
    let gateway = gateway(&server);
    for (name, code, retryable) in [
        ("chat.postMessage", "channel_not_found", false),
        ("chat.postMessage", "ratelimited", true),
        ("chat.update", "message_not_found", false),
        ("chat.update", "service_unavailable", true),
    ] {
        server.reset().await;
        slack_method(name)
            .respond_with(slack_error(code))
            .expect(1)
            .mount(&server)
            .await;

        let error = if name == "chat.update" {
            gateway
                .update(&message_ref(), &alert_message(&alert()))
                .await
                .unwrap_err()
        } else {
            gateway.post(&alert_message(&alert())).await.unwrap_err()
        };

        assert!(error.to_string().contains(code), "{name} {code}: {error}");
        assert_eq!(
            !matches!(error, ChatError::Permanent { .. }),
            retryable,
            "{name} {code}: {error}"
        );
        server.verify().await;
    }
}
