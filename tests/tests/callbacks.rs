//! Signed callbacks end to end: the service, a real local receiver on 127.0.0.1 (so the
//! private-network setting is on wherever the receiver must be reached), and signatures
//! checked here with code of the test's own, not the service's.

// Helpers outside `#[test]` functions are test code too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use application::use_cases::RelayPolicy;
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tests::e2e::{Backend, FakeSlack, TestApp};
use tokio::sync::Notify;

const PREFIX: &str = env!("SERVICE_ENV_PREFIX");

/// Reaching a receiver on 127.0.0.1 over plain http needs both settings.
fn private_receivers() -> Vec<(String, &'static str)> {
    vec![
        (format!("{PREFIX}_CALLBACK_ALLOW_PRIVATE_NETWORKS"), "true"),
        (format!("{PREFIX}_CALLBACK_ALLOW_HTTP"), "true"),
    ]
}

async fn spawn(backend: Backend, env: &[(String, &'static str)]) -> TestApp {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    TestApp::spawn_with(backend, FakeSlack::start().await, &env).await
}

/// One POST as the receiver saw it.
#[derive(Debug, Clone)]
struct Delivery {
    headers: HeaderMap,
    body: Bytes,
}

impl Delivery {
    fn header(&self, name: &str) -> &str {
        self.headers[name].to_str().unwrap()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A POST route that records each delivery in `seen`, then answers with `answer()`.
fn recording(
    seen: &Arc<Mutex<Vec<Delivery>>>,
    answer: impl Fn() -> Response + Clone + Send + Sync + 'static,
) -> MethodRouter {
    let seen = seen.clone();
    post(move |headers: HeaderMap, body: Bytes| async move {
        seen.lock().unwrap().push(Delivery { headers, body });
        answer()
    })
}

/// A callback receiver on 127.0.0.1: `/hook` records every POST and answers with the next
/// of `answers` (the last one again once they run out); `/target` only records, and is
/// where a redirect points.
#[derive(Clone)]
struct Receiver {
    base: String,
    hook: Arc<Mutex<Vec<Delivery>>>,
    target: Arc<Mutex<Vec<Delivery>>>,
}

impl Receiver {
    async fn start(answers: Vec<Response>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let receiver = Self {
            base,
            hook: Arc::default(),
            target: Arc::default(),
        };
        let answers: Arc<Mutex<Vec<Response>>> = Arc::new(Mutex::new(answers));
        let app = Router::new()
            .route(
                "/hook",
                recording(&receiver.hook, move || {
                    let mut answers = answers.lock().unwrap();
                    match answers.len() {
                        0 => StatusCode::OK.into_response(),
                        1 => clone_response(&answers[0]),
                        _ => answers.remove(0),
                    }
                }),
            )
            .route(
                "/target",
                recording(&receiver.target, || StatusCode::OK.into_response()),
            );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    fn url(&self) -> String {
        format!("{}/hook", self.base)
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.hook.lock().unwrap().clone()
    }

    /// Waits (up to 60 s) until `/hook` has been called `count` times.
    async fn wait_for(&self, count: usize) -> Vec<Delivery> {
        for _ in 0..1200 {
            let seen = self.deliveries();
            if seen.len() >= count {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the receiver got {} of {count} callbacks",
            self.deliveries().len()
        );
    }
}

/// The last answer, repeated: status and headers (the bodies here are empty).
fn clone_response(answer: &Response) -> Response {
    let mut response = answer.status().into_response();
    *response.headers_mut() = answer.headers().clone();
    response
}

/// Verifies a Standard Webhooks signature header with `secret`, written from the spec: the
/// HMAC-SHA256 of `{id}.{timestamp}.{body}`, keyed with the base64 after `whsec_`, is one of
/// the space-separated `v1,<base64>` entries.
fn verifies(secret: &str, delivery: &Delivery) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    let signed = format!(
        "{}.{}.",
        delivery.header("webhook-id"),
        delivery.header("webhook-timestamp")
    );
    mac.update(signed.as_bytes());
    mac.update(&delivery.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    delivery
        .header("webhook-signature")
        .split(' ')
        .any(|signature| signature == expected)
}

fn request(callback_url: &str) -> Value {
    json!({
        "title": "Deploy model v7 to production?",
        "destination": "C0DEPLOYS",
        "callback_url": callback_url,
    })
}

/// Creates a request with a callback to `receiver` as `ci`, and approves it as `reviewer`.
async fn create_and_approve(app: &TestApp, ci: &str, reviewer: &str, url: &str) -> String {
    let (status, created) = app.post(ci, "/v1/approvals", request(url)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/approvals/{id}/decisions");
    let (status, decided) = app
        .post(reviewer, &path, json!({"verdict": "approve"}))
        .await;
    assert_eq!(status, 200, "{decided}");
    id
}

async fn wait_until_callbacks_settled(app: &TestApp) {
    app.wait_until_outbox_drained().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_fails_twice_gets_three_signed_posts_with_one_id_then_no_more() {
    three_signed_posts_with_one_id(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_too_a_receiver_that_fails_twice_gets_three_signed_posts() {
    three_signed_posts_with_one_id(Backend::Postgres).await;
}

async fn three_signed_posts_with_one_id(backend: Backend) {
    let receiver = Receiver::start(vec![
        StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        StatusCode::OK.into_response(),
    ])
    .await;
    let app = spawn(backend, &private_receivers()).await;
    let (ci, secret) = app.api_client("ci").await;
    let reviewer = app.api_key("reviewer").await;

    let id = create_and_approve(&app, &ci, &reviewer, &receiver.url()).await;

    let deliveries = receiver.wait_for(3).await;
    wait_until_callbacks_settled(&app).await;
    let deliveries_after = receiver.deliveries();
    assert_eq!(deliveries_after.len(), 3, "delivered again after a 200");
    let webhook_id = deliveries[0].header("webhook-id");
    assert!(webhook_id.starts_with("msg_") && !webhook_id.contains('.'));
    for delivery in &deliveries {
        assert_eq!(delivery.header("webhook-id"), webhook_id);
        assert!(verifies(&secret, delivery), "{:?}", delivery.headers);
        let body = delivery.json();
        assert_eq!(body["type"], "approval.approved");
        assert_eq!(body["data"]["id"], id.as_str());
        assert_eq!(body["data"]["status"], "approved");
        assert_eq!(body["data"]["decisions"][0]["approver"], "reviewer");
        assert!(body["timestamp"].is_string());
    }
    let (_, dead) = app.outbox_counts().await;
    assert_eq!(dead, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loopback_callback_url_is_refused_by_default_and_nothing_is_stored() {
    let app = spawn(Backend::Sqlite, &[]).await;
    let ci = app.api_key("ci").await;

    for url in [
        "https://127.0.0.1:8443/hook",
        "https://localhost/hook",
        "https://169.254.169.254/latest/meta-data/",
        "http://93.184.216.34/hook",
    ] {
        let (status, problem) = app.post(&ci, "/v1/approvals", request(url)).await;
        assert_eq!(status, 422, "{url}: {problem}");
        assert!(
            problem["type"]
                .as_str()
                .unwrap()
                .ends_with("/callback-url-refused"),
            "{problem}"
        );
    }
    let (status, page) = app.get(&ci, "/v1/approvals").await;
    assert_eq!(status, 200);
    assert_eq!(page["items"], json!([]), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_setting_allows_a_receiver_on_127_0_0_1() {
    let receiver = Receiver::start(Vec::new()).await;
    let app = spawn(Backend::Sqlite, &private_receivers()).await;
    let ci = app.api_key("ci").await;

    let (status, created) = app
        .post(&ci, "/v1/approvals", request(&receiver.url()))
        .await;

    assert_eq!(status, 201, "{created}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_a_private_address_is_not_followed() {
    let elsewhere = Receiver::start(Vec::new()).await;
    let redirect = (
        StatusCode::FOUND,
        [("location", format!("{}/target", elsewhere.base))],
    )
        .into_response();
    let receiver = Receiver::start(vec![redirect]).await;
    let app = spawn(Backend::Sqlite, &private_receivers()).await;
    let ci = app.api_key("ci").await;
    let reviewer = app.api_key("reviewer").await;

    create_and_approve(&app, &ci, &reviewer, &receiver.url()).await;

    receiver.wait_for(1).await;
    wait_until_callbacks_settled(&app).await;
    assert_eq!(receiver.deliveries().len(), 1);
    assert!(
        elsewhere.target.lock().unwrap().is_empty(),
        "the redirect was followed"
    );
    let dead = app
        .outbox
        .dead_letters(Some("callback".into()), 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(dead[0].error.contains("redirect"), "{}", dead[0].error);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_rotation_the_callback_carries_both_signatures() {
    let receiver = Receiver::start(Vec::new()).await;
    let app = spawn(Backend::Sqlite, &private_receivers()).await;
    let (ci, old) = app.api_client("ci").await;
    let reviewer = app.api_key("reviewer").await;
    let new = app
        .rotate_webhook_secret("ci", Duration::from_secs(60 * 60))
        .await;

    create_and_approve(&app, &ci, &reviewer, &receiver.url()).await;

    let delivery = receiver.wait_for(1).await.remove(0);
    let signatures: Vec<&str> = delivery.header("webhook-signature").split(' ').collect();
    assert_eq!(signatures.len(), 2, "{signatures:?}");
    assert!(verifies(&new, &delivery) && verifies(&old, &delivery));
}

/// A receiver whose `/hook` takes every POST and answers only when released.
async fn hanging_receiver() -> (String, Arc<Notify>, Arc<Notify>) {
    let arrived = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let app = Router::new().route(
        "/hook",
        post({
            let (arrived, release) = (arrived.clone(), release.clone());
            move || async move {
                arrived.notify_one();
                release.notified().await;
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, arrived, release)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_receiver_holds_only_its_own_lane() {
    let (hanging, arrived, release) = hanging_receiver().await;
    let fast = Receiver::start(Vec::new()).await;
    let mut env = private_receivers();
    // Longer than the test: the hanging receiver is released by the test, never timed out.
    env.push((format!("{PREFIX}_CALLBACK_TIMEOUT"), "300s"));
    let app = spawn(Backend::Sqlite, &env).await;
    let ci = app.api_key("ci").await;
    let reviewer = app.api_key("reviewer").await;
    // The callback relay's lanes, as the composition root registers them.
    let lanes = RelayPolicy {
        lanes: 8,
        ..RelayPolicy::default()
    };
    let lane_of = |id: &str| lanes.lane(id.parse().unwrap());

    let stuck = create_and_approve(&app, &ci, &reviewer, &hanging).await;
    arrived.notified().await;
    // A request whose aggregate falls in another lane (requests left pending call nobody).
    let other = loop {
        let (status, created) = app.post(&ci, "/v1/approvals", request(&fast.url())).await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        if lane_of(&id) != lane_of(&stuck) {
            break id;
        }
    };
    let path = format!("/v1/approvals/{other}/decisions");
    let (status, _) = app
        .post(&reviewer, &path, json!({"verdict": "approve"}))
        .await;
    assert_eq!(status, 200);

    let delivered = fast.wait_for(1).await;
    assert_eq!(delivered[0].json()["data"]["id"], other.as_str());
    release.notify_one();
}
