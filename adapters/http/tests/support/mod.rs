//! The test app and its helpers.

use std::collections::BTreeSet;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use adapter_http::{ApiState, HttpSettings, router, with_edge};
use adapter_memory::{EveryPlatform, ManualClock, MemoryStore, SequentialIds};
use application::ports::{
    AlertRepository, ApprovalRepository, IdempotencyStore, ListQuery, OutboxMessage, Readiness,
    Receipt, RepositoryError,
};
use application::{Ports, UseCases};
use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, Request, StatusCode, request};
use chrono::{DateTime, TimeZone, Utc};
use domain::{
    Alert, AlertId, ApprovalEvent, ApprovalId, ApprovalRequest, ChatDestination, DedupKey,
    Description, Identity, Metadata, NewAlert, NewApproval, Policy, RequiredApprovals, Severity,
    Title, Ttl,
};
use http_body_util::BodyExt;
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// What a test may replace; everything else is the in-memory default.
#[derive(Default)]
pub struct Overrides {
    pub settings: HttpSettings,
    /// The store behind every port, for a test that wraps it (see [`ControlledSaves`]).
    pub store: Option<Arc<MemoryStore>>,
    pub readiness: Option<Arc<dyn Readiness>>,
    pub approvals: Option<Arc<dyn ApprovalRepository>>,
    pub alerts: Option<Arc<dyn AlertRepository>>,
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

