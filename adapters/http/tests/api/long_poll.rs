//! `GET /v1/approvals/{id}?wait=`: the long-poll, its limits, and its end at shutdown.

use std::pin::pin;

use adapter_http::HttpSettings;
use axum::http::StatusCode;

use crate::support::{Overrides, TestApp, approve, new_approval, poll_once};

async fn pending_id(app: &TestApp) -> String {
    app.create(&app.ci, new_approval("deploy")).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn waiting(id: &str, wait: &str) -> String {
    format!("/v1/approvals/{id}?wait={wait}")
}

#[tokio::test]
async fn a_wait_that_is_not_a_duration_of_at_most_a_minute_is_refused() {
    let app = TestApp::new().await;
    let id = pending_id(&app).await;
    for bad in ["61s", "2m", "1h", "soon", "-1", "1.5s", ""] {
        let response = app.get(&waiting(&id, bad), &app.ci).await;
        let problem = response.assert_problem(StatusCode::BAD_REQUEST, "invalid-wait");
        assert!(
            problem["detail"].as_str().unwrap().contains("wait"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_settled_request_is_answered_at_once() {
    let app = TestApp::new().await;
    let id = pending_id(&app).await;
    app.post_empty(&format!("/v1/approvals/{id}/cancel"), &app.ci)
        .await;
    let path = waiting(&id, "60s");
    let answer = pin!(app.get(&path, &app.ci));
    let answer = poll_once(answer).await.expect("a settled request waited");
    assert_eq!(answer.json()["status"], "cancelled");
}

#[tokio::test]
async fn a_decision_ends_the_wait_with_the_settled_request() {
    let app = TestApp::new().await;
    let id = pending_id(&app).await;
    let path = waiting(&id, "60s");
    let mut waiter = pin!(app.get(&path, &app.ci));
    assert!(poll_once(waiter.as_mut()).await.is_none(), "did not wait");

    let decide = approve(&id, &app.alice);
    assert_eq!(app.send(decide).await.status, StatusCode::OK);

    let answer = waiter.await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["status"], "approved");
}

#[tokio::test]
async fn shutdown_ends_the_wait_with_the_current_state() {
    let overrides = Overrides::default();
    let shutdown = overrides.shutdown.clone();
    let app = TestApp::with(overrides).await;
    let id = pending_id(&app).await;
    let path = waiting(&id, "60s");
    let mut waiter = pin!(app.get(&path, &app.ci));
    assert!(poll_once(waiter.as_mut()).await.is_none(), "did not wait");

    shutdown.cancel();
    let answer = waiter.await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["status"], "pending");
}

#[tokio::test]
async fn beyond_the_waiter_limit_a_long_poll_is_refused_and_other_requests_still_served() {
    let app = TestApp::with(Overrides {
        settings: HttpSettings {
            max_waiters: 1,
            max_in_flight: 1,
            ..HttpSettings::default()
        },
        ..Overrides::default()
    })
    .await;
    let id = pending_id(&app).await;
    let path = waiting(&id, "60s");
    let mut first = pin!(app.get(&path, &app.ci));
    assert!(poll_once(first.as_mut()).await.is_none(), "did not wait");

    let second = pin!(app.get(&path, &app.ci));
    let refused = poll_once(second)
        .await
        .expect("the second waiter was not refused at once");
    refused.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "overloaded");
    assert_eq!(refused.header("retry-after"), "1");

    // The waiter does not take the one permit of ordinary requests.
    let plain = app.get(&format!("/v1/approvals/{id}"), &app.ci).await;
    assert_eq!(plain.status, StatusCode::OK);
}
