//! The happy paths of `/v1/approvals`.

use adapter_http::HttpSettings;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{Overrides, TestApp, new_approval};

/// The approval routes' operations, as the OpenAPI document must list them.
pub(crate) const OPERATIONS: &[(&str, &str)] = &[
    ("GET", "/v1/approvals"),
    ("GET", "/v1/approvals/{id}"),
    ("POST", "/v1/approvals"),
    ("POST", "/v1/approvals/{id}/cancel"),
    ("POST", "/v1/approvals/{id}/decisions"),
];

fn id_of(approval: &Value) -> String {
    approval["id"].as_str().unwrap().to_owned()
}

fn titles(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["title"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn create_answers_201_with_location_and_the_stored_request() {
    let app = TestApp::new().await;
    let response = app
        .post(
            "/v1/approvals",
            &app.ci,
            &json!({
                "title": "  Deploy model v7 to prod?  ",
                "description": "Canary looked fine.",
                "destination": "C0123456789",
                "metadata": { "model": "v7" },
                "callback_url": "https://ci.example.com/hooks/42",
                "required_approvals": 2,
                "allowed_approvers": ["bob", "alice"],
                "expires_in_seconds": 3600,
                "remind_after_seconds": 900
            }),
        )
        .await;

    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    assert_eq!(response.header("content-type"), "application/json");
    let body = response.json();
    let id = id_of(&body);
    assert_eq!(response.header("location"), format!("/v1/approvals/{id}"));
    assert_eq!(
        body,
        json!({
            "id": id,
            "title": "Deploy model v7 to prod?",
            "description": "Canary looked fine.",
            "requester": "ci",
            "destination": "C0123456789",
            "metadata": { "model": "v7" },
            "callback_url": "https://ci.example.com/hooks/42",
            "policy": {
                "required_approvals": 2,
                "allowed_approvers": ["alice", "bob"],
                "allow_self_approval": false,
                "remind_after_seconds": 900
            },
            "status": "pending",
            "decisions": [],
            "created_at": "2026-01-01T09:00:00Z",
            "expires_at": "2026-01-01T10:00:00Z",
            "resolved_at": null,
            "version": 1
        })
    );

    let fetched = app.get(&format!("/v1/approvals/{id}"), &app.alice).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.json(), body);

    assert_eq!(app.event_types(), ["approval.requested"]);
}

#[tokio::test]
async fn location_is_absolute_when_a_public_base_url_is_configured() {
    let app = TestApp::with(Overrides {
        settings: HttpSettings {
            public_base_url: Some("https://gate.example.com/".into()),
            ..HttpSettings::default()
        },
        ..Overrides::default()
    })
    .await;
    let response = app
        .post("/v1/approvals", &app.ci, &new_approval("deploy"))
        .await;
    assert_eq!(
        response.header("location"),
        format!(
            "https://gate.example.com/v1/approvals/{}",
            id_of(&response.json())
        )
    );
}

#[tokio::test]
async fn list_pages_newest_first_until_there_is_no_next_cursor() {
    let app = TestApp::new().await;
    for n in 1..=5 {
        app.create(&app.ci, new_approval(&format!("r{n}"))).await;
    }

    let mut pages = Vec::new();
    let mut path = "/v1/approvals?limit=2".to_owned();
    loop {
        let response = app.get(&path, &app.alice).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        let page = response.json();
        pages.push(titles(&page).join(","));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/approvals?limit=2&cursor={cursor}"),
            None => {
                assert!(page["next_cursor"].is_null());
                break;
            }
        }
    }
    assert_eq!(pages, ["r5,r4", "r3,r2", "r1"]);
}

