//! One mutex-guarded state for all stores, so a save, its outbox rows and its idempotency
//! receipt change together.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use adapter_change_hub::ChangeHub;
use application::ports::{
    AlertRepository, ApiKeyHash, ApiKeyRecord, ApiKeyStore, ApprovalRepository, ChatMessages,
    DeadLetter, DeadLetterSelection, DeliveryRoutes, ListQuery, MessageRef, NewOutboxMessage,
    Outbox, OutboxMessage, Receipt, RepositoryError, SinkStats,
};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use domain::{
    Alert, AlertEvent, AlertId, AlertStatus, ApprovalEvent, ApprovalId, ApprovalRequest, DedupKey,
    Identity, Status,
};
use uuid::Uuid;

use crate::idempotency::Records;

/// The `aggregate_type` of outbox rows written for approvals, and the kind their saves are
/// announced under.
const AGGREGATE_TYPE: &str = "approval";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowStatus {
    Pending,
    Delivered,
    Dead,
}

#[derive(Debug, Clone)]
struct OutboxRow {
    message: OutboxMessage,
    status: RowStatus,
    next_attempt_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
    last_error: Option<String>,
    finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    approvals: BTreeMap<ApprovalId, ApprovalRequest>,
    alerts: BTreeMap<AlertId, Alert>,
    outbox: BTreeMap<i64, OutboxRow>,
    next_outbox_id: i64,
    api_keys: HashMap<Identity, ApiKeyRecord>,
    messages: HashMap<Uuid, MessageRef>,
    pub(crate) idempotency: Records,
    /// When set, the next call fails with this error (fault injection for tests).
    fail_next: Option<RepositoryError>,
}

/// Every persistence port in memory. Clone the `Arc` to share one store between ports.
#[derive(Debug)]
pub struct MemoryStore {
    state: Mutex<State>,
    routes: DeliveryRoutes,
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
    /// The row with this id if it is still pending: delivered and dead rows are final.
    fn pending_row(&mut self, id: i64) -> Option<&mut OutboxRow> {
        self.outbox
            .get_mut(&id)
            .filter(|row| row.status == RowStatus::Pending)
    }

    /// Stores a saved change's answer; its claim was checked before the change was written.
    fn answer(&mut self, receipt: Option<Receipt>) {
        if let Some(receipt) = receipt {
            self.idempotency.answer(&receipt.claim, &receipt.response);
        }
    }

    fn append_outbox(&mut self, rows: Vec<NewOutboxMessage>) {
        for row in rows {
            self.next_outbox_id += 1;
            let id = self.next_outbox_id;
            self.outbox.insert(
                id,
                OutboxRow {
                    message: OutboxMessage {
                        id,
                        sink: row.sink.to_owned(),
                        aggregate_type: row.aggregate_type.to_owned(),
                        aggregate_id: row.aggregate_id,
                        event_type: row.event_type.to_owned(),
                        payload: row.payload,
                        attempts: 0,
                        created_at: row.at,
                        trying_since: row.at,
                    },
                    status: RowStatus::Pending,
                    next_attempt_at: row.at,
                    locked_until: None,
                    last_error: None,
                    finished_at: None,
                },
            );
        }
    }
}

#[async_trait]
impl AlertRepository for MemoryStore {
    async fn get(&self, id: AlertId) -> Result<Option<Alert>, RepositoryError> {
        Ok(self.guard()?.alerts.get(&id).cloned())
    }

    async fn find_unresolved(&self, key: &DedupKey) -> Result<Option<Alert>, RepositoryError> {
        Ok(self
            .guard()?
            .alerts
            .values()
            .find(|a| a.status() != AlertStatus::Resolved && a.state().dedup_key == *key)
            .cloned())
    }

    async fn save(
        &self,
        alert: &Alert,
        events: &[AlertEvent],
        receipt: Option<Receipt>,
    ) -> Result<(), RepositoryError> {
        let mut state = self.guard()?;
        // Every check before the first write: a failed save changes nothing.
        if let Some(receipt) = &receipt {
            state.idempotency.check(receipt)?;
        }
        let stored_version = state.alerts.get(&alert.id()).map(Alert::version);
        match (alert.version(), stored_version) {
            (1, Some(_)) => return Err(RepositoryError::Duplicate),
            (1, None) => {
                let key_taken = state.alerts.values().any(|a| {
                    a.status() != AlertStatus::Resolved
                        && a.state().dedup_key == alert.state().dedup_key
                });
                if key_taken {
                    return Err(RepositoryError::Duplicate);
                }
            }
            (version, Some(stored)) if stored == version - 1 => {}
            _ => return Err(RepositoryError::Conflict),
        }
        let rows =
            NewOutboxMessage::from_events(&self.routes, "alert", alert.id().as_uuid(), events)?;
        state.alerts.insert(alert.id(), alert.clone());
        state.append_outbox(rows);
        state.answer(receipt);
        Ok(())
    }
}

