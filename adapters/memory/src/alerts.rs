//! The alert repository in memory: optimistic concurrency, and at most one unresolved alert
//! per dedup key, as the SQL stores' unique index enforces it.

use application::ports::{AlertRepository, NewOutboxMessage, Receipt, RepositoryError};
use async_trait::async_trait;
use domain::{Alert, AlertEvent, AlertId, AlertStatus, DedupKey};

use crate::MemoryStore;

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
