//! One mutex-guarded state for all stores, so a save, its outbox rows and its idempotency
//! receipt change together.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use adapter_change_hub::ChangeHub;
use application::ports::{
    ApiKeyHash, ApiKeyRecord, ApiKeyStore, ApprovalRepository, ChatMessages, DeliveryRoutes,
    ListQuery, MessageRef, NewOutboxMessage, OutboxMessage, Receipt, RepositoryError,
    WebhookSecret, WebhookSecrets,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{Alert, AlertId, ApprovalEvent, ApprovalId, ApprovalRequest, Identity, Status};
use uuid::Uuid;

use crate::idempotency::Records;
use crate::outbox::{OutboxRow, RowStatus};

/// The `aggregate_type` of outbox rows written for approvals, and the kind their saves are
/// announced under.
const AGGREGATE_TYPE: &str = "approval";

#[derive(Debug, Default)]
pub(crate) struct State {
    approvals: BTreeMap<ApprovalId, ApprovalRequest>,
    pub(crate) alerts: BTreeMap<AlertId, Alert>,
    pub(crate) outbox: BTreeMap<i64, OutboxRow>,
    pub(crate) next_outbox_id: i64,
    api_keys: HashMap<Identity, ApiKeyRecord>,
    webhook_secrets: HashMap<Identity, WebhookSecrets>,
    messages: HashMap<Uuid, MessageRef>,
    pub(crate) idempotency: Records,
    /// When set, the next call fails with this error (fault injection for tests).
    fail_next: Option<RepositoryError>,
}

/// What [`MemoryStore::contents`] returns: comparable, printable, and opaque.
#[derive(Debug, Clone, PartialEq)]
pub struct Contents {
    approvals: BTreeMap<ApprovalId, ApprovalRequest>,
    alerts: BTreeMap<AlertId, Alert>,
    outbox: BTreeMap<i64, OutboxRow>,
    api_keys: HashMap<Identity, ApiKeyRecord>,
    messages: HashMap<Uuid, MessageRef>,
}

/// Every persistence port in memory. Clone the `Arc` to share one store between ports.
#[derive(Debug)]
pub struct MemoryStore {
    state: Mutex<State>,
    pub(crate) routes: DeliveryRoutes,
    /// Who waits on which aggregate; every saved approval is announced to it.
    pub(crate) changes: ChangeHub,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// A store with the default routing (every event to the chat sink);
    /// [`with_routes`](Self::with_routes) sets any other.
    pub fn new() -> Self {
        Self::with_routes(DeliveryRoutes::default())
    }

    /// A store that writes one outbox row per event and sink as `routes` say.
    pub fn with_routes(routes: DeliveryRoutes) -> Self {
        Self {
            state: Mutex::default(),
            routes,
            changes: ChangeHub::new(),
        }
    }

    /// Makes the next call on any port fail with `error`, once.
    pub fn fail_next(&self, error: RepositoryError) {
        self.lock().fail_next = Some(error);
    }

    /// Every outbox message ever written, in order, with whether it was delivered. For tests.
    pub fn outbox_messages(&self) -> Vec<(OutboxMessage, bool)> {
        self.lock()
            .outbox
            .values()
            .map(|row| (row.message.clone(), row.status == RowStatus::Delivered))
            .collect()
    }

    /// Everything a call can change — aggregates, outbox rows, API keys, chat messages — as
    /// one value to compare. A test takes it before and after a call to show that the call
    /// changed nothing, without naming what the store holds. Idempotency records are left
    /// out: a refused request may claim and release its key.
    pub fn contents(&self) -> Contents {
        let state = self.lock();
        Contents {
            approvals: state.approvals.clone(),
            alerts: state.alerts.clone(),
            outbox: state.outbox.clone(),
            api_keys: state.api_keys.clone(),
            messages: state.messages.clone(),
        }
    }

    /// A poisoned mutex means a panic elsewhere mid-update; the state is still structurally
    /// valid (every update below is applied after all checks), so keep serving.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn guard(&self) -> Result<MutexGuard<'_, State>, RepositoryError> {
        let mut state = self.lock();
        match state.fail_next.take() {
            Some(error) => Err(error),
            None => Ok(state),
        }
    }
}

#[async_trait]
impl ApprovalRepository for MemoryStore {
    async fn get(&self, id: ApprovalId) -> Result<Option<ApprovalRequest>, RepositoryError> {
        Ok(self.guard()?.approvals.get(&id).cloned())
    }

