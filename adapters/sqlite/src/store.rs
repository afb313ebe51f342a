//! The store itself: opening the file, migrating, and telling whether it is ready.

use std::str::FromStr;
use std::time::Duration;

use application::ports::{DeliveryRoutes, Readiness, RepositoryError};
use async_trait::async_trait;
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

/// A snapshot of the connection pool, from [`SqliteStore::pool_stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections, in use or idle.
    pub connections: u32,
    /// Open connections waiting for work.
    pub idle: u32,
}

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
        PoolStats {
            connections: self.pool.size(),
            // Idle connections are a subset of `size`, a `u32`, so this always fits.
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        }
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

    /// Lists what the database still lacks of [`MIGRATOR`].
    async fn missing_migrations(&self) -> Result<Vec<String>, RepositoryError> {
        let mut conn = self.pool.acquire().await.map_err(translate)?;
        // Before the first migration there is no bookkeeping table to read from.
        let has_table: bool = sqlx::query_scalar(
            "SELECT EXISTS (
                 SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(translate)?;
        let applied: Vec<(i64, Vec<u8>)> = if has_table {
            sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success")
                .fetch_all(&mut *conn)
                .await
                .map_err(translate)?
        } else {
            Vec::new()
        };
        Ok(MIGRATOR
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .filter_map(|m| match applied.iter().find(|(v, _)| *v == m.version) {
                None => Some(format!("{} ({}) is not applied", m.version, m.description)),
                Some((_, checksum)) if **checksum != *m.checksum => Some(format!(
                    "{} ({}) differs from the applied one",
                    m.version, m.description
                )),
                Some(_) => None,
            })
            .collect())
    }
}

#[async_trait]
impl Readiness for SqliteStore {
    /// Ready when the database answers and every embedded migration is applied unchanged.
    #[tracing::instrument(name = "sqlite.readiness", skip_all, level = "debug")]
    async fn check(&self) -> Result<(), RepositoryError> {
        let missing = tokio::time::timeout(ACQUIRE_TIMEOUT, self.missing_migrations())
            .await
            .map_err(|_| {
                RepositoryError::Unavailable(format!(
                    "SQLite did not answer within {ACQUIRE_TIMEOUT:?}"
                ))
            })??;
        if missing.is_empty() {
            Ok(())
        } else {
            Err(RepositoryError::Unavailable(format!(
                "the database schema is not up to date (run `hexagate migrate`): migration {}",
                missing.join(", migration ")
            )))
        }
    }
}

/// True for the URL forms sqlx opens as an in-memory database.
fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}
