//! # tests — tests that span crates
//!
//! What belongs here: the **port contract suites** ([`contract`]) — one generic test per rule
//! of a driven port, written once and run against every adapter that implements it (the
//! files in `tests/tests/contract_*.rs`) — the helpers that give each of those tests a fresh
//! store ([`backends`], [`postgres`]), end-to-end tests, and the architecture test. What does
//! not: tests of one crate's internals, which live next to the code they test.
//!
//! The contract suites are why the in-memory fakes can be trusted in use-case tests, and why
//! SQLite can use runtime-checked SQL: any behaviour that differs from the port's documented
//! contract fails here, for the adapter that got it wrong.
//!
//! PostgreSQL tests need a server. [`postgres`] finds one (or starts a throw-away one) on its
//! own, so `cargo test --workspace` is all a newcomer runs.

// This crate is test code: a panic is a failed test with a clear message, not a crashed
// service, and the clippy.toml allowances for tests only cover `#[cfg(test)]` code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod backends;
pub mod contract;
pub mod e2e;
pub mod plans;
pub mod postgres;
pub mod sinks;
