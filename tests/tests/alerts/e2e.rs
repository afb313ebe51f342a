//! The alert's stories end to end: raised, repeated, resolved from Slack, raised again.

use serde_json::json;
use tests::e2e::{Backend, POST, TestApp, UPDATE};

tests::on_every_backend!(a_repeated_alert_updates_its_message_instead_of_posting_again);

async fn a_repeated_alert_updates_its_message_instead_of_posting_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let monitor = app.api_key("monitor").await;
    let alert = json!({
        "severity": "critical",
        "summary": "db-1 disk 97% full",
        "destination": "C0ALERTS",
        "dedup_key": "disk-full:db-1",
    });

    let (status, first) = app.post(&monitor, "/v1/alerts", alert.clone()).await;
    assert_eq!(status, 201, "{first}");
    app.slack.wait_for(POST, 1).await;

    let (status, repeat) = app.post(&monitor, "/v1/alerts", alert.clone()).await;
    assert_eq!(status, 200, "{repeat}");
    assert_eq!(repeat["id"], first["id"]);
    assert_eq!(repeat["count"], 2);
    app.wait_until_outbox_drained().await;
    let updates = app.slack.wait_for(UPDATE, 1).await;
    assert!(
        updates.last().unwrap().to_string().contains('2'),
        "shows the count"
    );
    assert_eq!(
        app.slack.calls(POST).await.len(),
        1,
        "a repeat posts nothing new"
    );

    // Resolving from Slack frees the dedup key: the next occurrence is a new alert.
    let id = first["id"].as_str().unwrap();
    let (status, _) = app.click("U0ONCALL", "alert_resolve", id).await;
    assert_eq!(status, 200);
    let (_, resolved) = app.get(&monitor, &format!("/v1/alerts/{id}")).await;
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["resolved_by"], "slack:U0ONCALL");

    let (status, fresh) = app.post(&monitor, "/v1/alerts", alert).await;
    assert_eq!(status, 201, "{fresh}");
    assert_ne!(fresh["id"], first["id"]);
    app.slack.wait_for(POST, 2).await;
}
