//! # adapter-postgres — the production store, on PostgreSQL
//!
//! [`PostgresStore`] implements every persistence port of `application::ports`:
//! [`ApprovalRepository`](application::ports::ApprovalRepository),
//! [`AlertRepository`](application::ports::AlertRepository),
//! [`Outbox`](application::ports::Outbox), [`ApiKeyStore`](application::ports::ApiKeyStore),
//! [`ChatMessages`](application::ports::ChatMessages),
//! [`IdempotencyStore`](application::ports::IdempotencyStore),
//! [`Readiness`](application::ports::Readiness) and
//! [`ChangeFeed`](application::ports::ChangeFeed) (`NOTIFY` with each save, one `LISTEN`
//! per process: `changes.rs`). The contract suites in `tests/` run the same
//! tests against it, the SQLite store and the in-memory fakes.
//!
//! What belongs here: SQL, the schema ([`MIGRATOR`], from `migrations/`), the pool, and what
//! only PostgreSQL needs (its SQLSTATE codes, in `errors.rs`). What the SQL stores share —
//! the rows in driver-neutral types, mapping them to domain types and back, the stored
//! formats, translating `sqlx::Error` into
//! [`RepositoryError`](application::ports::RepositoryError) — lives once in `sql-support`;
//! its rows are PostgreSQL's own column types, so `query_as!` fills them directly. What does
//! not belong here: business rules (the domain decides, this crate only stores),
//! configuration parsing, and running migrations on its own — the composition root calls
//! [`PostgresStore::migrate`] when it decides to.
//!
//! Every static query goes through `sqlx::query!` / `query_as!` / `query_scalar!`, checked
//! against a real schema at compile time — except two, each saying why: the outbox claim,
//! [`OUTBOX_CLAIM`], a constant so that a test can `EXPLAIN` it (the contract suite covers
//! what it returns), and the pool's check of released connections, which must be a simple
//! query (`store.rs`). Builds without a database use the offline cache in
//! the workspace's `.sqlx/`: after changing a query, run
//! `cargo sqlx prepare --workspace -- --all-targets` against a migrated database and commit
//! the result (`scripts/check-sqlx-cache.sh` fails CI when it is stale).

mod alerts;
mod api_keys;
mod approvals;
mod changes;
mod chat_messages;
mod errors;
mod idempotency;
mod outbox;
mod store;

pub use outbox::OUTBOX_CLAIM;
pub use sql_support::PoolStats;
pub use store::{PoolSettings, PostgresStore};

/// The schema, embedded from `migrations/` at compile time. Run it with
/// [`PostgresStore::migrate`]; [`Readiness`](application::ports::Readiness) reports an
/// instance not ready until all of it is applied.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
