//! What the alert routes refuse, and how: bad input, bad keys, a lost race, a store outage.
//! Each gets its typed problem and changes nothing. The cases every route shares (a body
//! that is not JSON, a missing content type, limits) are in `bad_input.rs`.

use std::sync::Arc;

use application::ports::{MockAlertRepository, RepositoryError};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use domain::AlertId;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{
    TestApp, assert_bad_keys_refused, assert_refused_changing_nothing, authorized, call, case,
    invalid, json_body,
};

use super::support::{new_alert, open_alert};

/// The valid raise body with one field replaced.
fn raise_with(field: &str, value: Value) -> String {
    let mut body = new_alert("disk-full:db-1");
    body[field] = value;
    body.to_string()
}

/// `POST /v1/alerts` as `key` with a fixed `Idempotency-Key`.
fn keyed(key: &str, body: &Value) -> Request<Body> {
    json_body(
        call(Method::POST, "/v1/alerts", key).header(
            "idempotency-key",
            "\"8e03978e-40d5-43e8-bc93-6894a57f9324\"",
        ),
        body.to_string(),
    )
}

#[tokio::test]
async fn bad_input_to_the_alert_routes_gets_a_typed_problem_and_changes_nothing() {
    let app = TestApp::new().await;
    let ci = app.ci.as_str();
    let resolved_alert = app.raise(ci, new_alert("resolved")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post_empty(&format!("/v1/alerts/{resolved_alert}/resolve"), ci)
        .await;

    let raise = || call(Method::POST, "/v1/alerts", ci);
    let settle_alert = |alert: &str, action: &str| {
        call(Method::POST, &format!("/v1/alerts/{alert}/{action}"), ci)
            .body(Body::empty())
            .unwrap()
    };
    let get = |path: &str| call(Method::GET, path, ci).body(Body::empty()).unwrap();
    let unknown_id = Uuid::now_v7();
    let bad = StatusCode::BAD_REQUEST;

    let cases = vec![
        case(
            "unknown severity",
            json_body(raise(), raise_with("severity", json!("fatal"))),
            bad,
            "malformed-body",
        ),
        case(
            "alert without a destination",
            json_body(
                raise(),
                json!({ "severity": "info", "summary": "s", "dedup_key": "k" }).to_string(),
            ),
            bad,
            "malformed-body",
        ),
        case(
            "misspelled alert field",
            json_body(raise(), raise_with("dedupkey", json!("k"))),
            bad,
            "malformed-body",
        ),
        invalid(
            "a zero-width space in an alert summary",
            json_body(raise(), raise_with("summary", json!("disk\u{200B} full"))),
            "summary",
        ),
        invalid(
            "empty summary",
            json_body(raise(), raise_with("summary", json!(""))),
            "summary",
        ),
        invalid(
            "over-long summary",
            json_body(raise(), raise_with("summary", json!("x".repeat(201)))),
            "summary",
        ),
        invalid(
            "over-long alert details",
            json_body(raise(), raise_with("details", json!("x".repeat(4001)))),
            "details",
        ),
        invalid(
            "control character in the dedup key",
            json_body(raise(), raise_with("dedup_key", json!("disk\u{1b}[31m"))),
            "dedup_key",
        ),
        invalid(
            "alert destination with spaces",
            json_body(raise(), raise_with("destination", json!("two words"))),
            "destination",
        ),
        case(
            "non-UUID alert id",
            get("/v1/alerts/42"),
            bad,
            "invalid-path",
        ),
        case(
            "non-UUID alert id in an acknowledgement",
            settle_alert("not-a-uuid", "acknowledge"),
            bad,
            "invalid-path",
        ),
        case(
            "unknown alert id",
            get(&format!("/v1/alerts/{unknown_id}")),
            StatusCode::NOT_FOUND,
            "alert-not-found",
        ),
        case(
            "acknowledging an unknown alert id",
            settle_alert(&unknown_id.to_string(), "acknowledge"),
            StatusCode::NOT_FOUND,
            "alert-not-found",
        ),
        case(
            "resolving an unknown alert id",
            settle_alert(&unknown_id.to_string(), "resolve"),
            StatusCode::NOT_FOUND,
            "alert-not-found",
        ),
        case(
            "acknowledging a resolved alert",
            settle_alert(&resolved_alert, "acknowledge"),
            StatusCode::CONFLICT,
            "alert-resolved",
        ),
    ];
    assert_refused_changing_nothing(&app, cases).await;
}

#[tokio::test]
async fn every_alert_route_refuses_a_missing_malformed_or_unknown_key() {
    let app = TestApp::new().await;
    let alert = app.raise(&app.ci, new_alert("disk-full:db-1")).await;
    let alert_id = alert["id"].as_str().unwrap();
    assert_bad_keys_refused(&app, |authorization| {
        let request = |method: Method, path: &str| authorized(method, path, authorization);
        vec![
            json_body(
                request(Method::POST, "/v1/alerts"),
                new_alert("disk-full:db-1").to_string(),
            ),
            request(Method::GET, &format!("/v1/alerts/{alert_id}"))
                .body(Body::empty())
                .unwrap(),
            request(Method::POST, &format!("/v1/alerts/{alert_id}/acknowledge"))
                .body(Body::empty())
                .unwrap(),
            request(Method::POST, &format!("/v1/alerts/{alert_id}/resolve"))
                .body(Body::empty())
                .unwrap(),
        ]
    })
    .await;
}

#[tokio::test]
async fn a_retried_raise_replays_the_opening_instead_of_counting_a_repeat() {
    let app = TestApp::new().await;
    let body = new_alert("disk-full:db-1");

    let first = app.send(keyed(&app.ci, &body)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let after_first = app.snapshot();

    let retry = app.send(keyed(&app.ci, &body)).await;

    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.header("idempotent-replayed"), "true");
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(app.snapshot(), after_first);
}

#[tokio::test]
async fn an_acknowledgement_that_keeps_losing_races_is_a_409_to_retry() {
    let id = AlertId::from_uuid(Uuid::now_v7());
    let mut alerts = MockAlertRepository::new();
    alerts
        .expect_get()
        .returning(move |_| Ok(Some(open_alert(id))));
    alerts
        .expect_save()
        .returning(|_, _, _| Err(RepositoryError::Conflict));
    let app = TestApp::with_ports(|ports| ports.alerts = Arc::new(alerts)).await;

    let response = app
        .post_empty(&format!("/v1/alerts/{id}/acknowledge"), &app.alice)
        .await;

    response.assert_problem(StatusCode::CONFLICT, "concurrent-update");
}

#[tokio::test]
async fn an_alert_store_outage_is_a_503_that_leaks_no_internal_detail() {
    let mut alerts = MockAlertRepository::new();
    alerts.expect_find_unresolved().returning(|_| {
        Err(RepositoryError::Unavailable(
            "connection to db.internal:5432 refused".into(),
        ))
    });
    alerts.expect_save().never();
    let app = TestApp::with_ports(|ports| ports.alerts = Arc::new(alerts)).await;

    let response = app
        .post("/v1/alerts", &app.ci, &new_alert("disk-full:db-1"))
        .await;

    response.assert_unavailable_without("db.internal");
}
