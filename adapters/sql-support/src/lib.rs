//! # sql-support — what the SQL stores share, written once
//!
//! The SQLite and PostgreSQL adapters keep the same aggregates in the same tables. Whatever in
//! that does not depend on the driver lives here, so the two differ only in their SQL, their
//! transactions and their type conversions:
//!
//! - **Row mapping**: each aggregate's row in driver-neutral Rust types ([`ApprovalRow`],
//!   [`AlertRow`], [`IdempotencyHolder`]) and the mapping between it and the domain, which
//!   re-validates every field on the way back so a row edited by hand into something the
//!   domain forbids is `Corrupt`, never loaded.
//! - **Stored formats**: the status, verdict and severity strings, the JSON shapes of metadata,
//!   decisions and replayed headers, what a stored response looks like.
//! - **The write of a save**: [`Save`] writes the idempotent request's answer, the
//!   aggregate's row (inserted, or updated only where it still holds the version the change
//!   was based on, else `Conflict`) and its outbox rows, in that order, on the transaction
//!   the driver opened; the driver supplies the statements ([`SaveStatements`],
//!   [`RowStatements`]).
//! - **The outbox**: the row the relay reads back ([`OutboxRow`]), how far a lease reaches,
//!   the filters of a re-drive of dead letters, a sink's counts.
//! - **Driver errors**: [`translate`] turns a `sqlx::Error` into a
//!   [`RepositoryError`](application::ports::RepositoryError) by its driver-neutral kind
//!   (unique violation → `Duplicate`, pool timeout → `Unavailable`, undecodable row →
//!   `Corrupt`, …).
//! - **Migrations and readiness**: applying the embedded migrations ([`migrate`]),
//!   comparing the ones a database has applied with them within a timeout
//!   ([`check_ready`], [`check_migrations`]), and [`PoolStats`].
//!
//! What does not belong here: SQL text, opening or configuring pools, drivers (this crate
//! enables no sqlx driver feature), and the conversions only one database needs — SQLite's
//! integer microseconds and JSON-encoded arrays stay in `adapter-sqlite`, PostgreSQL's
//! SQLSTATE codes in `adapter-postgres`. Both adapters depend on this crate; it depends on no
//! adapter, which `tests/tests/architecture.rs` checks (`SUPPORT_CRATES`).

mod alerts;
mod api_keys;
mod approvals;
mod concurrency;
mod errors;
mod idempotency;
mod outbox;
mod readiness;
mod save;

pub use alerts::AlertRow;
pub use api_keys::{api_key_record, webhook_secrets};
pub use approvals::{ApprovalRow, keyset_page};
pub use errors::{corrupt, translate};
pub use idempotency::{IdempotencyHolder, receipt_stored, response_headers};
pub use outbox::{OutboxRow, dead_letter_filter, lease_end, sink_stats};
pub use readiness::{PoolStats, check_migrations, check_ready, migrate};
pub use save::{AggregateRow, RowStatements, Save, SaveStatements};
