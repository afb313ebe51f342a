//! Idempotency keys for the REST API (IETF draft `Idempotency-Key`).
//!
//! A request that carries a key first *claims* it ([`IdempotencyStore::claim`]) under a
//! [`KeyClaim`] whose token is unique to that request. Everything the request writes later
//! names that token:
//!
//! - a change stores its answer in the same transaction as the change, as a [`Receipt`]
//!   passed to the repository's `save`, so a change never commits without the answer a
//!   retry will replay;
//! - an answer that changed nothing (a refusal, a repeated verdict) is stored on its own
//!   with [`IdempotencyStore::complete`];
//! - an answer not worth keeping (an outage, a lost race) gives the key back with
//!   [`IdempotencyStore::release`].
//!
//! A request that stalls past its lock may have its key taken over by a retry, which gets a
//! new token; the stalled request's writes then find a token that is not theirs and change
//! nothing. That is what makes "exactly one execution" hold even then.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{Identity, ValidationError, Violation};
use uuid::Uuid;

use super::RepositoryError;

/// A client-chosen key: 1–255 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_CHARS: usize = 255;

    /// # Errors
    /// `Empty`, `TooLong`, or `Format` for characters outside printable ASCII.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "Idempotency-Key";
        if raw.is_empty() {
            return Err(ValidationError {
                field: FIELD,
                violation: Violation::Empty,
            });
        }
        if raw.len() > Self::MAX_CHARS {
            return Err(ValidationError {
                field: FIELD,
                violation: Violation::TooLong {
                    max: Self::MAX_CHARS,
                },
            });
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(ValidationError {
                field: FIELD,
                violation: Violation::Format("must be printable ASCII"),
            });
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A response as it was first sent, to replay to retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    /// Only the headers worth replaying (content type, location).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// One request's claim on a key: the client the key belongs to, the key, and a token that
/// is unique to this claim.
///
/// The token is a fencing token. When a claim's lock runs out and another request takes the
/// key over, the new claim has a new token, so every later write of the first request (a
/// [`Receipt`], [`complete`](IdempotencyStore::complete),
/// [`release`](IdempotencyStore::release)) finds a different token and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyClaim {
    pub scope: Identity,
    pub key: IdempotencyKey,
    pub token: Uuid,
}

/// The answer to an idempotent request, stored in the same transaction as the change it
/// reports (see `ApprovalRepository::save`), so the change and the answer a retry replays
/// commit together or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The claim the answering request holds.
    pub claim: KeyClaim,
    pub response: StoredResponse,
}

/// What the store says about a key a request presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First use (or the previous holder's lock ran out): the caller now holds the key and
    /// must `complete` or `release` it.
    Acquired,
    /// A request with this key and the same fingerprint already completed: replay this.
    Completed(StoredResponse),
    /// A request with this key is still being processed. Its lock runs out at
    /// `locked_until`: by then it has answered, or a retry takes the key over.
    InFlight { locked_until: DateTime<Utc> },
    /// The key was used with a different request (method, path or body).
    Mismatch,
}

/// Remembers which keys each client used, with the response to replay.
///
/// Keys are scoped to the client (the API key's identity): two clients may use the same key.
/// A record is in flight until it has a response; the response is written either here, by
/// [`complete`](Self::complete), or with the change it reports, by a repository's `save` with
/// a [`Receipt`]. Both write it only for the claim that holds the key.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Atomically claims `claim.key` for `claim.scope` under `claim.token`, or reports who has
    /// it.
    ///
    /// A new key is stored as in flight, locked until `locked_until`, and kept until
    /// `expires_at`. An in-flight record whose lock has run out (its holder died or stalled)
    /// is taken over by a claim with the same fingerprint, which replaces the token. Of two
    /// concurrent calls with the same new key exactly one gets `Acquired`. `InFlight` carries
    /// the holder's `locked_until`; when the holder could not be read (the key changed hands
    /// repeatedly while claiming), the `locked_until` this claim asked for, which is as long
    /// as any lock the service hands out.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn claim(
        &self,
        claim: &KeyClaim,
        fingerprint: &str,
        now: DateTime<Utc>,
        locked_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<Claim, RepositoryError>;

    /// Stores `response` as the answer of the key `claim` holds; later claims replay it.
    ///
    /// For answers that changed nothing; a change stores its answer with a [`Receipt`]. Does
    /// nothing when the key has its answer already (a `save` stored it) or when `claim` no
    /// longer holds the key (it was taken over, released or purged): the holder's answer is
    /// the one to replay.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn complete(
        &self,
        claim: &KeyClaim,
        response: &StoredResponse,
    ) -> Result<(), RepositoryError>;

    /// Forgets the key so the client can retry, when `claim` still holds it and it has no
    /// answer yet (the request failed in a way that changed nothing, e.g. the store was
    /// down). Otherwise does nothing: an answer keeps replaying, and another holder's claim
    /// stays.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn release(&self, claim: &KeyClaim) -> Result<(), RepositoryError>;

    /// Deletes every record whose `expires_at` is at or before `now`; returns how many.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, RepositoryError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_printable_ascii() {
        assert!(IdempotencyKey::parse("8e03978e-40d5-43e8-bc93-6894a57f9324").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("tab\there").is_err());
        assert!(IdempotencyKey::parse("ключ").is_err());
    }
}
