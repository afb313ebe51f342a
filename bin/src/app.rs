//! The assembled application, and how it runs: the HTTP server and the background workers
//! under one shutdown signal.

use std::sync::Arc;
use std::time::Duration;

use application::UseCases;
use application::chat::ChatSubjects;
use application::ports::{ApprovalRepository, Clock, IdempotencyStore, Outbox};
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::RelayConfig;
use crate::deadlines::DeadlineBell;
use crate::service_metrics::{self, ConnectionPool};
use crate::shutdown::{self, RunError};
use crate::tasks::{self, Sweeps};
use crate::telemetry;

/// Which background workers a process runs beside (or instead of) the HTTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workers {
    /// The outbox relays, one per sink: deliver chat messages and every other sink's.
    pub relay: bool,
    /// The expiry sweeper: expires overdue approval requests, reminds their approvers, and
    /// forgets idempotency keys past their time to live.
    pub expiry_sweeper: bool,
}

impl Workers {
    pub const ALL: Self = Self {
        relay: true,
        expiry_sweeper: true,
    };
    /// For tests that drive the relay and the sweeper themselves, step by step.
    pub const NONE: Self = Self {
        relay: false,
        expiry_sweeper: false,
    };
}

/// How the background workers and the shutdown behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Schedule {
    pub(crate) relay: RelayConfig,
    pub(crate) expiry_sweep_interval: Duration,
    pub(crate) outbox_retention: Duration,
    pub(crate) shutdown_grace: Duration,
}

/// The ports the background loops use directly, beside the use cases: the sweeper sleeps
/// until the next deadline and forgets expired idempotency keys and old delivered outbox
/// rows, the metrics sampler counts the outbox and the connections.
#[derive(Clone)]
pub(crate) struct Background {
    pub(crate) approvals: Arc<dyn ApprovalRepository>,
    /// Rung by a save of a request with a sooner deadline (`deadlines.rs`).
    pub(crate) bell: Arc<DeadlineBell>,
    pub(crate) idempotency: Arc<dyn IdempotencyStore>,
    pub(crate) outbox: Arc<dyn Outbox>,
    /// `None` for stores without a connection pool (the in-memory fakes).
    pub(crate) pool: Option<Arc<dyn ConnectionPool>>,
    pub(crate) clock: Arc<dyn Clock>,
}

/// The service, wired: built by [`crate::build`] (or [`crate::build_with`]) and run by `main`
/// or a test.
pub struct App {
    pub(crate) router: Router,
    pub(crate) use_cases: UseCases,
    /// Every aggregate that shows in chat, for `discord register-commands`.
    pub(crate) subjects: ChatSubjects,
    pub(crate) background: Background,
    /// The recorder `/metrics` renders; `None` when metrics are off.
    pub(crate) metrics: Option<PrometheusHandle>,
    /// Ends the waits of long-polls; cancelled when shutdown begins.
    pub(crate) long_polls: CancellationToken,
    pub(crate) schedule: Schedule,
}

impl App {
    /// Every HTTP route (REST API, probes, Slack when configured) with its middleware. For
    /// tests that call the service in-process with `tower::ServiceExt::oneshot`.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The use cases behind the routes, for tests that set up state or drive the relay and
    /// the sweeper directly.
    pub fn use_cases(&self) -> &UseCases {
        &self.use_cases
    }

    /// Every aggregate that shows in chat, with its actions and slash-command verbs.
    pub fn chat_subjects(&self) -> &ChatSubjects {
        &self.subjects
    }

