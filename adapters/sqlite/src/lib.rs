//! # adapter-sqlite — the embedded default store, on SQLite
//!
//! [`SqliteStore`] implements every persistence port of `application::ports`:
//! [`ApprovalRepository`](application::ports::ApprovalRepository),
//! [`AlertRepository`](application::ports::AlertRepository),
//! [`Outbox`](application::ports::Outbox), [`ApiKeyStore`](application::ports::ApiKeyStore),
//! [`ChatMessages`](application::ports::ChatMessages),
//! [`IdempotencyStore`](application::ports::IdempotencyStore),
//! [`Readiness`](application::ports::Readiness) and
//! [`ChangeFeed`](application::ports::ChangeFeed). It is what `cargo run` uses with no
//! configuration: one local file, created if missing, in WAL mode. The contract suites in
//! `tests/` hold it to exactly the behaviour of the PostgreSQL store and the in-memory fakes.
//!
//! What belongs here: SQL, the schema ([`MIGRATOR`], from `migrations/`), the pool, and the
//! conversions only SQLite needs: times as integer microseconds (`time.rs`), arrays as JSON
//! (`approvals/row.rs`). What the SQL stores share — the rows in driver-neutral types,
//! mapping them to domain types and back, the stored formats, translating `sqlx::Error` into
//! [`RepositoryError`](application::ports::RepositoryError) — lives once in `sql-support`.
//! What does not belong here: business rules, configuration parsing, and running migrations
//! on its own — the composition root calls [`SqliteStore::migrate`].
//!
//! **Change feed.** A saved approval is announced after its commit to an in-process hub
//! (`changes.rs`), which wakes the long-polls of this process. Another process writing the
//! same file (a relay, a CLI command) wakes nobody here; their waits end at their timeout
//! with the current state. Several serving instances want PostgreSQL.
//!
//! **Why runtime-checked queries here** (`sqlx::query` / `query_as` with `FromRow` rows) when
//! the PostgreSQL adapter uses the compile-time checked macros: `cargo sqlx prepare
//! --workspace` checks every macro in the workspace against the one database named by
//! `DATABASE_URL`, so only one backend can have compile-time checked SQL. PostgreSQL, the
//! production store, gets it; this crate's SQL is kept honest by the contract suites, which
//! run every query against a real SQLite file.
//!
//! **Concurrency.** SQLite has one writer at a time, so the store has one writing connection
//! (`SqliteStore::writer`) beside a few reading ones (`readers`), and every write of this
//! process goes through it. Writers of the process then wait their turn for that connection,
//! in arrival order, instead of contending for the file's write lock — whose busy handler
//! sleeps and retries, which under 16 concurrent writers gave creates a p99 of 150 ms and
//! more. The busy timeout is still there for the writers of *other* processes (a separate
//! relay process, a CLI command). A single write statement takes the write lock before it
//! reads anything. A multi-statement write (`save`) runs in a `BEGIN IMMEDIATE` transaction,
//! which takes the lock at `BEGIN`, so everything the transaction reads — the version it
//! checks included — is read under the lock and cannot change before the commit. (A plain
//! deferred `BEGIN` that read first would fail with `SQLITE_BUSY` when it tried to write
//! after another writer committed, and no busy timeout helps with that.) Code holding the
//! writer must never ask for it again: with one connection, that waits forever.

mod alerts;
mod api_keys;
mod approvals;
mod changes;
mod chat_messages;
mod errors;
mod idempotency;
mod outbox;
mod store;
mod time;

pub use approvals::NEXT_DEADLINE;
pub use outbox::OUTBOX_CLAIM;
pub use sql_support::PoolStats;
pub use store::SqliteStore;

/// The schema, embedded from `migrations/` at compile time. Run it with
/// [`SqliteStore::migrate`]; [`Readiness`](application::ports::Readiness) reports a store
/// not ready until all of it is applied.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
