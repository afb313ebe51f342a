//! `Authorization: Bearer <key>` on every `/v1` route, and only there.

use axum::body::Body;
use axum::http::header::AUTHORIZATION;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::support::{TestApp, assert_bad_keys_refused, authorized, json_body, new_approval};

/// One request per approval route, each of which would succeed with a valid key. Each
/// aggregate's routes are checked the same way in its own tests.
fn approval_requests(approval_id: &str, authorization: Option<&str>) -> Vec<Request<Body>> {
    let request = |method: Method, path: &str| authorized(method, path, authorization);
    vec![
        json_body(
            request(Method::POST, "/v1/approvals"),
            new_approval("deploy").to_string(),
        ),
        request(Method::GET, "/v1/approvals")
            .body(Body::empty())
            .unwrap(),
        request(Method::GET, &format!("/v1/approvals/{approval_id}"))
            .body(Body::empty())
            .unwrap(),
        json_body(
            request(
                Method::POST,
                &format!("/v1/approvals/{approval_id}/decisions"),
            ),
            json!({ "verdict": "approve" }).to_string(),
        ),
        request(Method::POST, &format!("/v1/approvals/{approval_id}/cancel"))
            .body(Body::empty())
            .unwrap(),
    ]
}

#[tokio::test]
async fn every_approval_route_refuses_a_missing_malformed_or_unknown_key() {
    let app = TestApp::new().await;
    let approval = app.create(&app.ci, new_approval("deploy")).await;
    let approval_id = approval["id"].as_str().unwrap();
    assert_bad_keys_refused(&app, |authorization| {
        approval_requests(approval_id, authorization)
    })
    .await;
}

#[tokio::test]
async fn the_key_name_is_the_requester_and_scheme_case_does_not_matter() {
    let app = TestApp::new().await;
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/approvals")
        .header(AUTHORIZATION, format!("bearer {}", app.alice));
    let response = app
        .send(json_body(request, new_approval("deploy").to_string()))
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    assert_eq!(response.json()["requester"], "alice");
}

#[tokio::test]
async fn health_probes_need_no_key() {
    let app = TestApp::new().await;
    for path in ["/healthz", "/readyz"] {
        let request = Request::get(path).body(Body::empty()).unwrap();
        assert_eq!(app.send(request).await.status, StatusCode::OK, "{path}");
    }
}
