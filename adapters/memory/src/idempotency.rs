//! Idempotency records in memory, with the same claim semantics as the SQL stores. They live
//! in the store's one state, so a save stores its receipt under the same lock as its change.

use std::collections::HashMap;

use application::ports::{
    Claim, IdempotencyKey, IdempotencyStore, KeyClaim, Receipt, RepositoryError, StoredResponse,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Identity;
use uuid::Uuid;

use crate::MemoryStore;

#[derive(Debug, Clone)]
struct Record {
    fingerprint: String,
    /// The token of the claim that holds the key.
    token: Uuid,
    response: Option<StoredResponse>,
    locked_until: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

impl Record {
    /// Whether `claim` holds this record's key and the key has no answer yet: the only case
    /// in which the claim may answer or release it.
    fn is_open_to(&self, claim: &KeyClaim) -> bool {
        self.token == claim.token && self.response.is_none()
    }
}

/// Every client's records, keyed by (client, key).
#[derive(Debug, Default)]
pub(crate) struct Records(HashMap<(Identity, IdempotencyKey), Record>);

impl Records {
    fn holds_unanswered(&self, claim: &KeyClaim) -> bool {
        self.0.get(&id(claim)).is_some_and(|r| r.is_open_to(claim))
    }

    /// Checks that `receipt` can be stored, before anything of its save is written.
    ///
    /// # Errors
    /// `ClaimLost` when its claim no longer holds the key, or the key already has an answer.
    pub(crate) fn check(&self, receipt: &Receipt) -> Result<(), RepositoryError> {
        if self.holds_unanswered(&receipt.claim) {
            Ok(())
        } else {
            Err(RepositoryError::ClaimLost)
        }
    }

    /// Stores the answer of the key `claim` holds, if it still holds it unanswered.
    pub(crate) fn answer(&mut self, claim: &KeyClaim, response: &StoredResponse) {
        if let Some(record) = self.0.get_mut(&id(claim)).filter(|r| r.is_open_to(claim)) {
            record.response = Some(response.clone());
        }
    }
}

fn id(claim: &KeyClaim) -> (Identity, IdempotencyKey) {
    (claim.scope.clone(), claim.key.clone())
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim(
        &self,
        claim: &KeyClaim,
        fingerprint: &str,
        now: DateTime<Utc>,
        locked_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<Claim, RepositoryError> {
        let mut state = self.guard()?;
        let records = &mut state.idempotency.0;
        if let Some(record) = records.get(&id(claim)).filter(|r| r.expires_at > now) {
            if record.fingerprint != fingerprint {
                return Ok(Claim::Mismatch);
            }
            if let Some(response) = &record.response {
                return Ok(Claim::Completed(response.clone()));
            }
            if record.locked_until > now {
                return Ok(Claim::InFlight {
                    locked_until: record.locked_until,
                });
            }
        }
        // New, expired, or abandoned: this claim holds it now, under its own token.
        records.insert(
            id(claim),
            Record {
                fingerprint: fingerprint.to_owned(),
                token: claim.token,
                response: None,
                locked_until,
                expires_at,
            },
        );
        Ok(Claim::Acquired)
    }

    async fn complete(
        &self,
        claim: &KeyClaim,
        response: &StoredResponse,
    ) -> Result<(), RepositoryError> {
        self.guard()?.idempotency.answer(claim, response);
        Ok(())
    }

    async fn release(&self, claim: &KeyClaim) -> Result<(), RepositoryError> {
        let mut state = self.guard()?;
        if state.idempotency.holds_unanswered(claim) {
            state.idempotency.0.remove(&id(claim));
        }
        Ok(())
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let mut state = self.guard()?;
        let records = &mut state.idempotency.0;
        let before = records.len();
        records.retain(|_, r| r.expires_at > now);
        Ok((before - records.len()) as u64)
    }
}
