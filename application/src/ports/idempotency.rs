//! Idempotency keys for the REST API (IETF draft `Idempotency-Key`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{Identity, ValidationError, Violation};

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

/// What the store says about a key a request presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First use (or the previous holder's lock ran out): the caller now holds the key and
    /// must `complete` or `release` it.
    Acquired,
    /// A request with this key and the same fingerprint already completed: replay this.
    Completed(StoredResponse),
    /// A request with this key is still being processed.
    InFlight,
    /// The key was used with a different request (method, path or body).
    Mismatch,
}

/// Remembers which keys each client used, with the response to replay.
///
/// Keys are scoped to the client (the API key's identity): two clients may use the same key.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Atomically claims `key` for `scope`, or reports who has it.
    ///
    /// A new key is stored as in flight, locked until `locked_until`, and kept until
    /// `expires_at`. An in-flight record whose lock has run out (its holder died) is taken
    /// over. Of two concurrent calls with the same new key exactly one gets `Acquired`.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn claim(
        &self,
        scope: &Identity,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: DateTime<Utc>,
        locked_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<Claim, RepositoryError>;

    /// Stores the response of a claimed key; later claims replay it.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn complete(
        &self,
        scope: &Identity,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> Result<(), RepositoryError>;

    /// Forgets a claimed, unfinished key so the client can retry (the request failed in a
    /// way that changed nothing, e.g. the store was down).
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    async fn release(&self, scope: &Identity, key: &IdempotencyKey) -> Result<(), RepositoryError>;

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
