//! The Slack routes end to end, in process: requests signed like Slack signs them go in,
//! decisions come out in the in-memory store, and Slack itself is never called. Each other
//! aggregate's buttons and commands are tested in its own target.

// Test code: a panic is a failed test with a clear message, not a crashed service, and the
// clippy.toml allowances for tests only cover `#[test]` functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod commands;
mod interactions;
mod signatures;
mod support;
