//! Calling the requester back: when an aggregate settles, POST a signed event to the
//! callback URL its requester gave (Standard Webhooks), through the outbox like any other
//! delivery.
//!
//! Each aggregate that calls back says so in one module of its own ([`approval`]): which of
//! its events settle it, and for one of them, where to call, on whose behalf, and what the
//! event's `data` is. The [`CallbackSubjects`] registry holds them; the composition root
//! registers each with one line. Everything else here is generic and names no aggregate:
//!
//! - [`CallbackSink`] delivers an outbox event: it asks the aggregate's entry for the
//!   callback, wraps its `data` as `{"type", "timestamp", "data"}`, finds the requester's
//!   webhook secrets, and hands the bytes to the `CallbackSender` port, which signs and
//!   POSTs them.
//!
//! What does not belong here: HTTP, signatures, address rules (the webhook adapter), and
//! which events reach the sink (the sink's route in the composition root).

pub mod approval;
mod sink;
mod subject;

pub use sink::{CallbackSink, webhook_id};
pub use subject::{CallbackEvent, CallbackSubject, CallbackSubjects, Recipient};

#[cfg(any(test, feature = "mocks"))]
pub use subject::MockCallbackSubject;
