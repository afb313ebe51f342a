//! Request ids on every response and problem; Prometheus metrics by route template.

use std::collections::BTreeMap;

use adapter_http::prometheus_recorder;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::support::{Overrides, TestApp, call, json_body, new_approval};

fn get_with_request_id(path: &str, key: &str, request_id: &str) -> Request<Body> {
    call(Method::GET, path, key)
        .header("x-request-id", request_id)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn a_sane_client_request_id_is_echoed_and_names_the_problem() {
    let app = TestApp::new().await;
    let id = Uuid::now_v7();

    let found = app
        .send(get_with_request_id(
            "/v1/approvals",
            &app.ci,
            "ci-run-42/step-3",
        ))
        .await;
    let missing = app
        .send(get_with_request_id(
            &format!("/v1/approvals/{id}"),
            &app.ci,
            "ci-run-42/step-4",
        ))
        .await;

    assert_eq!(found.header("x-request-id"), "ci-run-42/step-3");
    assert_eq!(missing.header("x-request-id"), "ci-run-42/step-4");
    let problem = missing.assert_problem(StatusCode::NOT_FOUND, "approval-not-found");
    assert_eq!(problem["request_id"], "ci-run-42/step-4");
}

#[tokio::test]
async fn a_missing_or_unusable_request_id_is_replaced_by_a_fresh_uuid() {
    let app = TestApp::new().await;
    let huge = "x".repeat(16 * 1024);
    let too_long = "x".repeat(129);
    let mut seen = Vec::new();
    for request_id in [
        None,
        Some(""),
        Some("two words"),
        Some(&too_long),
        Some(&huge),
    ] {
        let mut request = call(Method::GET, "/v1/approvals", &app.ci);
        if let Some(request_id) = request_id {
            request = request.header("x-request-id", request_id);
        }
        let response = app.send(request.body(Body::empty()).unwrap()).await;

        assert_eq!(response.status, StatusCode::OK);
        let echoed = response.header("x-request-id").to_owned();
        assert!(Uuid::parse_str(&echoed).is_ok(), "{echoed}");
        seen.push(echoed);
    }
    seen.dedup();
    assert_eq!(seen.len(), 5, "every request gets its own id");
}

#[tokio::test]
async fn every_answer_carries_a_request_id_even_unknown_routes_and_bare_errors() {
    let app = TestApp::new().await;
    let unknown_route = app
        .send(Request::get("/nowhere").body(Body::empty()).unwrap())
        .await;
    let wrong_method = app
        .send(Request::delete("/healthz").body(Body::empty()).unwrap())
        .await;
    let unauthorized = app.get("/v1/approvals", "not-a-key").await;

    for (response, slug, status) in [
        (&unknown_route, "route-not-found", StatusCode::NOT_FOUND),
        (
            &wrong_method,
            "method-not-allowed",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (&unauthorized, "unauthorized", StatusCode::UNAUTHORIZED),
    ] {
        let problem = response.assert_problem(status, slug);
        assert_eq!(problem["request_id"], response.header("x-request-id"));
    }
}

/// The samples of one metric in the Prometheus text format, keyed by their label sets.
fn samples(text: &str, name: &str) -> BTreeMap<BTreeMap<String, String>, f64> {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix('{')?;
            let (labels, value) = rest.rsplit_once("} ")?;
            let labels = labels
                .split("\",")
                .filter_map(|pair| {
                    let (key, value) = pair.split_once("=\"")?;
                    Some((key.to_owned(), value.trim_end_matches('"').to_owned()))
                })
                .collect();
            Some((labels, value.parse().ok()?))
        })
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn metrics_count_and_time_requests_by_route_template_never_by_raw_path() {
    // Installed for this thread only: the current-thread test runtime polls every request
    // here, and no other test sees it.
    let recorder = prometheus_recorder().unwrap();
    let _local = metrics::set_default_local_recorder(&recorder);
    let app = TestApp::with(Overrides {
        metrics: Some(recorder.handle()),
        ..Overrides::default()
    })
    .await;
    let created = app.create(&app.ci, new_approval("deploy")).await;
    let id = created["id"].as_str().unwrap();
    app.get(&format!("/v1/approvals/{id}"), &app.ci).await;
    app.get(&format!("/v1/approvals/{}", Uuid::now_v7()), &app.ci)
        .await;
    app.send(Request::get("/nowhere").body(Body::empty()).unwrap())
        .await;
    app.send(
        Request::builder()
            .method("BREW")
            .uri("/healthz")
            .body(Body::empty())
            .unwrap(),
    )
    .await;

    let scrape = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;

    assert_eq!(scrape.status, StatusCode::OK);
    assert!(scrape.header("content-type").starts_with("text/plain"));
    let text = scrape.text();
    assert!(
        !text.contains(id),
        "a raw path leaked into a label:\n{text}"
    );
    let totals = samples(&text, "http_requests_total");
    let expected = [
        (("POST", "/v1/approvals", "201"), 1.0),
        (("GET", "/v1/approvals/{id}", "200"), 1.0),
        (("GET", "/v1/approvals/{id}", "404"), 1.0),
        (("GET", "unmatched", "404"), 1.0),
        (("OTHER", "/healthz", "405"), 1.0),
    ];
    for ((method, route, status), count) in expected {
        let key = labels(&[("method", method), ("route", route), ("status", status)]);
        assert_eq!(totals.get(&key), Some(&count), "{key:?} in\n{text}");
    }
    assert_eq!(totals.len(), expected.len(), "{text}");
    let durations = samples(&text, "http_request_duration_seconds_count");
    let get_one = labels(&[("method", "GET"), ("route", "/v1/approvals/{id}")]);
    assert_eq!(durations.get(&get_one), Some(&2.0), "{text}");
    assert!(
        text.contains("# TYPE http_request_duration_seconds histogram"),
        "{text}"
    );
    assert!(text.contains("# HELP http_requests_total"), "{text}");
}

#[tokio::test]
async fn without_a_metrics_handle_the_metrics_route_is_a_404_problem() {
    let app = TestApp::new().await;
    let response = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    response.assert_problem(StatusCode::NOT_FOUND, "route-not-found");
}

#[tokio::test]
async fn a_problem_replayed_for_an_idempotency_key_keeps_its_original_request_id() {
    let app = TestApp::new().await;
    let approval = app.create(&app.ci, new_approval("deploy")).await;
    let decisions = format!(
        "/v1/approvals/{}/decisions",
        approval["id"].as_str().unwrap()
    );
    let self_approval = |request_id: &str| {
        json_body(
            call(Method::POST, &decisions, &app.ci)
                .header("idempotency-key", "\"k\"")
                .header("x-request-id", request_id),
            json!({ "verdict": "approve" }).to_string(),
        )
    };

    let first = app.send(self_approval("first-attempt")).await;
    let retry = app.send(self_approval("second-attempt")).await;

    assert_eq!(retry.header("x-request-id"), "second-attempt");
    assert_eq!(retry.json()["request_id"], "first-attempt");
    assert_eq!(retry.body, first.body);
}
