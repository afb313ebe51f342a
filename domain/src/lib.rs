//! # domain — the approval rules, and nothing else
//!
//! This crate holds the business vocabulary of the service: approval requests, their policy,
//! the decisions people make, alerts and their deduplication, and the events a change of
//! state raises. Everything here is a pure value or a pure method: no async, no I/O, no
//! clock, no framework. Time and ids come in as arguments, so every rule is a plain function
//! a unit test can call.
//!
//! What belongs here: validated newtypes (a [`Title`] can only exist if it is valid), the
//! [`ApprovalRequest`] aggregate with its state machine, typed errors that name the rule that
//! refused. What does not: persistence, HTTP, chat formatting, configuration — those live in
//! adapters, which translate to and from these types at the edge.

mod alert;
mod approval;
mod event;
mod identity;
mod validation;
mod values;

pub use alert::{
    Alert, AlertError, AlertEvent, AlertId, AlertState, AlertStatus, DedupKey, NewAlert, Severity,
    TransitionOutcome, UnknownSeverity,
};
pub use approval::{
    ApprovalEvent, ApprovalId, ApprovalRequest, ApprovalState, CallbackUrl, CancelError, Comment,
    DecideOutcome, Decision, DecisionError, ExpireError, Metadata, NewApproval, Policy,
    RemindAfter, RemindError, Reminder, RequiredApprovals, Status, Ttl, UnknownStatus, Verdict,
};
pub use event::DomainEvent;
pub use identity::Identity;
pub use validation::{
    CONTROL_CHARACTERS, FORMAT_CHARACTERS, LINE_BREAKS_AND_TAB, ValidationError, Violation,
};
pub use values::{ChatDestination, Description, Title};
