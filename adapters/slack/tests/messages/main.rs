//! What Slack receives for an approval request's message in every state, as the gateway
//! posts it to a fake Slack. Each other aggregate's messages are tested in its own target.

// Test code: a panic is a failed test with a clear message, not a crashed service, and the
// clippy.toml allowances for tests only cover `#[test]` functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod approval;
#[path = "../fixtures/approval.rs"]
mod fixture;
mod sent;
