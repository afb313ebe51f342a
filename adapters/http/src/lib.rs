//! # adapter-http — the inbound REST API (axum)
//!
//! Turns HTTP requests into use case calls and use case results into HTTP responses. The
//! composition root builds the [`router`] from an [`ApiState`], merges other adapters'
//! routes into it, and finishes the whole with [`with_edge`].
//!
//! What belongs here: routing, the JSON shapes of the API and their explicit mapping to the
//! domain (`routes/<aggregate>/dto.rs`, shared rules in `dto/`), API key authentication
//! (`auth.rs`), the translation of every use case error into an RFC 9457 problem
//! (`problem.rs`; shared causes in `errors.rs`, an aggregate's in
//! `routes/<aggregate>/errors.rs`), the HTTP middleware stacks
//! (`middleware.rs`: request ids, tracing, metrics, limits, load shedding), idempotency keys
//! (`idempotency/`), and the OpenAPI document generated from the handlers (`openapi.rs`).
//! What does not: business rules (the domain decides, handlers only translate),
//! persistence, and other inbound protocols such as Slack's, which live in their own
//! adapters and are merged into the same server by the composition root.
//!
//! Where to look: the middleware order and why → `middleware.rs`; the idempotency flow →
//! `idempotency/mod.rs`; request ids → `request_id.rs`; metric names →
//! `request_metrics.rs`; long-polls (`?wait=`) → `long_poll.rs`; the shared error types →
//! `problem.rs`; every route and aggregate →
//! `routes/mod.rs`.
//!
//! ## Composing the server
//!
//! [`router`] returns the API routes with their own middleware but no fallback, because
//! axum refuses to merge two routers that both have one. The composition root merges the
//! other routers into it and applies [`with_edge`] last: it adds the 404 fallback and wraps
//! every route, merged ones included, in request ids, tracing, metrics and panic safety.
//!
//! ```
//! # fn compose(state: adapter_http::ApiState, slack_routes: axum::Router) -> axum::Router {
//! let settings = adapter_http::HttpSettings::default();
//! adapter_http::with_edge(adapter_http::router(state, &settings).merge(slack_routes))
//! # }
//! ```

mod auth;
mod cursor;
mod dto;
mod errors;
mod extract;
mod idempotency;
mod long_poll;
mod middleware;
mod openapi;
mod problem;
mod reply;
mod request_id;
mod request_metrics;
mod routes;
mod state;
mod strict_json;

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;

pub use problem::ProblemType;
pub use request_metrics::prometheus_recorder;
pub use routes::problem_types;
pub use state::{ApiState, HttpSettings};

/// The REST API — every aggregate's `/v1/…` routes, `/healthz`, `/readyz`, `/metrics`,
/// `/openapi.json` — with its middleware: problem+json for every error, the timeout and body
/// limit, and on `/v1` load shedding and `Idempotency-Key` handling.
pub fn router(state: ApiState, settings: &HttpSettings) -> Router {
    let idempotency = Arc::new(idempotency::Idempotency::new(&state, settings));
    let v1 = routes::v1().route_layer(from_fn_with_state(idempotency, idempotency::enforce));
    let v1 = middleware::shed_load(v1, settings.max_in_flight, settings.max_waiters);
    let (routes, paths) = v1.merge(routes::operations()).split_for_parts();
    let mut document = openapi::frame(settings);
    document.merge(paths);
    let app = Arc::new(state::AppState::new(state, settings, document));
    middleware::api(routes.with_state(app), settings)
}

/// Finishes the fully merged router: answers every path no route matches with a 404
/// problem, and wraps every route in request ids, tracing, metrics and panic catching.
/// Apply it once, last.
pub fn with_edge(router: Router) -> Router {
    middleware::edge(router)
}
