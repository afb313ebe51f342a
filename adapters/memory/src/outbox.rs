//! The outbox in memory: a row per (event, sink), claimed oldest first per aggregate and
//! sink under a lease, like the SQL stores' claim.

use std::collections::{BTreeMap, HashMap};

use application::ports::{
    DeadLetter, DeadLetterSelection, NewOutboxMessage, Outbox, OutboxMessage, RepositoryError,
    SinkStats,
};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::MemoryStore;
use crate::store::State;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowStatus {
    Pending,
    Delivered,
    Dead,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OutboxRow {
    pub(crate) message: OutboxMessage,
    pub(crate) status: RowStatus,
    pub(crate) next_attempt_at: DateTime<Utc>,
    pub(crate) locked_until: Option<DateTime<Utc>>,
    pub(crate) last_error: Option<String>,
    pub(crate) finished_at: Option<DateTime<Utc>>,
}

impl State {
    /// The row with this id if it is still pending: delivered and dead rows are final.
    pub(crate) fn pending_row(&mut self, id: i64) -> Option<&mut OutboxRow> {
        self.outbox
            .get_mut(&id)
            .filter(|row| row.status == RowStatus::Pending)
    }

    pub(crate) fn append_outbox(&mut self, rows: Vec<NewOutboxMessage>) {
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

    async fn mark_delivered(&self, ids: &[i64], now: DateTime<Utc>) -> Result<(), RepositoryError> {
        let mut state = self.guard()?;
        for id in ids {
            if let Some(row) = state.pending_row(*id) {
                row.status = RowStatus::Delivered;
                row.locked_until = None;
                row.finished_at = Some(now);
            }
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
