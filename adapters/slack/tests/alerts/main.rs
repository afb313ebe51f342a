//! The alert aggregate's tests of the Slack adapter, in one place: its Block Kit in every
//! state, its buttons and commands through the signed routes, and its messages through the
//! gateway. Every aggregate keeps its own like this, so removing one removes its directory;
//! the fakes and helpers are the ones the other test targets use.

// Test code: a panic is a failed test with a clear message, not a crashed service, and the
// clippy.toml allowances for tests only cover `#[test]` functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../web_api/fake_web_api.rs"]
#[allow(
    dead_code,
    reason = "shared with the gateway tests, which use all of it"
)]
mod fake_web_api;
#[path = "../messages/sent.rs"]
mod sent;
#[path = "../inbound/support.rs"]
#[allow(
    dead_code,
    reason = "shared with the inbound tests, which use all of it"
)]
mod support;

mod inbound;
mod messages;
mod web_api;