    /// Serves HTTP on `listener` and runs `workers` until `shutdown` is cancelled, then
    /// drains: no new connections, in-flight requests and the relay's current batch finish,
    /// all within the shutdown grace period. Waiting long-polls answer at once with the
    /// current state, so they do not hold the drain for up to a minute.
    ///
    /// Tests bind `127.0.0.1:0`, read the port from the listener, and cancel the token to
    /// stop.
    ///
    /// # Errors
    /// [`RunError`] when the server or a worker fails, or the drain exceeds the grace period.
    pub async fn serve(
        self,
        listener: TcpListener,
        workers: Workers,
        shutdown: CancellationToken,
    ) -> Result<(), RunError> {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, "listening");
        }
        let mut tasks = self.spawn_workers(workers, &shutdown);
        // Only a process that serves `/metrics` keeps its metrics up to date: a worker
        // process (`<binary> relay`) has nowhere to show them.
        if let Some(handle) = self.metrics {
            let upkeep = telemetry::metrics_upkeep(handle, shutdown.clone());
            let gauges = service_metrics::gauge_sampler(
                self.background.outbox.clone(),
                self.background.pool.clone(),
                self.use_cases
                    .relays
                    .iter()
                    .map(|relay| relay.sink())
                    .collect(),
                shutdown.clone(),
            );
            tasks.spawn(async move {
                tokio::join!(upkeep, gauges);
                Ok(())
            });
        }
        let (stop, long_polls) = (shutdown.clone(), self.long_polls);
        let stop = async move {
            stop.cancelled().await;
            long_polls.cancel();
        };
        tasks.spawn(async move {
            axum::serve(listener, self.router)
                .with_graceful_shutdown(stop)
                .await
                .map_err(RunError::Http)
        });
        let drained = shutdown::supervise(tasks, shutdown, self.schedule.shutdown_grace).await;
        close_pool(drained, self.background.pool.as_deref()).await
    }

    /// Runs `workers` without an HTTP server until `shutdown` is cancelled, then lets them
    /// finish within the shutdown grace period.
    ///
    /// # Errors
    /// [`RunError`] when a worker fails or the drain exceeds the grace period.
    pub async fn run_workers(
        self,
        workers: Workers,
        shutdown: CancellationToken,
    ) -> Result<(), RunError> {
        let tasks = self.spawn_workers(workers, &shutdown);
        let drained = shutdown::supervise(tasks, shutdown, self.schedule.shutdown_grace).await;
        close_pool(drained, self.background.pool.as_deref()).await
    }

    fn spawn_workers(
        &self,
        workers: Workers,
        shutdown: &CancellationToken,
    ) -> JoinSet<Result<(), RunError>> {
        let mut tasks = JoinSet::new();
        if workers.relay {
            // A loop per sink, so a sink that is down or rate limited never delays another.
            for deliver in &self.use_cases.relays {
                let relay = tasks::relay(
                    deliver.clone(),
                    self.schedule.relay,
                    self.background.clock.clone(),
                    shutdown.clone(),
                );
                tasks.spawn(async move {
                    relay.await;
                    Ok(())
                });
            }
        }
        if workers.expiry_sweeper {
            let sweeper = tasks::expiry_sweeper(
                Sweeps {
                    approvals: self.use_cases.expire_overdue.clone(),
                    reminders: self.use_cases.remind_approvers.clone(),
                    deadlines: self.background.approvals.clone(),
                    bell: self.background.bell.clone(),
                    idempotency: self.background.idempotency.clone(),
                    outbox: self.background.outbox.clone(),
                    outbox_retention: self.schedule.outbox_retention,
                    clock: self.background.clock.clone(),
                },
                self.schedule.expiry_sweep_interval,
                shutdown.clone(),
            );
            tasks.spawn(async move {
                sweeper.await;
                Ok(())
            });
        }
        tasks
    }
}

/// After a clean drain nothing holds a connection any more, so the pool is closed: the
/// database sees each session end instead of a dropped socket. After a failed drain a task
/// may still hold one, and closing would wait for it — the process exits instead.
async fn close_pool(
    drained: Result<(), RunError>,
    pool: Option<&dyn ConnectionPool>,
) -> Result<(), RunError> {
    if let (Ok(()), Some(pool)) = (&drained, pool) {
        pool.close().await;
        tracing::info!("database connections closed");
    }
    drained
}