#[tokio::test]
async fn list_filters_by_status() {
    let app = TestApp::new().await;
    app.create(&app.ci, new_approval("stays")).await;
    let withdrawn = id_of(&app.create(&app.ci, new_approval("withdrawn")).await);
    let cancel = app
        .post_empty(&format!("/v1/approvals/{withdrawn}/cancel"), &app.ci)
        .await;
    assert_eq!(cancel.status, StatusCode::OK);

    let cancelled = app
        .get("/v1/approvals?status=cancelled", &app.ci)
        .await
        .json();
    assert_eq!(titles(&cancelled), ["withdrawn"]);
    let pending = app
        .get("/v1/approvals?status=pending", &app.ci)
        .await
        .json();
    assert_eq!(titles(&pending), ["stays"]);
}

#[tokio::test]
async fn an_approval_by_another_client_settles_the_request() {
    let app = TestApp::new().await;
    let id = id_of(&app.create(&app.ci, new_approval("deploy")).await);
    app.clock.advance(chrono::Duration::minutes(5));

    let response = app
        .post(
            &format!("/v1/approvals/{id}/decisions"),
            &app.alice,
            &json!({ "verdict": "approve", "comment": "ship it" }),
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let body = response.json();
    assert_eq!(body["status"], "approved");
    assert_eq!(
        body["decisions"],
        json!([{
            "approver": "alice",
            "verdict": "approve",
            "comment": "ship it",
            "decided_at": "2026-01-01T09:05:00Z"
        }])
    );
    assert_eq!(body["resolved_at"], "2026-01-01T09:05:00Z");
    assert_eq!(body["version"], 2);
    assert_eq!(
        app.get(&format!("/v1/approvals/{id}"), &app.ci)
            .await
            .json(),
        body
    );
}

#[tokio::test]
async fn repeating_a_decision_is_a_harmless_no_op() {
    let app = TestApp::new().await;
    let id = id_of(&app.create(&app.ci, new_approval("deploy")).await);
    let path = format!("/v1/approvals/{id}/decisions");
    let approve = json!({ "verdict": "approve" });
    let first = app.post(&path, &app.alice, &approve).await;
    let before = app.snapshot();

    let retry = app.post(&path, &app.alice, &approve).await;

    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.json(), first.json());
    assert_eq!(app.snapshot(), before);
}

#[tokio::test]
async fn one_reject_settles_a_request_that_needs_two_approvals() {
    let app = TestApp::new().await;
    let mut body = new_approval("deploy");
    body["required_approvals"] = json!(2);
    let id = id_of(&app.create(&app.ci, body).await);
    let path = format!("/v1/approvals/{id}/decisions");

    let approved = app
        .post(&path, &app.alice, &json!({ "verdict": "approve" }))
        .await;
    assert_eq!(approved.json()["status"], "pending");
    let rejected = app
        .post(&path, &app.bob, &json!({ "verdict": "reject" }))
        .await;
    assert_eq!(rejected.status, StatusCode::OK);
    assert_eq!(rejected.json()["status"], "rejected");
}

#[tokio::test]
async fn the_requester_cancels_a_pending_request() {
    let app = TestApp::new().await;
    let id = id_of(&app.create(&app.ci, new_approval("deploy")).await);

    let response = app
        .post_empty(&format!("/v1/approvals/{id}/cancel"), &app.ci)
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let body = response.json();
    assert_eq!(body["status"], "cancelled");
    assert_eq!(body["resolved_at"], "2026-01-01T09:00:00Z");
    assert_eq!(
        app.event_types(),
        ["approval.requested", "approval.cancelled"]
    );
}

#[tokio::test]
async fn an_integer_written_as_a_float_is_the_integer_json_schema_says_it_is() {
    let app = TestApp::new().await;
    let mut body = new_approval("deploy");
    body["required_approvals"] = json!(2.0);
    body["expires_in_seconds"] = json!(3.6e3);

    let created = app.post("/v1/approvals", &app.ci, &body).await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let approval = created.json();
    assert_eq!(approval["policy"]["required_approvals"], 2);
    let mut fractional = new_approval("deploy");
    fractional["required_approvals"] = json!(1.5);
    let refused = app.post("/v1/approvals", &app.ci, &fractional).await;
    refused.assert_problem(StatusCode::BAD_REQUEST, "malformed-body");
}
