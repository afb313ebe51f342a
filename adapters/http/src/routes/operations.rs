//! `/metrics` and `/openapi.json`: what operators and tools read. No authentication: neither
//! reveals data, and scrapers and code generators should not need an API key. Expose
//! `/metrics` on an internal network only, like any Prometheus endpoint.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use crate::openapi::problems;
use crate::problem::{Problem, ProblemType};
use crate::state::AppState;

/// The content type of the Prometheus text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Metrics in the Prometheus text format.
///
/// Request counts and durations by route, and whatever else the process records. A 404 when
/// the process exports no metrics here.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "metrics",
    responses(
        (
            status = OK,
            description = "The current metrics",
            content_type = "text/plain; version=0.0.4",
            body = String,
        ),
        MetricsProblems,
    ),
)]
pub(super) async fn metrics(State(app): State<Arc<AppState>>) -> Response {
    match &app.metrics {
        Some(handle) => ([(CONTENT_TYPE, PROMETHEUS_TEXT)], handle.render()).into_response(),
        None => Problem::new(
            ProblemType::ROUTE_NOT_FOUND,
            "this process does not export metrics here",
        )
        .into_response(),
    }
}

problems!(MetricsProblems, [&[ProblemType::ROUTE_NOT_FOUND]]);

/// This document: the OpenAPI 3.1 description of the API.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    operation_id = "openapi",
    responses(
        (
            status = OK,
            description = "The OpenAPI document",
            content_type = "application/json",
            body = Object,
        ),
        OpenApiProblems,
    ),
)]
pub(super) async fn openapi(State(app): State<Arc<AppState>>) -> Response {
    Json(&app.openapi).into_response()
}

problems!(OpenApiProblems, []);
