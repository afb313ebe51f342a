//! The test app and its helpers: the generic ones here, each aggregate's in its own module.

mod approvals;
mod cases;

pub use approvals::{approve, losing_every_race, new_approval};
pub use cases::{Case, assert_refused_changing_nothing, case, invalid};

use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use adapter_http::{ApiState, HttpSettings, router, with_edge};
use adapter_memory::{
    AnyCallbackUrl, Contents, EveryPlatform, ManualClock, MemoryStore, SequentialIds,
};
use application::ports::{IdempotencyStore, Readiness};
use application::{Ports, UseCases};
use axum::Router;
use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, Request, StatusCode, request};
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt;
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::ExposeSecret;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Changes a test makes to the ports before the app is built.
pub type EditPorts = Box<dyn FnOnce(&mut Ports)>;

/// What a test may replace; everything else is the in-memory default.
#[derive(Default)]
pub struct Overrides {
    pub settings: HttpSettings,
    /// The store behind every port, for a test that wraps it (see [`ControlledSaves`]).
    pub store: Option<Arc<MemoryStore>>,
    pub readiness: Option<Arc<dyn Readiness>>,
    /// Replaces ports of the in-memory store with fakes or decorations of the test's own.
    pub ports: Option<EditPorts>,
    pub idempotency: Option<Arc<dyn IdempotencyStore>>,
    pub metrics: Option<PrometheusHandle>,
    /// Cancel it to end waiting long-polls, as shutdown does.
    pub shutdown: CancellationToken,
}

/// The router over a fresh in-memory store, with three API keys: `ci` (the requester of most
/// tests), `alice` and `bob` (approvers).
pub struct TestApp {
    router: Router,
    pub store: Arc<MemoryStore>,
    pub clock: Arc<ManualClock>,
    pub ci: String,
    pub alice: String,
    pub bob: String,
}

pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap()
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with(Overrides::default()).await
    }

    /// The app over the in-memory store, with the ports `edit` replaces.
    pub async fn with_ports(edit: impl FnOnce(&mut Ports) + 'static) -> Self {
        Self::with(Overrides {
            ports: Some(Box::new(edit)),
            ..Overrides::default()
        })
        .await
    }

    pub async fn with(overrides: Overrides) -> Self {
        let store = overrides
            .store
            .unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let clock = Arc::new(ManualClock::new(start_time()));
        let ids = Arc::new(SequentialIds::default());
        // No sinks: what a request changes waits in the outbox (which the tests read);
        // delivering it is the relay's job, tested with the sinks.
        let mut ports = Ports::over(
            store.clone(),
            Arc::new(EveryPlatform),
            Arc::new(AnyCallbackUrl),
            clock.clone(),
            ids.clone(),
        );
        if let Some(replace) = overrides.ports {
            replace(&mut ports);
        }
        let use_cases = UseCases::new(&ports);
        let key = async |name: &str| {
            let created = use_cases.create_api_key.execute(name).await.unwrap();
            created.key.expose_secret().to_owned()
        };
        let (ci, alice, bob) = (key("ci").await, key("alice").await, key("bob").await);
        let state = ApiState {
            readiness: overrides.readiness.unwrap_or_else(|| store.clone()),
            idempotency: overrides.idempotency.unwrap_or_else(|| store.clone()),
            clock: clock.clone(),
            ids,
            metrics: overrides.metrics,
            shutdown: overrides.shutdown,
            use_cases,
        };
        Self {
            router: with_edge(router(state, &overrides.settings)),
            store,
            clock,
            ci,
            alice,
            bob,
        }
    }

    /// The event types in the outbox, oldest first.
    pub fn event_types(&self) -> Vec<String> {
        self.store
            .outbox_messages()
            .into_iter()
            .map(|(message, _)| message.event_type)
            .collect()
    }

    /// Everything the API could have changed, to compare before and after a call.
    pub fn snapshot(&self) -> Contents {
        self.store.contents()
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.unwrap().to_bytes().to_vec(),
        }
    }

    pub async fn get(&self, path: &str, key: &str) -> TestResponse {
        self.send(call(Method::GET, path, key).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post(&self, path: &str, key: &str, body: &Value) -> TestResponse {
        self.send(json_body(call(Method::POST, path, key), body.to_string()))
            .await
    }

    pub async fn post_empty(&self, path: &str, key: &str) -> TestResponse {
        self.send(call(Method::POST, path, key).body(Body::empty()).unwrap())
            .await
    }
}

/// A request builder with this `Authorization` header value, or none.
pub fn authorized(method: Method, path: &str, authorization: Option<&str>) -> request::Builder {
    let builder = Request::builder().method(method).uri(path);
    match authorization {
        Some(value) => builder.header(AUTHORIZATION, value),
        None => builder,
    }
}

/// Sends the requests `requests` builds once per kind of bad credential (none, a bare
/// scheme, Basic, an unknown key) and asserts that each is a 401 with a `Bearer`
/// challenge, and that none of them changed anything.
pub async fn assert_bad_keys_refused(
    app: &TestApp,
    requests: impl Fn(Option<&str>) -> Vec<Request<Body>>,
) {
    let before = app.snapshot();
    let unknown = format!("Bearer {}x", app.ci);
    let basic = "Basic Y2k6c2VjcmV0";
    for authorization in [None, Some("Bearer"), Some(basic), Some(unknown.as_str())] {
        for request in requests(authorization) {
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
    assert_eq!(app.snapshot(), before);
}

/// A request with `Authorization: Bearer <key>`.
pub fn call(method: Method, path: &str, key: &str) -> request::Builder {
    Request::builder()
        .method(method)
        .uri(path)
        .header(AUTHORIZATION, format!("Bearer {key}"))
}

/// Finishes a request with a JSON body.
pub fn json_body(builder: request::Builder, body: impl Into<String>) -> Request<Body> {
    builder
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from(body.into()))
        .unwrap()
}

pub fn problem_type(slug: &str) -> String {
    format!("{}{slug}", env!("PROBLEM_BASE_URL"))
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }

    /// Asserts an RFC 9457 problem of this status and type; returns its body.
    #[track_caller]
    /// Asserts a 503 `unavailable` that does not mention `internal` (a host name, say, from
    /// the store's error).
    pub fn assert_unavailable_without(&self, internal: &str) {
        self.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
        assert!(!self.text().contains(internal), "{}", self.text());
    }

    pub fn assert_problem(&self, status: StatusCode, slug: &str) -> Value {
        self.check_problem(status, slug)
            .unwrap_or_else(|mismatch| panic!("{mismatch}"))
    }

    /// Like [`assert_problem`](Self::assert_problem), but says what is wrong instead of
    /// panicking, so a table-driven test can name the failing case.
    pub fn check_problem(&self, status: StatusCode, slug: &str) -> Result<Value, String> {
        let content_type = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok());
        let problem: Value = serde_json::from_slice(&self.body).unwrap_or_default();
        let expected = (
            status,
            Some("application/problem+json"),
            problem_type(slug),
            status.as_u16(),
        );
        let actual = (
            self.status,
            content_type,
            problem["type"].as_str().unwrap_or_default().to_owned(),
            problem["status"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or_default(),
        );
        if actual != expected {
            return Err(format!(
                "expected {expected:?}, got {actual:?}: {}",
                self.text()
            ));
        }
        if !(problem["title"].is_string() && problem["detail"].is_string()) {
            return Err(format!("title or detail missing: {problem}"));
        }
        Ok(problem)
    }
}

/// Polls `future` once: `Some(output)` if it finished without waiting for anything.
pub async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Option<F::Output> {
    std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}
