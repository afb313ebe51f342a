//! Helpers for the approval routes' tests: bodies, stored requests, and a store whose saves
//! a test can fail or hold.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use adapter_http::HttpSettings;
use adapter_memory::MemoryStore;
use application::ports::{
    ApprovalRepository, ListQuery, MockApprovalRepository, Receipt, RepositoryError,
};
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::{DateTime, Utc};
use domain::{
    ApprovalEvent, ApprovalId, ApprovalRequest, ChatDestination, Description, Identity, Metadata,
    NewApproval, Policy, RequiredApprovals, Title, Ttl,
};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::{Overrides, TestApp, call, json_body, start_time};

impl TestApp {
    /// The app over a store whose approval saves the test can fail or hold (see
    /// [`ControlledSaves`]), with `settings`.
    pub async fn with_controlled_saves(settings: HttpSettings) -> (Self, Arc<ControlledSaves>) {
        let store = Arc::new(MemoryStore::new());
        let saves = ControlledSaves::new(store.clone());
        let app = Self::with(Overrides {
            settings,
            store: Some(store),
            ports: Some(Box::new({
                let saves = saves.clone();
                move |ports| ports.approvals = saves
            })),
            ..Overrides::default()
        })
        .await;
        (app, saves)
    }

    /// Creates an approval through the API and returns its JSON.
    pub async fn create(&self, key: &str, body: Value) -> Value {
        let response = self.post("/v1/approvals", key, &body).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        response.json()
    }

    /// How many approval requests the store holds.
    pub async fn approval_count(&self) -> usize {
        let all = ListQuery {
            status: None,
            after: None,
            limit: u32::MAX,
        };
        ApprovalRepository::list(&*self.store, &all)
            .await
            .unwrap()
            .len()
    }
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

/// The smallest valid create body.
/// The app over approvals where request `id` is pending and every save of it loses a race
/// (a conflict), however often it is tried.
pub async fn losing_every_race(id: ApprovalId) -> TestApp {
    let mut approvals = MockApprovalRepository::new();
    approvals
        .expect_get()
        .returning(move |_| Ok(Some(pending_request(id))));
    approvals
        .expect_save()
        .returning(|_, _, _| Err(RepositoryError::Conflict));
    TestApp::with_ports(|ports| ports.approvals = Arc::new(approvals)).await
}

/// `POST /v1/approvals/{id}/decisions` by `key`, approving.
pub fn approve(id: &str, key: &str) -> Request<Body> {
    json_body(
        call(Method::POST, &format!("/v1/approvals/{id}/decisions"), key),
        json!({ "verdict": "approve" }).to_string(),
    )
}

pub fn new_approval(title: &str) -> Value {
    json!({ "title": title, "destination": "C0123456789" })
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
