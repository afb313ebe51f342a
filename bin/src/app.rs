//! The assembled application, and how it runs: the HTTP server and the background workers
//! under one shutdown signal.

use std::time::Duration;

use application::UseCases;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::RelayConfig;
use crate::shutdown::{self, RunError};
use crate::{tasks, telemetry};

/// Which background workers a process runs beside (or instead of) the HTTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workers {
    /// The outbox relay: delivers chat messages.
    pub relay: bool,
    /// The expiry sweeper: expires overdue approval requests.
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
    pub(crate) shutdown_grace: Duration,
}

/// hexagate, wired: built by [`crate::build`] (or [`crate::build_with`]) and run by `main`
/// or a test.
pub struct App {
    router: Router,
    use_cases: UseCases,
    metrics: Option<PrometheusHandle>,
    schedule: Schedule,
}

impl App {
    pub(crate) fn new(
        router: Router,
        use_cases: UseCases,
        metrics: Option<PrometheusHandle>,
        schedule: Schedule,
    ) -> Self {
        Self {
            router,
            use_cases,
            metrics,
            schedule,
        }
    }

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

    /// Serves HTTP on `listener` and runs `workers` until `shutdown` is cancelled, then
    /// drains: no new connections, in-flight requests and the relay's current batch finish,
    /// all within the shutdown grace period.
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
        if let Some(handle) = self.metrics {
            let upkeep = telemetry::metrics_upkeep(handle, shutdown.clone());
            tasks.spawn(async move {
                upkeep.await;
                Ok(())
            });
        }
        let stop = shutdown.clone().cancelled_owned();
        tasks.spawn(async move {
            axum::serve(listener, self.router)
                .with_graceful_shutdown(stop)
                .await
                .map_err(RunError::Http)
        });
        shutdown::supervise(tasks, shutdown, self.schedule.shutdown_grace).await
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
        shutdown::supervise(tasks, shutdown, self.schedule.shutdown_grace).await
    }

    fn spawn_workers(
        &self,
        workers: Workers,
        shutdown: &CancellationToken,
    ) -> JoinSet<Result<(), RunError>> {
        let mut tasks = JoinSet::new();
        if workers.relay {
            let relay = tasks::relay(
                self.use_cases.deliver_notifications.clone(),
                self.schedule.relay,
                shutdown.clone(),
            );
            tasks.spawn(async move {
                relay.await;
                Ok(())
            });
        }
        if workers.expiry_sweeper {
            let sweeper = tasks::expiry_sweeper(
                self.use_cases.expire_overdue.clone(),
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
