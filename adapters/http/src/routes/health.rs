//! Probes for orchestrators and load balancers. No authentication: they reveal nothing and
//! must work before any API key exists.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;

use crate::dto::HealthResponse;
use crate::openapi::problems;
use crate::problem::{Problem, ProblemType};
use crate::state::AppState;

/// Liveness: the process is alive and serving HTTP.
///
/// Checks nothing else on purpose: a liveness probe that fails when the database is down
/// would restart healthy processes.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    operation_id = "liveness",
    responses((status = OK, description = "Alive", body = HealthResponse), LiveProblems),
)]
pub(super) async fn live() -> Json<HealthResponse> {
    Json(HealthResponse { status: "ok" })
}

problems!(LiveProblems, []);

/// How long `/readyz` waits for the store before answering 503.
///
/// A probe is only useful if it answers within the prober's own timeout (Kubernetes'
/// default is 1 s); a check that waits out the pool's acquire timeout (seconds) while the
/// database is down turns "not ready" into a probe timeout, later and less clear. 800 ms
/// is far above a healthy store's round trip (milliseconds) and leaves the network room
/// under that 1 s.
const READINESS_TIMEOUT: Duration = Duration::from_millis(800);

/// Readiness: this instance can serve traffic — the store answers within 800 ms and is
/// migrated.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    operation_id = "readiness",
    responses((status = OK, description = "Ready", body = HealthResponse), ReadyProblems),
)]
pub(super) async fn ready(
    State(app): State<Arc<AppState>>,
) -> Result<Json<HealthResponse>, Problem> {
    let checked = tokio::time::timeout(READINESS_TIMEOUT, app.readiness.check()).await;
    match checked {
        Ok(Ok(())) => Ok(Json(HealthResponse { status: "ready" })),
        Err(_elapsed) => {
            tracing::warn!(timeout = ?READINESS_TIMEOUT, "not ready: the store did not answer in time");
            Err(Problem::new(
                ProblemType::UNAVAILABLE,
                "the service is not ready to serve requests",
            ))
        }
        Ok(Err(error)) => {
            // Warn, not error: being unready is an expected state during start-up and
            // outages, and the probe repeats every few seconds.
            tracing::warn!(%error, "not ready");
            Err(Problem::new(
                ProblemType::UNAVAILABLE,
                "the service is not ready to serve requests",
            ))
        }
    }
}

problems!(ReadyProblems, [&[ProblemType::UNAVAILABLE]]);
