//! A PostgreSQL database per test, on whatever server this machine offers.
//!
//! [`TestDatabase::create`] finds a server once per test process, in this order:
//!
//! 1. `DATABASE_URL`, if set (it must be a `postgres://` URL);
//! 2. `postgres://postgres@127.0.0.1:5432/postgres`, if it answers;
//! 3. a throw-away cluster under `target/test-postgres/`, started with the installed
//!    `initdb`/`pg_ctl` and left running for the next test run (see `cluster.rs`);
//!
//! and otherwise fails the test with one line on how to install PostgreSQL. It never skips:
//! a PostgreSQL test that did not run must not look like one that passed.
//!
//! Each test then gets its own database, `svc_test_<uuid v7>`, dropped when the test
//! ends — passed or failed. Databases left behind by a killed test run are dropped by the
//! next run once they are an hour old (the UUID v7 in the name says when it was created).

mod cluster;
mod database;
mod server;

pub use database::TestDatabase;
pub use server::server_url;

/// A local port nothing listens on, for a server that is gone: the port is bound and
/// released again, so a connection there is refused.
pub async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}
