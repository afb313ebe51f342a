//! The happy paths of `/v1/alerts`: open, repeat, acknowledge, resolve, open again. What the
//! routes refuse is in `refusals`.

mod refusals;
mod support;

/// The alert routes' operations, as the OpenAPI document must list them.
pub(crate) const OPERATIONS: &[(&str, &str)] = &[
    ("GET", "/v1/alerts/{id}"),
    ("POST", "/v1/alerts"),
    ("POST", "/v1/alerts/{id}/acknowledge"),
    ("POST", "/v1/alerts/{id}/resolve"),
];

use axum::http::StatusCode;
use serde_json::{Value, json};

use self::support::new_alert;
use crate::support::TestApp;

fn id_of(alert: &Value) -> String {
    alert["id"].as_str().unwrap().to_owned()
}

/// The alert as `GET /v1/alerts/{id}` shows it: the raise answer without its `outcome`.
fn without_outcome(mut raised: Value) -> Value {
    raised.as_object_mut().unwrap().remove("outcome");
    raised
}

#[tokio::test]
async fn a_new_dedup_key_opens_an_alert_with_201_and_location() {
    let app = TestApp::new().await;
    let response = app
        .post(
            "/v1/alerts",
            &app.ci,
            &json!({
                "severity": "critical",
                "summary": "  db-1 disk 97% full  ",
                "details": "Growing 1%/h since 08:00.",
                "destination": "C0123456789",
                "dedup_key": "disk-full:db-1"
            }),
        )
        .await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    assert_eq!(response.header("content-type"), "application/json");
    let body = response.json();
    let id = id_of(&body);
    assert_eq!(response.header("location"), format!("/v1/alerts/{id}"));
    assert_eq!(
        body,
        json!({
            "outcome": "opened",
            "id": id,
            "severity": "critical",
            "summary": "db-1 disk 97% full",
            "details": "Growing 1%/h since 08:00.",
            "destination": "C0123456789",
            "dedup_key": "disk-full:db-1",
            "status": "open",
            "count": 1,
            "raised_by": "ci",
            "created_at": "2026-01-01T09:00:00Z",
            "last_raised_at": "2026-01-01T09:00:00Z",
            "acknowledged_by": null,
            "acknowledged_at": null,
            "resolved_by": null,
            "resolved_at": null,
            "version": 1
        })
    );

    let fetched = app.get(&format!("/v1/alerts/{id}"), &app.alice).await;
    assert_eq!(fetched.status, StatusCode::OK, "{}", fetched.text());
    assert_eq!(fetched.json(), without_outcome(body));
    assert_eq!(app.event_types(), ["alert.raised"]);
}

#[tokio::test]
async fn the_same_key_while_open_counts_a_repeat_with_200_and_the_latest_text() {
    let app = TestApp::new().await;
    let first = app.raise(&app.ci, new_alert("disk-full:db-1")).await;
    app.clock.advance(chrono::Duration::minutes(3));

    let mut again = new_alert("disk-full:db-1");
    again["severity"] = json!("critical");
    again["summary"] = json!("disk 97% full on db-1");
    let response = app.post("/v1/alerts", &app.ci, &again).await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert!(!response.headers.contains_key("location"));
    let body = response.json();
    assert_eq!(body["outcome"], "repeated");
    assert_eq!(body["id"], first["id"]);
    assert_eq!(body["count"], 2);
    assert_eq!(body["severity"], "critical");
    assert_eq!(body["summary"], "disk 97% full on db-1");
    assert_eq!(body["created_at"], "2026-01-01T09:00:00Z");
    assert_eq!(body["last_raised_at"], "2026-01-01T09:03:00Z");
    assert_eq!(body["version"], 2);
    assert_eq!(app.alert_count(), 1);
    assert_eq!(app.event_types(), ["alert.raised", "alert.repeated"]);
}

#[tokio::test]
async fn acknowledge_and_resolve_record_who_and_when_and_repeating_them_changes_nothing() {
    let app = TestApp::new().await;
    let id = id_of(&app.raise(&app.ci, new_alert("disk-full:db-1")).await);
    let acknowledge = format!("/v1/alerts/{id}/acknowledge");
    let resolve = format!("/v1/alerts/{id}/resolve");

    app.clock.advance(chrono::Duration::minutes(5));
    let acknowledged = app.post_empty(&acknowledge, &app.alice).await;
    assert_eq!(
        acknowledged.status,
        StatusCode::OK,
        "{}",
        acknowledged.text()
    );
    let acknowledged = acknowledged.json();
    assert_eq!(acknowledged["status"], "acknowledged");
    assert_eq!(acknowledged["acknowledged_by"], "alice");
    assert_eq!(acknowledged["acknowledged_at"], "2026-01-01T09:05:00Z");
    assert_eq!(acknowledged["version"], 2);

    let before = app.snapshot();
    let again = app.post_empty(&acknowledge, &app.bob).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json(), acknowledged);
    assert_eq!(app.snapshot(), before);

    app.clock.advance(chrono::Duration::minutes(5));
    let resolved = app.post_empty(&resolve, &app.bob).await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text());
    let resolved = resolved.json();
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["acknowledged_by"], "alice");
    assert_eq!(resolved["resolved_by"], "bob");
    assert_eq!(resolved["resolved_at"], "2026-01-01T09:10:00Z");
    assert_eq!(resolved["version"], 3);

    let before = app.snapshot();
    let again = app.post_empty(&resolve, &app.alice).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json(), resolved);
    assert_eq!(app.snapshot(), before);

    assert_eq!(
        app.get(&format!("/v1/alerts/{id}"), &app.ci).await.json(),
        resolved
    );
    assert_eq!(
        app.event_types(),
        ["alert.raised", "alert.acknowledged", "alert.resolved"]
    );
}

#[tokio::test]
async fn an_open_alert_can_be_resolved_without_an_acknowledgement() {
    let app = TestApp::new().await;
    let id = id_of(&app.raise(&app.ci, new_alert("disk-full:db-1")).await);

    let resolved = app
        .post_empty(&format!("/v1/alerts/{id}/resolve"), &app.alice)
        .await;

    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text());
    let resolved = resolved.json();
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["acknowledged_by"], Value::Null);
    assert_eq!(resolved["resolved_by"], "alice");
}

#[tokio::test]
async fn after_resolve_the_same_key_opens_a_new_alert() {
    let app = TestApp::new().await;
    let old = id_of(&app.raise(&app.ci, new_alert("disk-full:db-1")).await);
    app.post_empty(&format!("/v1/alerts/{old}/resolve"), &app.alice)
        .await;

    let response = app
        .post("/v1/alerts", &app.ci, &new_alert("disk-full:db-1"))
        .await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let new = response.json();
    assert_ne!(id_of(&new), old);
    assert_eq!(
        response.header("location"),
        format!("/v1/alerts/{}", id_of(&new))
    );
    assert_eq!(new["outcome"], "opened");
    assert_eq!(new["count"], 1);
    assert_eq!(new["status"], "open");
    let old = app.get(&format!("/v1/alerts/{old}"), &app.ci).await.json();
    assert_eq!(old["status"], "resolved");
    assert_eq!(old["count"], 1);
    assert_eq!(app.alert_count(), 2);
}

#[tokio::test]
async fn the_alert_schema_states_the_rules_the_server_applies() {
    let app = TestApp::new().await;
    let document = crate::openapi::document(&app).await;
    for field in ["summary", "dedup_key"] {
        assert_eq!(
            crate::openapi::bounds(&document, "NewAlert", field),
            [Some(1), Some(200), None, None],
            "{field}"
        );
    }
}
