//! What every domain event has in common, for the code that stores events generically.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A domain event as the outbox sees it: a stable name, when it happened, and a serialized
/// form (the payload). Implemented by each aggregate's event enum, beside it.
pub trait DomainEvent: Serialize {
    /// A stable dotted name, e.g. `approval.approved`, stored beside the payload.
    fn event_type(&self) -> &'static str;

    /// When it happened (the use case's clock at the time of the change).
    fn at(&self) -> DateTime<Utc>;
}
