//! The route tables: which handler answers which method and path.
//!
//! Every route is registered with `utoipa_axum::routes!` over a handler that carries a
//! `#[utoipa::path]` attribute. The macro takes the method and path from that attribute, so
//! the router and the OpenAPI document are built from the same entries: a handler without
//! the attribute does not compile here, and a documented path is the served path. Never add
//! a route with a plain `.route(…)`: it would be served but missing from `/openapi.json`.
//!
//! Handlers are thin: extract, call one use case, map the result to a DTO. Errors travel as
//! [`Problem`]s through `?`.
//!
//! Each aggregate's HTTP side is one module here: its handlers (`approvals.rs`), its JSON
//! shapes (`approvals/dto.rs`) and its problem types with the mapping of its use cases'
//! errors (`approvals/errors.rs`), and its route table with its OpenAPI tag (`routes()`).
//! Adding or removing an aggregate touches its module and its lines below.

mod alerts;
mod approvals;
mod health;
mod operations;

use std::sync::Arc;

use axum::http::{Method, Uri};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::problem::{Problem, ProblemType};
use crate::state::AppState;

/// The business API: authenticated, shed under load, idempotent on `POST`.
pub(crate) fn v1() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::default()
        .merge(approvals::routes())
        .merge(alerts::routes())
}

/// Every problem type the API can answer with: the shared ones and each aggregate's.
pub fn problem_types() -> impl Iterator<Item = ProblemType> {
    [
        ProblemType::SHARED,
        approvals::PROBLEM_TYPES,
        alerts::PROBLEM_TYPES,
    ]
    .into_iter()
    .flatten()
    .copied()
}

/// For operators and tools: probes, metrics, and the API description. No API key, never
/// shed.
pub(crate) fn operations() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::default()
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .routes(routes!(operations::metrics))
        .routes(routes!(operations::openapi))
}

/// The answer for a path no route matches.
pub(crate) async fn not_found(method: Method, uri: Uri) -> Problem {
    Problem::new(
        ProblemType::ROUTE_NOT_FOUND,
        format!("no route for {method} {}", uri.path()),
    )
}
