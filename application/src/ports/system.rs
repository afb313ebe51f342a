//! Time and randomness as ports, so every use case test is deterministic.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The current time.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Fresh identifiers and secrets.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// A new time-ordered id (UUID v7), unique across processes.
    fn new_id(&self) -> Uuid;

    /// A new secret with at least 256 bits of entropy, printable, for API keys.
    fn new_secret(&self) -> String;
}
