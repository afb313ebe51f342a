//! The store itself: opening the file, migrating, and telling whether it is ready.

use std::str::FromStr;
use std::time::Duration;

use adapter_change_hub::ChangeHub;
use application::ports::{DeliveryRoutes, Readiness, RepositoryError};
use async_trait::async_trait;
use sql_support::{PoolStats, check_ready, migrate};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::MIGRATOR;
use crate::errors::translate;

/// How long a writer waits for another writer's transaction before giving up. Writes here are
/// a few statements each, so waiting this long means something is wrong.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a call waits for a pooled connection (and bounds [`Readiness::check`]).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Reading connections of a file database. WAL lets readers work beside the one writer;
/// more than a handful buys nothing on a small instance.
const MAX_READERS: u32 = 4;

/// Every persistence port on one SQLite database. Cloning is cheap and shares the pools, so
/// the composition root hands one store to every port.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Connections for reads.
    readers: SqlitePool,
    /// The one connection every write of this process goes through (see the crate docs).
    /// For an in-memory database, the same single connection as `readers`.
    writer: SqlitePool,
    /// True when `readers` and `writer` are that one shared connection.
    shared: bool,
    /// Which sinks get which event: the outbox rows a save writes.
    pub(crate) routes: DeliveryRoutes,
    /// Who in this process waits on which aggregate; every saved approval is announced to it.
    pub(crate) changes: ChangeHub,
}

impl SqliteStore {
    /// The store with these delivery routes instead of the default (every event to chat).
    #[must_use]
    pub fn with_routes(mut self, routes: DeliveryRoutes) -> Self {
        self.routes = routes;
        self
    }

    /// Opens the database at `url`, creating the file if it is missing. Accepts
    /// `sqlite:path`, `sqlite://path` and `sqlite::memory:` (a private database that lives as
    /// long as this store). Does not migrate: call [`migrate`](Self::migrate) for that.
    ///
    /// A file database runs in WAL mode with foreign keys on and a busy timeout, with one
    /// writing connection and a few reading ones.
    ///
    /// # Errors
    /// `Unavailable` when the URL is not a SQLite URL or the file cannot be opened or
    /// created (say, its directory does not exist).
    pub async fn connect(url: &str) -> Result<Self, RepositoryError> {
        if !url.starts_with("sqlite:") {
            return Err(RepositoryError::Unavailable(
                "the SQLite URL must start with sqlite: (sqlite:path, sqlite://path or \
                 sqlite::memory:)"
                    .into(),
            ));
        }
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| RepositoryError::Unavailable(format!("invalid SQLite URL: {e}")))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let file = options.get_filename().display().to_string();
        let opened = |e: sqlx::Error| {
            RepositoryError::Unavailable(format!("could not open the SQLite database {file}: {e}"))
        };
        let pool_options = SqlitePoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
        if is_in_memory(url) {
            // An in-memory database lives only while a connection to it is open, and several
            // connections would share it through SQLite's shared cache, whose table locks
            // fail at once instead of waiting out the busy timeout. So: exactly one
            // connection, never closed for being idle or old, for reads and writes alike.
            let pool = pool_options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
                .map_err(opened)?;
            return Ok(Self {
                readers: pool.clone(),
                writer: pool,
                shared: true,
                routes: DeliveryRoutes::default(),
                changes: ChangeHub::new(),
            });
        }
        let options = options.journal_mode(SqliteJournalMode::Wal);
        // The writer first: it creates the file and switches it to WAL.
        let writer = pool_options
            .clone()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(opened)?;
        let readers = pool_options
            .max_connections(MAX_READERS)
            .connect_with(options)
            .await
            .map_err(opened)?;
        Ok(Self {
            readers,
            writer,
            shared: false,
            routes: DeliveryRoutes::default(),
            changes: ChangeHub::new(),
        })
    }

    /// Applies the embedded migrations that the database has not seen yet, through the
    /// writer.
    ///
    /// # Errors
    /// `Unavailable` as [`sql_support::migrate`] says.
    pub async fn migrate(&self) -> Result<(), RepositoryError> {
        migrate(&MIGRATOR, &self.writer, "SQLite").await
    }

    /// How many connections the pools hold right now (readers and the writer together), and
    /// how many of them are idle, for the composition root's metrics. A pool whose
    /// connections are all busy is a pool that makes requests wait.
    pub fn pool_stats(&self) -> PoolStats {
        let readers = PoolStats::of(&self.readers);
        if self.shared {
            return readers;
        }
        let writer = PoolStats::of(&self.writer);
        PoolStats {
            connections: readers.connections + writer.connections,
            idle: readers.idle + writer.idle,
        }
    }

    /// Closes every connection, waiting for the ones in use to be returned. For graceful
    /// shutdown; any later call fails with `Unavailable`.
    pub async fn close(&self) {
        self.writer.close().await;
        self.readers.close().await;
    }

    /// The connections for reads: never write through them.
    pub(crate) fn readers(&self) -> &SqlitePool {
        &self.readers
    }

    /// The one connection for writes of a single statement; a write of several goes through
    /// [`begin_write`](Self::begin_write).
    pub(crate) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// Opens a write transaction. `BEGIN IMMEDIATE` takes the database's write lock before
    /// the first read, waiting up to the busy timeout for another writer to finish; see the
    /// crate docs for why every write goes through here. Dropping the transaction without
    /// committing rolls it back.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<Transaction<'static, Sqlite>, RepositoryError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(translate)
    }

    /// The `(version, checksum)` of every migration the database has applied.
    async fn applied_migrations(&self) -> Result<Vec<(i64, Vec<u8>)>, RepositoryError> {
        let mut conn = self.readers.acquire().await.map_err(translate)?;
        // Before the first migration there is no bookkeeping table to read from.
        let has_table: bool = sqlx::query_scalar(
            "SELECT EXISTS (
                 SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(translate)?;
        if !has_table {
            return Ok(Vec::new());
        }
        sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success")
            .fetch_all(&mut *conn)
            .await
            .map_err(translate)
    }
}

#[async_trait]
impl Readiness for SqliteStore {
    /// Ready when the database answers and every embedded migration is applied unchanged.
    #[tracing::instrument(name = "sqlite.readiness", skip_all, level = "debug")]
    async fn check(&self) -> Result<(), RepositoryError> {
        check_ready(
            "SQLite",
            ACQUIRE_TIMEOUT,
            self.applied_migrations(),
            MIGRATOR.iter(),
        )
        .await
    }
}

/// True for the URL forms sqlx opens as an in-memory database.
fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}
