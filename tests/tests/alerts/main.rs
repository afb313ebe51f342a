//! The alert aggregate's integration tests, in one place: its stories end to end on every
//! backend, its message on every chat platform, and what each SQL store does with its rows.
//! Every aggregate keeps its own like this, so removing one removes its directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod chat_platforms;
mod e2e;
mod postgres;
mod sqlite;
