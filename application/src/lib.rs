//! # application — use cases and the ports they drive
//!
//! A use case is one thing a user of the service can do (create an approval, decide it, …). It
//! loads aggregates through a port, calls a domain method, and stores the result through a
//! port. It knows *that* approvals are stored and messages are sent, never *how*.
//!
//! What belongs here: one module per use case under [`use_cases`], each with its own error enum;
//! the driven ports under [`ports`] (async traits whose docs state their error contract); the
//! [`UseCases`] bundle that inbound adapters hold; [`chat`], how each aggregate shows in chat
//! and how chat actions reach its use cases, platform-neutral. What does not: SQL, HTTP,
//! Slack, tokio. This crate depends on `domain` and small abstractions only — the architecture test in
//! `tests/` fails the build otherwise.
//!
//! With the `mocks` feature every port also exports a mockall `Mock*` type, for tests in other
//! crates that check interactions ("the gateway was called once").

pub mod chat;
pub mod ports;
pub mod use_cases;

mod wiring;

pub use wiring::{Ports, Repositories, SinkRelay, UseCases};
