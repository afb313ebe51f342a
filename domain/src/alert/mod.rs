//! The alert aggregate: something is wrong, tell the humans once, not a hundred times.

mod aggregate;
mod event;

pub use aggregate::{
    Alert, AlertError, AlertId, AlertState, AlertStatus, DedupKey, NewAlert, Severity,
    TransitionOutcome, UnknownSeverity,
};
pub use event::AlertEvent;
