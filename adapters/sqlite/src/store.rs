//! The store itself: opening the file, migrating, and telling whether it is ready.

use std::str::FromStr;
use std::time::Duration;

use application::ports::{DeliveryRoutes, Readiness, RepositoryError};
use async_trait::async_trait;
use sql_support::{PoolStats, check_migrations};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::MIGRATOR;
use crate::errors::translate;

/// How long a writer waits for another writer's transaction before giving up. Writes here are
/// a few statements each, so waiting this long means something is wrong.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a call waits for a pooled connection (and bounds [`Readiness::check`]).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections of a file database. WAL lets readers work beside the one writer; more than a
/// handful buys nothing on a small instance.
const MAX_FILE_CONNECTIONS: u32 = 4;

/// Every persistence port on one SQLite database. Cloning is cheap and shares the pool, so
/// the composition root hands one store to every port.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Which sinks get which event: the outbox rows a save writes.
    pub(crate) routes: DeliveryRoutes,
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
    /// A file database runs in WAL mode with foreign keys on and a busy timeout.
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
        let pool_options = SqlitePoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
        let pool = if is_in_memory(url) {
            // An in-memory database lives only while a connection to it is open, and several
            // connections would share it through SQLite's shared cache, whose table locks
            // fail at once instead of waiting out the busy timeout. So: exactly one
            // connection, never closed for being idle or old.
            pool_options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
        } else {
            pool_options
                .max_connections(MAX_FILE_CONNECTIONS)
                .connect_with(options.journal_mode(SqliteJournalMode::Wal))
                .await
        };
        let pool = pool.map_err(|e| {
            RepositoryError::Unavailable(format!("could not open the SQLite database {file}: {e}"))
        })?;
        Ok(Self {
            pool,
            routes: DeliveryRoutes::default(),
        })
    }

    /// Applies the embedded migrations that the database has not seen yet.
    ///
    /// # Errors
    /// `Unavailable` when a migration fails, or an applied migration differs from the
    /// embedded one (someone edited a released migration).
    pub async fn migrate(&self) -> Result<(), RepositoryError> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| RepositoryError::Unavailable(format!("migrating SQLite failed: {e}")))
    }

    /// How many connections the pool holds right now, and how many of them are idle, for
    /// the composition root's metrics. A pool whose connections are all busy is a pool
    /// that makes requests wait.
    pub fn pool_stats(&self) -> PoolStats {
        PoolStats::of(&self.pool)
    }

    /// Closes every connection, waiting for the ones in use to be returned. For graceful
    /// shutdown; any later call fails with `Unavailable`.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Opens a write transaction. `BEGIN IMMEDIATE` takes the database's write lock before
    /// the first read, waiting up to the busy timeout for another writer to finish; see the
    /// crate docs for why every write goes through here. Dropping the transaction without
    /// committing rolls it back.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<Transaction<'static, Sqlite>, RepositoryError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(translate)
    }

    /// The `(version, checksum)` of every migration the database has applied.
    async fn applied_migrations(&self) -> Result<Vec<(i64, Vec<u8>)>, RepositoryError> {
        let mut conn = self.pool.acquire().await.map_err(translate)?;
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
        let applied = tokio::time::timeout(ACQUIRE_TIMEOUT, self.applied_migrations())
            .await
            .map_err(|_| {
                RepositoryError::Unavailable(format!(
                    "SQLite did not answer within {ACQUIRE_TIMEOUT:?}"
                ))
            })??;
        check_migrations(MIGRATOR.iter(), &applied)
    }
}

/// True for the URL forms sqlx opens as an in-memory database.
fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}
