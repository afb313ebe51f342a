//! # adapter-postgres — the production store, on PostgreSQL
//!
//! [`PostgresStore`] implements every persistence port of `application::ports`:
//! [`ApprovalRepository`](application::ports::ApprovalRepository),
//! [`AlertRepository`](application::ports::AlertRepository),
//! [`Outbox`](application::ports::Outbox), [`ApiKeyStore`](application::ports::ApiKeyStore),
//! [`ChatMessages`](application::ports::ChatMessages),
//! [`IdempotencyStore`](application::ports::IdempotencyStore) and
//! [`Readiness`](application::ports::Readiness). The contract suites in `tests/` run the same
//! tests against it, the SQLite store and the in-memory fakes.
//!
//! What belongs here: SQL, the schema ([`MIGRATOR`], from `migrations/`), mapping rows to
//! domain types and back, and translating `sqlx::Error` into
//! [`RepositoryError`](application::ports::RepositoryError) (`errors.rs`) so nothing above
//! this crate ever sees a driver error. What does not: business rules (the domain decides,
//! this crate only stores), configuration parsing, and running migrations on its own — the
//! composition root calls [`PostgresStore::migrate`] when it decides to.
//!
//! Every static query goes through `sqlx::query!` / `query_as!` / `query_scalar!`, checked
//! against a real schema at compile time. Builds without a database use the offline cache in
//! the workspace's `.sqlx/`: after changing a query, run
//! `cargo sqlx prepare --workspace -- --all-targets` against a migrated database and commit
//! the result (`scripts/check-sqlx-cache.sh` fails CI when it is stale).

mod alerts;
mod api_keys;
mod approvals;
mod chat_messages;
mod errors;
mod idempotency;
mod outbox;
mod store;

pub use store::{PoolSettings, PoolStats, PostgresStore};

/// The schema, embedded from `migrations/` at compile time. Run it with
/// [`PostgresStore::migrate`]; [`Readiness`](application::ports::Readiness) reports an
/// instance not ready until all of it is applied.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
