//! Black-box tests of the REST adapter: the real router, driven in process with
//! `tower::ServiceExt::oneshot`, over the in-memory store. Only the crate's public API is
//! used, exactly as the composition root uses it.

// clippy.toml lets tests unwrap and panic, but clippy only recognises `#[test]` functions and
// `#[cfg(test)]` modules as tests, not the helpers of an integration test crate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a failed test with a clear message"
)]

mod alerts;
mod approvals;
mod auth;
mod bad_input;
mod idempotency;
mod long_poll;
mod observability;
mod openapi;
mod operations;
#[path = "../support/mod.rs"]
mod support;

/// The operations of every aggregate's routes, each listed by its own test module; the
/// OpenAPI test checks that the document describes exactly these and the shared ones.
const AGGREGATE_OPERATIONS: [&[(&str, &str)]; 2] = [approvals::OPERATIONS, alerts::OPERATIONS];
