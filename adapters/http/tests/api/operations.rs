//! Probes, outages, timeouts, panics, lost races and overload: the service answers with a
//! problem, leaks nothing, and keeps serving.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use adapter_http::HttpSettings;
use application::ports::{Readiness, RepositoryError};
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use domain::ApprovalId;
use serde_json::json;
use uuid::Uuid;

use crate::support::{Overrides, TestApp, approve, losing_every_race, new_approval, poll_once};

fn probe(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn liveness_ignores_the_store_and_readiness_reports_it() {
    let app = TestApp::new().await;
    app.store
        .fail_next(RepositoryError::Unavailable("connection refused".into()));

    let live = app.send(probe("/healthz")).await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.json(), json!({ "status": "ok" }));

    let ready = app.send(probe("/readyz")).await;
    ready.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");

    let recovered = app.send(probe("/readyz")).await;
    assert_eq!(recovered.status, StatusCode::OK);
    assert_eq!(recovered.json(), json!({ "status": "ready" }));
}

#[tokio::test]
async fn a_store_outage_is_a_503_that_leaks_no_internal_detail() {
    let app = TestApp::new().await;
    let before = app.snapshot();
    let secret_reason = "password authentication failed for db.internal:5432";
    app.store
        .fail_next(RepositoryError::Unavailable(secret_reason.into()));

    let response = app
        .post("/v1/approvals", &app.ci, &new_approval("deploy"))
        .await;

    response.assert_unavailable_without("db.internal");
    assert_eq!(app.snapshot(), before);
}

/// A readiness check that never answers, like a database that stopped responding.
struct Hangs;

#[async_trait]
impl Readiness for Hangs {
    async fn check(&self) -> Result<(), RepositoryError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_request_over_the_timeout_gets_a_408_problem() {
    let app = TestApp::with(Overrides {
        settings: HttpSettings {
            request_timeout: Duration::from_millis(50),
            ..HttpSettings::default()
        },
        readiness: Some(Arc::new(Hangs)),
        ..Overrides::default()
    })
    .await;

    let response = app.send(probe("/readyz")).await;

    let problem = response.assert_problem(StatusCode::REQUEST_TIMEOUT, "request-timeout");
    assert_eq!(problem["request_id"], response.header("x-request-id"));
}

#[tokio::test]
async fn readiness_answers_503_in_its_own_short_time_when_the_store_hangs() {
    // The request timeout (10 s, answered with 408) is not what ends this probe.
    let app = TestApp::with(Overrides {
        readiness: Some(Arc::new(Hangs)),
        ..Overrides::default()
    })
    .await;

    let response = app.send(probe("/readyz")).await;

    response.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
}

/// A readiness check with a bug.
struct Panics;

#[async_trait]
impl Readiness for Panics {
    async fn check(&self) -> Result<(), RepositoryError> {
        panic!("index out of bounds: secret internals");
    }
}

#[tokio::test]
async fn a_panic_becomes_a_500_problem_and_the_service_keeps_serving() {
    let app = TestApp::with(Overrides {
        readiness: Some(Arc::new(Panics)),
        ..Overrides::default()
    })
    .await;

    let response = app.send(probe("/readyz")).await;

    response.assert_problem(StatusCode::INTERNAL_SERVER_ERROR, "internal");
    assert!(!response.text().contains("secret"), "{}", response.text());
    assert_eq!(app.send(probe("/healthz")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_decision_that_keeps_losing_races_is_a_409_to_retry() {
    let id = ApprovalId::from_uuid(Uuid::now_v7());
    let app = losing_every_race(id).await;

    let response = app
        .post(
            &format!("/v1/approvals/{id}/decisions"),
            &app.alice,
            &json!({ "verdict": "approve" }),
        )
        .await;

    response.assert_problem(StatusCode::CONFLICT, "concurrent-update");
}

#[tokio::test]
async fn beyond_the_in_flight_limit_v1_requests_are_shed_at_once_and_probes_still_answer() {
    let (app, saves) = TestApp::with_controlled_saves(HttpSettings {
        max_in_flight: 1,
        ..HttpSettings::default()
    })
    .await;
    saves.hold_next_save();
    let body = new_approval("deploy");
    let mut first = pin!(app.post("/v1/approvals", &app.ci, &body));
    assert!(
        poll_once(first.as_mut()).await.is_none(),
        "the first request should be waiting in the store"
    );

    // Polled once: shedding must answer without waiting for the held request.
    let second = pin!(app.get("/v1/approvals", &app.ci));
    let shed = poll_once(second)
        .await
        .expect("the request over the limit waited instead of being shed");
    shed.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "overloaded");
    assert_eq!(shed.header("retry-after"), "1");
    for path in ["/healthz", "/readyz", "/openapi.json"] {
        assert_eq!(app.send(probe(path)).await.status, StatusCode::OK, "{path}");
    }

    saves.release();
    assert_eq!(first.await.status, StatusCode::CREATED);
    assert_eq!(
        app.get("/v1/approvals", &app.ci).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_in_flight_limit_is_shared_by_all_v1_routes() {
    let (app, saves) = TestApp::with_controlled_saves(HttpSettings {
        max_in_flight: 1,
        ..HttpSettings::default()
    })
    .await;
    let id = app.create(&app.ci, new_approval("deploy")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    saves.hold_next_save();
    let decide = approve(&id, &app.alice);
    let mut held = pin!(app.send(decide));
    assert!(poll_once(held.as_mut()).await.is_none());

    let path = format!("/v1/approvals/{id}");
    let other_route = pin!(app.get(&path, &app.ci));
    let shed = poll_once(other_route).await.expect("not shed at once");
    shed.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "overloaded");

    saves.release();
    assert_eq!(held.await.status, StatusCode::OK);
}
