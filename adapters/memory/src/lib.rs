//! # adapter-memory — in-memory implementations of every driven port
//!
//! Honest fakes: they enforce the same contracts as the SQL stores (optimistic concurrency,
//! atomic writes of state, outbox rows and idempotency receipts, per-aggregate outbox
//! ordering, leases, fenced idempotency claims), and the contract suites in `tests/` run
//! against them beside SQLite and Postgres to prove it. Use them in tests that check *state*
//! ("after deciding, the request is approved") and for demos.
//!
//! Saved approvals are announced on an in-process change feed (`changes.rs`), which is all
//! a store with no other process behind it needs.
//!
//! What does not belong here: anything durable. A process restart forgets everything.

mod alerts;
mod changes;
mod idempotency;
mod outbox;
mod store;
mod system;

pub use store::{Contents, MemoryStore};
pub use system::{AnyCallbackUrl, EveryPlatform, ManualClock, SequentialIds};
