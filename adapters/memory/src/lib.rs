//! # adapter-memory — in-memory implementations of every driven port
//!
//! Honest fakes: they enforce the same contracts as the SQL stores (optimistic concurrency,
//! atomic state + outbox writes, per-aggregate outbox ordering, leases), and the contract
//! suites in `tests/` run against them beside SQLite and Postgres to prove it. Use them in
//! tests that check *state* ("after deciding, the request is approved") and for demos.
//!
//! What does not belong here: anything durable. A process restart forgets everything.

mod idempotency;
mod store;
mod system;

pub use idempotency::MemoryIdempotency;
pub use store::MemoryStore;
pub use system::{ManualClock, SequentialIds};
