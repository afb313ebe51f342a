//! `Authorization: Bearer <key>` on every `/v1` route, and only there.

use axum::body::Body;
use axum::http::header::AUTHORIZATION;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::support::{TestApp, json_body, new_alert, new_approval};

/// One request per `/v1` route, each of which would succeed with a valid key.
fn v1_requests(
    approval_id: &str,
    alert_id: &str,
    authorization: Option<&str>,
) -> Vec<Request<Body>> {
    let request = |method: Method, path: String| {
        let builder = Request::builder().method(method).uri(path);
        match authorization {
            Some(value) => builder.header(AUTHORIZATION, value),
            None => builder,
        }
    };
    vec![
        json_body(
            request(Method::POST, "/v1/approvals".into()),
            new_approval("deploy").to_string(),
        ),
        request(Method::GET, "/v1/approvals".into())
            .body(Body::empty())
            .unwrap(),
        request(Method::GET, format!("/v1/approvals/{approval_id}"))
            .body(Body::empty())
            .unwrap(),
        json_body(
            request(
                Method::POST,
                format!("/v1/approvals/{approval_id}/decisions"),
            ),
            json!({ "verdict": "approve" }).to_string(),
        ),
        request(Method::POST, format!("/v1/approvals/{approval_id}/cancel"))
            .body(Body::empty())
            .unwrap(),
        json_body(
            request(Method::POST, "/v1/alerts".into()),
            new_alert("disk-full:db-1").to_string(),
        ),
        request(Method::GET, format!("/v1/alerts/{alert_id}"))
            .body(Body::empty())
            .unwrap(),
        request(Method::POST, format!("/v1/alerts/{alert_id}/acknowledge"))
            .body(Body::empty())
            .unwrap(),
        request(Method::POST, format!("/v1/alerts/{alert_id}/resolve"))
            .body(Body::empty())
            .unwrap(),
    ]
}

#[tokio::test]
async fn every_v1_route_refuses_a_missing_malformed_or_unknown_key() {
    let app = TestApp::new().await;
    let approval = app.create(&app.ci, new_approval("deploy")).await;
    let approval_id = approval["id"].as_str().unwrap();
    let alert = app.raise(&app.ci, new_alert("disk-full:db-1")).await;
    let alert_id = alert["id"].as_str().unwrap();
    let before = app.snapshot().await;

    let unknown = format!("Bearer {}x", app.ci);
    let basic = "Basic Y2k6c2VjcmV0";
    for authorization in [None, Some("Bearer"), Some(basic), Some(unknown.as_str())] {
        for request in v1_requests(approval_id, alert_id, authorization) {
            let route = format!("{} {}", request.method(), request.uri());
            let response = app.send(request).await;
            response.assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
            assert_eq!(
                response.header("www-authenticate"),
                "Bearer",
                "{route} with {authorization:?}"
            );
        }
    }
    assert_eq!(app.snapshot().await, before);
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