    async fn save(
        &self,
        approval: &ApprovalRequest,
        events: &[ApprovalEvent],
        receipt: Option<Receipt>,
    ) -> Result<(), RepositoryError> {
        let mut state = self.guard()?;
        // Every check before the first write: a failed save changes nothing.
        if let Some(receipt) = &receipt {
            state.idempotency.check(receipt)?;
        }
        let stored_version = state
            .approvals
            .get(&approval.id())
            .map(ApprovalRequest::version);
        match (approval.version(), stored_version) {
            (1, Some(_)) => return Err(RepositoryError::Duplicate),
            (1, None) => {}
            (version, Some(stored)) if stored == version - 1 => {}
            _ => return Err(RepositoryError::Conflict),
        }
        let rows = NewOutboxMessage::from_events(
            &self.routes,
            AGGREGATE_TYPE,
            approval.id().as_uuid(),
            events,
        )?;
        state.approvals.insert(approval.id(), approval.clone());
        state.append_outbox(rows);
        state.answer(receipt);
        drop(state);
        // After the change is visible, so a woken reader sees it.
        self.changes
            .announce(AGGREGATE_TYPE, approval.id().as_uuid());
        Ok(())
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<ApprovalRequest>, RepositoryError> {
        let state = self.guard()?;
        Ok(state
            .approvals
            .values()
            .rev()
            .filter(|a| query.after.is_none_or(|after| a.id() < after))
            .filter(|a| query.status.is_none_or(|s| a.status() == s))
            .take(query.limit as usize)
            .cloned()
            .collect())
    }

    async fn overdue(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ApprovalId>, RepositoryError> {
        let state = self.guard()?;
        let expiries = state
            .approvals
            .values()
            .filter(|a| a.status() == Status::Pending)
            .map(|a| (a.expires_at(), a.id()));
        Ok(due_first(expiries, now, limit))
    }

    async fn reminders_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ApprovalId>, RepositoryError> {
        let state = self.guard()?;
        let reminders = state
            .approvals
            .values()
            .filter_map(|a| Some((a.next_reminder_at()?, a.id())));
        Ok(due_first(reminders, now, limit))
    }

    async fn next_deadline(&self) -> Result<Option<DateTime<Utc>>, RepositoryError> {
        let state = self.guard()?;
        Ok(state
            .approvals
            .values()
            .filter(|a| a.status() == Status::Pending)
            .flat_map(|a| [Some(a.expires_at()), a.next_reminder_at()])
            .flatten()
            .min())
    }
}

/// The ids whose deadline has come by `now`, earliest first (ties by id, as the SQL stores
/// order them), at most `limit`.
fn due_first(
    deadlines: impl Iterator<Item = (DateTime<Utc>, ApprovalId)>,
    now: DateTime<Utc>,
    limit: u32,
) -> Vec<ApprovalId> {
    let mut due: Vec<_> = deadlines.filter(|(at, _)| *at <= now).collect();
    due.sort();
    due.into_iter()
        .take(limit as usize)
        .map(|(_, id)| id)
        .collect()
}

impl State {
    /// Stores a saved change's answer; its claim was checked before the change was written.
    pub(crate) fn answer(&mut self, receipt: Option<Receipt>) {
        if let Some(receipt) = receipt {
            self.idempotency.answer(&receipt.claim, &receipt.response);
        }
    }
}

#[async_trait]
impl ApiKeyStore for MemoryStore {
    async fn insert(
        &self,
        record: &ApiKeyRecord,
        webhook_secret: &WebhookSecret,
    ) -> Result<(), RepositoryError> {
        let mut state = self.guard()?;
        if state.api_keys.contains_key(&record.name)
            || state.api_keys.values().any(|r| r.hash == record.hash)
        {
            return Err(RepositoryError::Duplicate);
        }
        state.api_keys.insert(record.name.clone(), record.clone());
        state.webhook_secrets.insert(
            record.name.clone(),
            WebhookSecrets {
                current: webhook_secret.clone(),
                previous: None,
            },
        );
        Ok(())
    }

    async fn webhook_secrets(
        &self,
        name: &Identity,
    ) -> Result<Option<WebhookSecrets>, RepositoryError> {
        Ok(self.guard()?.webhook_secrets.get(name).cloned())
    }

    async fn rotate_webhook_secret(
        &self,
        name: &Identity,
        secret: &WebhookSecret,
        previous_until: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        let mut state = self.guard()?;
        if !state.api_keys.contains_key(name) {
            return Ok(false);
        }
        let previous = state
            .webhook_secrets
            .remove(name)
            .map(|replaced| (replaced.current, previous_until));
        state.webhook_secrets.insert(
            name.clone(),
            WebhookSecrets {
                current: secret.clone(),
                previous,
            },
        );
        Ok(true)
    }

    async fn find_by_hash(
        &self,
        hash: &ApiKeyHash,
    ) -> Result<Option<ApiKeyRecord>, RepositoryError> {
        let state = self.guard()?;
        Ok(state.api_keys.values().find(|r| r.hash == *hash).cloned())
    }
}

#[async_trait]
impl ChatMessages for MemoryStore {
    async fn get(&self, aggregate_id: Uuid) -> Result<Option<MessageRef>, RepositoryError> {
        Ok(self.guard()?.messages.get(&aggregate_id).cloned())
    }

    async fn put(&self, aggregate_id: Uuid, message: &MessageRef) -> Result<(), RepositoryError> {
        self.guard()?.messages.insert(aggregate_id, message.clone());
        Ok(())
    }
}

#[async_trait]
impl application::ports::Readiness for MemoryStore {
    async fn check(&self) -> Result<(), RepositoryError> {
        self.guard().map(|_| ())
    }
}
