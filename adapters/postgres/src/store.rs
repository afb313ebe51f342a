//! The store itself: connecting, migrating, and telling whether it is ready.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use application::ports::{DeliveryRoutes, Readiness, RepositoryError};
use async_trait::async_trait;
use sql_support::{PoolStats, check_ready, migrate};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};

use crate::MIGRATOR;
use crate::changes::Changes;
use crate::errors::{is_undefined_table, translate};

/// How the connection pool behaves. The composition root fills it from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Connections kept open at most. Each costs the server a process, so keep
    /// `instances × max_connections` well below its `max_connections`.
    pub max_connections: u32,
    /// How long a query waits for a connection (and [`PostgresStore::connect`] for the first
    /// one) before failing with `Unavailable`. Short, so an outage turns into quick 503s
    /// instead of requests piling up.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// Every persistence port on one PostgreSQL connection pool. Cloning is cheap and shares the
/// pool, so the composition root hands one store to every port.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) pool: PgPool,
    /// Which sinks get which event: the outbox rows a save writes.
    pub(crate) routes: DeliveryRoutes,
    /// This process's end of the change feed (`changes.rs`).
    pub(crate) changes: Arc<Changes>,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) and
    /// checks that it answers. Does not migrate: call [`migrate`](Self::migrate) for that.
    ///
    /// # Errors
    /// `Unavailable` when the URL is malformed, the settings are unusable, or no connection
    /// could be made within `settings.acquire_timeout` (server down or unreachable, wrong
    /// credentials, unknown database). The message never contains the URL, which may hold a
    /// password.
    pub async fn connect(url: &str, settings: PoolSettings) -> Result<Self, RepositoryError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(RepositoryError::Unavailable(
                "the PostgreSQL URL must start with postgres:// or postgresql://".into(),
            ));
        }
        if settings.max_connections == 0 {
            return Err(RepositoryError::Unavailable(
                "the PostgreSQL pool needs max_connections of at least 1".into(),
            ));
        }
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| RepositoryError::Unavailable(format!("invalid PostgreSQL URL: {e}")))?
            // Names our sessions in pg_stat_activity, for whoever operates the database.
            .application_name(env!("SERVICE_NAME"));
        let server = format!("{}:{}", options.get_host(), options.get_port());
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            // `connect_with` retries refused connections until the acquire timeout, and bounds
            // each attempt by it too, so a server that accepts TCP but never answers cannot
            // hang start-up.
            .connect_with(options)
            .await
            .map_err(|e| match e {
                sqlx::Error::PoolTimedOut => RepositoryError::Unavailable(format!(
                    "could not connect to PostgreSQL at {server} within {:?}",
                    settings.acquire_timeout
                )),
                other => RepositoryError::Unavailable(format!(
                    "could not connect to PostgreSQL at {server}: {other}"
                )),
            })?;
        Ok(Self::from_pool(pool))
    }

    /// Wraps an existing pool, e.g. one a test created. The pool's acquire timeout also
    /// bounds [`Readiness::check`].
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            changes: Changes::of(&pool),
            pool,
            routes: DeliveryRoutes::default(),
        }
    }

    /// The store with these delivery routes instead of the default (every event to chat).
    #[must_use]
    pub fn with_routes(mut self, routes: DeliveryRoutes) -> Self {
        self.routes = routes;
        self
    }

    /// Applies the embedded migrations that the database has not seen yet. Safe to run from
    /// several instances at once: sqlx serializes them with an advisory lock.
    ///
    /// # Errors
    /// `Unavailable` as [`sql_support::migrate`] says.
    pub async fn migrate(&self) -> Result<(), RepositoryError> {
        migrate(&MIGRATOR, &self.pool, "PostgreSQL").await
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

    /// The `(version, checksum)` of every migration the database has applied.
    async fn applied_migrations(&self) -> Result<Vec<(i64, Vec<u8>)>, RepositoryError> {
        // This query doubles as the liveness probe (`SELECT 1`): if it answers, so does the
        // server.
        match sqlx::query!("SELECT version, checksum FROM _sqlx_migrations WHERE success")
            .fetch_all(&self.pool)
            .await
        {
            Ok(rows) => Ok(rows
                .into_iter()
                .map(|row| (row.version, row.checksum))
                .collect()),
            // No bookkeeping table at all: nothing was ever migrated.
            Err(e) if is_undefined_table(&e) => Ok(Vec::new()),
            Err(e) => Err(translate(e)),
        }
    }
}

/// Opens a transaction that a dropped caller cannot leave half-begun.
///
/// This works around sqlx 0.9.0, whose `begin` is not cancel-safe on PostgreSQL
/// (<https://github.com/transact-rs/sqlx/issues/4393>): a future dropped while it waits for
/// the answer to `BEGIN` (a client that hung up, the request timeout) returns its connection
/// to the pool with the driver believing it idle and the server inside the transaction.
/// Every statement run on it afterwards would join that transaction and never commit — a
/// relay claim among them, whose locked rows then block every other instance. The fix
/// (<https://github.com/transact-rs/sqlx/pull/4394>) is merged but unreleased; once a sqlx
/// release has it, this can be `pool.begin()` again.
///
/// The `BEGIN` runs in a task of its own, which a dropped caller does not cancel: the task
/// finishes it, and the transaction it then drops queues its rollback the ordinary way, so
/// the connection goes back to the pool as the next user should find it. That costs a task
/// per transaction, where checking every released connection with the server cost a round
/// trip per statement.
///
/// # Errors
/// `Unavailable` when no connection can be had or the server refuses the `BEGIN`.
pub(crate) async fn begin(
    pool: &PgPool,
) -> Result<Transaction<'static, Postgres>, RepositoryError> {
    let pool = pool.clone();
    tokio::spawn(async move { pool.begin().await })
        .await
        .map_err(|e| RepositoryError::Unavailable(format!("beginning a transaction: {e}")))?
        .map_err(translate)
}

#[async_trait]
impl Readiness for PostgresStore {
    /// Ready when the server answers and every embedded migration is applied unchanged.
    /// Migrations newer than this binary do not make it unready: during a rolling deploy the
    /// new version migrates first while the old one keeps serving.
    #[tracing::instrument(name = "postgres.readiness", skip_all, level = "debug")]
    async fn check(&self) -> Result<(), RepositoryError> {
        // The pool bounds waiting for a connection; this bounds the query on it as well.
        let timeout = self.pool.options().get_acquire_timeout();
        check_ready(
            "PostgreSQL",
            timeout,
            self.applied_migrations(),
            MIGRATOR.iter(),
        )
        .await
    }
}