    pub async fn with(overrides: Overrides) -> Self {
        let store = overrides
            .store
            .unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let clock = Arc::new(ManualClock::new(start_time()));
        let ids = Arc::new(SequentialIds::default());
        let ports = Ports {
            approvals: overrides.approvals.unwrap_or_else(|| store.clone()),
            alerts: overrides.alerts.unwrap_or_else(|| store.clone()),
            outbox: store.clone(),
            api_keys: store.clone(),
            changes: store.clone(),
            platforms: Arc::new(EveryPlatform),
            clock: clock.clone(),
            ids: ids.clone(),
            // No sinks: what a request changes waits in the outbox (which the tests read);
            // delivering it is the relay's job, tested with the sinks.
            sinks: Vec::new(),
        };
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

    /// The app over a store whose approval saves the test can fail or hold (see
    /// [`ControlledSaves`]), with `settings`.
    pub async fn with_controlled_saves(settings: HttpSettings) -> (Self, Arc<ControlledSaves>) {
        let store = Arc::new(MemoryStore::new());
        let saves = ControlledSaves::new(store.clone());
        let app = Self::with(Overrides {
            settings,
            store: Some(store),
            approvals: Some(saves.clone()),
            ..Overrides::default()
        })
        .await;
        (app, saves)
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

    /// Creates an approval through the API and returns its JSON.
    pub async fn create(&self, key: &str, body: Value) -> Value {
        let response = self.post("/v1/approvals", key, &body).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        response.json()
    }

    /// Raises an alert through the API and returns its JSON; asserts that it opened a new one.
    pub async fn raise(&self, key: &str, body: Value) -> Value {
        let response = self.post("/v1/alerts", key, &body).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        response.json()
    }

    /// Everything the API could have changed: the requests, the alerts and the outbox.
    pub async fn snapshot(&self) -> Snapshot {
        let all = ListQuery {
            status: None,
            after: None,
            limit: u32::MAX,
        };
        let outbox = self.store.outbox_messages();
        // The alert port has no listing, but every alert is in the outbox: opening one saves
        // its `alert.raised` event in the same write.
        let alert_ids: BTreeSet<AlertId> = outbox
            .iter()
            .filter(|(message, _)| message.aggregate_type == "alert")
            .map(|(message, _)| AlertId::from_uuid(message.aggregate_id))
            .collect();
        let mut alerts = Vec::new();
        for id in alert_ids {
            alerts.extend(AlertRepository::get(&*self.store, id).await.unwrap());
        }
        Snapshot {
            approvals: ApprovalRepository::list(&*self.store, &all).await.unwrap(),
            alerts,
            outbox,
        }
    }
}

#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub approvals: Vec<ApprovalRequest>,
    pub alerts: Vec<Alert>,
    pub outbox: Vec<(OutboxMessage, bool)>,
}

/// A pending request by `ci`, as a store would return it.
pub fn pending_request(id: ApprovalId) -> ApprovalRequest {
    let requester = Identity::parse("ci").unwrap();
    let policy = Policy::new(
        RequiredApprovals::default(),
        BTreeSet::new(),
        false,
        &requester,
    )
    .unwrap();
    let mut approval = ApprovalRequest::open(
        id,
        NewApproval {
            title: Title::parse("deploy").unwrap(),
            description: Description::default(),
            requester,
            destination: ChatDestination::parse("C0123456789").unwrap(),
            metadata: Metadata::default(),
            callback_url: None,
            policy,
            ttl: Ttl::default(),
        },
        start_time(),
    );
    approval.take_events();
    approval
}

/// An open alert raised by `ci`, as a store would return it.
pub fn open_alert(id: AlertId) -> Alert {
    let mut alert = Alert::raise(
        id,
        NewAlert {
            severity: Severity::Warning,
            summary: Title::parse("disk 91% full on db-1").unwrap(),
            details: Description::default(),
            destination: ChatDestination::parse("C0123456789").unwrap(),
            dedup_key: DedupKey::parse("disk-full:db-1").unwrap(),
            raised_by: Identity::parse("ci").unwrap(),
        },
        start_time(),
    );
    alert.take_events();
    alert
}

/// The smallest valid create body.
pub fn new_approval(title: &str) -> Value {
    json!({ "title": title, "destination": "C0123456789" })
}

/// The smallest valid raise body.
pub fn new_alert(dedup_key: &str) -> Value {
    json!({
        "severity": "warning",
        "summary": "disk 91% full on db-1",
        "destination": "C0123456789",
        "dedup_key": dedup_key,
    })
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

/// The in-memory store's approvals, with two hooks on `save` for tests that need a request
/// to fail or to stay in flight at a point they choose.
pub struct ControlledSaves {
    store: Arc<MemoryStore>,
    fail_next: Mutex<Option<RepositoryError>>,
    hold_next: AtomicBool,
    released: Semaphore,
}

impl ControlledSaves {
    pub fn new(store: Arc<MemoryStore>) -> Arc<Self> {
        Arc::new(Self {
            store,
            fail_next: Mutex::new(None),
            hold_next: AtomicBool::new(false),
            released: Semaphore::new(0),
        })
    }

    /// The next `save` fails with `error` and writes nothing.
    pub fn fail_next_save(&self, error: RepositoryError) {
        *self.fail_next.lock().unwrap() = Some(error);
    }

    /// The next `save` waits until [`release`](Self::release); later ones go straight
    /// through, so a test that goes wrong fails instead of hanging.
    pub fn hold_next_save(&self) {
        self.hold_next.store(true, Ordering::SeqCst);
    }

    pub fn release(&self) {
        self.released.add_permits(1);
    }
}

#[async_trait]
impl ApprovalRepository for ControlledSaves {
    async fn get(&self, id: ApprovalId) -> Result<Option<ApprovalRequest>, RepositoryError> {
        ApprovalRepository::get(&*self.store, id).await
    }

    async fn save(
        &self,
        approval: &ApprovalRequest,
        events: &[ApprovalEvent],
        receipt: Option<Receipt>,
    ) -> Result<(), RepositoryError> {
        if let Some(error) = self.fail_next.lock().unwrap().take() {
            return Err(error);
        }
        if self.hold_next.swap(false, Ordering::SeqCst) {
            self.released.acquire().await.unwrap().forget();
        }
        ApprovalRepository::save(&*self.store, approval, events, receipt).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<ApprovalRequest>, RepositoryError> {
        ApprovalRepository::list(&*self.store, query).await
    }

    async fn overdue(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ApprovalId>, RepositoryError> {
        self.store.overdue(now, limit).await
    }

    async fn reminders_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ApprovalId>, RepositoryError> {
        self.store.reminders_due(now, limit).await
    }

    async fn next_deadline(&self) -> Result<Option<DateTime<Utc>>, RepositoryError> {
        self.store.next_deadline().await
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