#[async_trait]
impl Outbox for MemoryStore {
    async fn claim(
        &self,
        sink: &str,
        now: DateTime<Utc>,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutboxMessage>, RepositoryError> {
        let mut state = self.guard()?;
        // The oldest pending row of each aggregate, for this sink, is the only candidate.
        let mut heads: HashMap<Uuid, i64> = HashMap::new();
        for row in state.outbox.values() {
            if row.status == RowStatus::Pending && row.message.sink == sink {
                heads
                    .entry(row.message.aggregate_id)
                    .or_insert(row.message.id);
            }
        }
        let locked_until = now
            .checked_add_signed(lease)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut claimed = Vec::new();
        for row in state.outbox.values_mut() {
            if claimed.len() >= limit as usize {
                break;
            }
            let is_head = heads.get(&row.message.aggregate_id) == Some(&row.message.id);
            let leased = row.locked_until.is_some_and(|until| until > now);
            if is_head && row.next_attempt_at <= now && !leased {
                row.locked_until = Some(locked_until);
                claimed.push(row.message.clone());
            }
        }
        Ok(claimed)
    }

    async fn extend(&self, ids: &[i64], until: DateTime<Utc>) -> Result<(), RepositoryError> {
        let mut state = self.guard()?;
        for id in ids {
            if let Some(row) = state
                .pending_row(*id)
                .filter(|row| row.locked_until.is_some())
            {
                row.locked_until = Some(until);
            }
        }
        Ok(())
    }

    async fn mark_delivered(&self, id: i64, now: DateTime<Utc>) -> Result<(), RepositoryError> {
        let mut state = self.guard()?;
        if let Some(row) = state.pending_row(id) {
            row.status = RowStatus::Delivered;
            row.locked_until = None;
            row.finished_at = Some(now);
        }
        Ok(())
    }

    async fn reschedule(
        &self,
        id: i64,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<(), RepositoryError> {
        let mut state = self.guard()?;
        if let Some(row) = state.pending_row(id) {
            row.message.attempts += 1;
            row.next_attempt_at = next_attempt_at;
            row.locked_until = None;
            row.last_error = Some(error.to_owned());
        }
        Ok(())
    }

    async fn release(&self, ids: &[i64], not_before: DateTime<Utc>) -> Result<(), RepositoryError> {
        let mut state = self.guard()?;
        for id in ids {
            if let Some(row) = state.pending_row(*id) {
                row.locked_until = None;
                row.next_attempt_at = row.next_attempt_at.max(not_before);
            }
        }
        Ok(())
    }

    async fn dead_letter(
        &self,
        id: i64,
        now: DateTime<Utc>,
        error: &str,
    ) -> Result<(), RepositoryError> {
        let mut state = self.guard()?;
        if let Some(row) = state.pending_row(id) {
            row.message.attempts += 1;
            row.status = RowStatus::Dead;
            row.locked_until = None;
            row.last_error = Some(error.to_owned());
            row.finished_at = Some(now);
        }
        Ok(())
    }

    async fn dead_letters(
        &self,
        sink: Option<String>,
        limit: u32,
    ) -> Result<Vec<DeadLetter>, RepositoryError> {
        let state = self.guard()?;
        Ok(state
            .outbox
            .values()
            .rev()
            .filter(|row| row.status == RowStatus::Dead)
            .filter(|row| sink.as_ref().is_none_or(|sink| row.message.sink == *sink))
            .take(limit as usize)
            .map(|row| DeadLetter {
                message: row.message.clone(),
                error: row.last_error.clone().unwrap_or_default(),
                failed_at: row.finished_at.unwrap_or(row.message.created_at),
            })
            .collect())
    }

    async fn retry_dead_letters(
        &self,
        selection: DeadLetterSelection,
        now: DateTime<Utc>,
    ) -> Result<u64, RepositoryError> {
        let mut state = self.guard()?;
        let mut retried = 0;
        for row in state.outbox.values_mut() {
            let selected = match &selection {
                DeadLetterSelection::Ids(ids) => ids.contains(&row.message.id),
                DeadLetterSelection::Sink(sink) => row.message.sink == *sink,
                DeadLetterSelection::All => true,
            };
            if selected && row.status == RowStatus::Dead {
                row.status = RowStatus::Pending;
                row.message.attempts = 0;
                row.message.trying_since = now;
                row.next_attempt_at = now;
                row.finished_at = None;
                retried += 1;
            }
        }
        Ok(retried)
    }

    async fn stats(&self) -> Result<Vec<SinkStats>, RepositoryError> {
        let state = self.guard()?;
        let mut by_sink: BTreeMap<&str, SinkStats> = BTreeMap::new();
        for row in state.outbox.values() {
            let stats = by_sink
                .entry(row.message.sink.as_str())
                .or_insert_with(|| SinkStats {
                    sink: row.message.sink.clone(),
                    pending: 0,
                    dead: 0,
                });
            match row.status {
                RowStatus::Pending => stats.pending += 1,
                RowStatus::Dead => stats.dead += 1,
                RowStatus::Delivered => {}
            }
        }
        Ok(by_sink.into_values().collect())
    }

    async fn purge_delivered(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<u64, RepositoryError> {
        let mut state = self.guard()?;
        // Ids come from a counter that never goes back, so deleting rows frees no id.
        let purged: Vec<i64> = state
            .outbox
            .iter()
            .filter(|(_, row)| {
                row.status == RowStatus::Delivered && row.finished_at.is_some_and(|at| at < before)
            })
            .map(|(&id, _)| id)
            .take(limit as usize)
            .collect();
        for id in &purged {
            state.outbox.remove(id);
        }
        Ok(purged.len() as u64)
    }
}

#[async_trait]
impl ApiKeyStore for MemoryStore {
    async fn insert(&self, record: &ApiKeyRecord) -> Result<(), RepositoryError> {
        let mut state = self.guard()?;
        if state.api_keys.contains_key(&record.name)
            || state.api_keys.values().any(|r| r.hash == record.hash)
        {
            return Err(RepositoryError::Duplicate);
        }
        state.api_keys.insert(record.name.clone(), record.clone());
        Ok(())
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
