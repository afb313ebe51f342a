//! Idempotency records in memory, with the same claim semantics as the SQL stores.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use application::ports::{
    Claim, IdempotencyKey, IdempotencyStore, RepositoryError, StoredResponse,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Identity;

#[derive(Debug, Clone)]
struct Record {
    fingerprint: String,
    response: Option<StoredResponse>,
    locked_until: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

/// Idempotency records keyed by (client, key).
#[derive(Debug, Default)]
pub struct MemoryIdempotency {
    records: Mutex<HashMap<(Identity, IdempotencyKey), Record>>,
}

impl MemoryIdempotency {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotency {
    async fn claim(
        &self,
        scope: &Identity,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: DateTime<Utc>,
        locked_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<Claim, RepositoryError> {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        let id = (scope.clone(), key.clone());
        if let Some(record) = records.get(&id).filter(|r| r.expires_at > now) {
            if record.fingerprint != fingerprint {
                return Ok(Claim::Mismatch);
            }
            if let Some(response) = &record.response {
                return Ok(Claim::Completed(response.clone()));
            }
            if record.locked_until > now {
                return Ok(Claim::InFlight);
            }
        }
        records.insert(
            id,
            Record {
                fingerprint: fingerprint.to_owned(),
                response: None,
                locked_until,
                expires_at,
            },
        );
        Ok(Claim::Acquired)
    }

    async fn complete(
        &self,
        scope: &Identity,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> Result<(), RepositoryError> {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(record) = records.get_mut(&(scope.clone(), key.clone())) {
            record.response = Some(response.clone());
        }
        Ok(())
    }

    async fn release(&self, scope: &Identity, key: &IdempotencyKey) -> Result<(), RepositoryError> {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        let id = (scope.clone(), key.clone());
        if records.get(&id).is_some_and(|r| r.response.is_none()) {
            records.remove(&id);
        }
        Ok(())
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        let before = records.len();
        records.retain(|_, r| r.expires_at > now);
        Ok((before - records.len()) as u64)
    }
}
