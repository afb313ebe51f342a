//! The middleware stacks, each listed outermost first.
//!
//! Two stacks, because two kinds of routes share the server:
//!
//! - [`edge`] wraps the fully merged router — the REST API, other adapters' routes (Slack),
//!   and the 404 fallback — with what every request needs: a request id, a log span,
//!   metrics, and panic safety.
//! - [`api`] wraps the REST API's routes with what its contract needs: a header limit,
//!   problem+json for every error, a timeout, and a body limit. [`shed_load`] and the
//!   idempotency layer sit inside it, on the `/v1` routes only.
//!
//! Long-polls (`long_poll.rs`) pass the same layers, but the timeout grants them their wait
//! on top of the normal limit, and load shedding counts them against `max_waiters` instead
//! of `max_in_flight`.
//!
//! So a `/v1` request passes, outermost first: sensitive-header marking → request id →
//! trace span → metrics → panic catcher → header limit → problem conversion → timeout → body
//! limit → load shedding → idempotency → handler.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use axum::BoxError;
use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{DefaultBodyLimit, MatchedPath, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{Request, StatusCode};
use axum::middleware::{Next, from_fn, from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::{Level, Span};
use utoipa_axum::router::OpenApiRouter;

use crate::long_poll::{self, MAX_WAIT};
use crate::problem::{Problem, ProblemType, is_problem};
use crate::request_id::{self, RequestId};
use crate::request_metrics::{self, UNMATCHED};
use crate::routes;
use crate::state::HttpSettings;

/// Adds the 404 fallback to the merged router, then wraps every route and the fallback in
/// the stack every request passes.
pub(crate) fn edge(router: Router) -> Router {
    router.fallback(routes::not_found).layer(
        ServiceBuilder::new()
            // First, so nothing below can log the API key: a sensitive header prints as
            // `Sensitive` in any `Debug` output of the request.
            .layer(SetSensitiveRequestHeadersLayer::new([AUTHORIZATION]))
            // Before the trace layer, so the span can record the id.
            .layer(from_fn(request_id::assign))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            // Inside the span, so its own lines carry the request id; outside everything
            // that answers early, so refused, shed and timed-out requests are counted too.
            .layer(from_fn(request_metrics::record))
            // Inside the trace and metrics layers, so a panic is logged and counted as the
            // 500 it became.
            .layer(CatchPanicLayer::custom(panic_response)),
    )
}

/// Wraps the REST API's routes (and their method-not-allowed answers) in its stack.
pub(crate) fn api(routes: Router, settings: &HttpSettings) -> Router {
    routes.layer(
        ServiceBuilder::new()
            // First: a request refused for its headers costs nothing further.
            .layer(from_fn_with_state(
                settings.header_limit_bytes,
                limit_headers,
            ))
            .layer(map_response(problem_for_bare_errors))
            // Bounds the whole exchange, slow uploads included; the client may retry a 408.
            .layer(from_fn_with_state(settings.request_timeout, limit_time))
            // Refuses an oversized Content-Length before reading a byte, and caps bodies
            // without one while they stream in (the JSON extractor then reports 413).
            .layer(RequestBodyLimitLayer::new(settings.body_limit_bytes))
            // axum's extractors carry their own 2 MiB cap; align it so there is one limit.
            .layer(DefaultBodyLimit::max(settings.body_limit_bytes)),
    )
}

/// Refuses requests beyond `max_in_flight` at once (long-polls: beyond `max_waiters`) with
/// a 503 `overloaded` problem, at once rather than queued: a queue only turns overload into
/// timeouts, while a fast 503 with `Retry-After` lets the client or load balancer back off
/// or go elsewhere.
///
/// The limits are global: `Router::layer` wraps each route separately, so the semaphores
/// live in the layer's shared state rather than in a layer per route.
pub(crate) fn shed_load<S>(
    routes: OpenApiRouter<S>,
    max_in_flight: usize,
    max_waiters: usize,
) -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let limits = Arc::new(Limits {
        in_flight: Arc::new(Semaphore::new(max_in_flight.max(1))),
        waiters: Arc::new(Semaphore::new(max_waiters.max(1))),
    });
    routes.layer(from_fn_with_state(limits, admit))
}

/// The permits of [`shed_load`]: one for each request at work, one for each long-poll.
struct Limits {
    in_flight: Arc<Semaphore>,
    waiters: Arc<Semaphore>,
}

async fn admit(State(limits): State<Arc<Limits>>, request: Request<Body>, next: Next) -> Response {
    let (permits, detail) = if long_poll::is_long_poll(&request) {
        (
            &limits.waiters,
            "too many long-polls are waiting; retry shortly, or read without wait",
        )
    } else {
        (
            &limits.in_flight,
            "the service is handling too many requests; retry shortly",
        )
    };
    let Ok(_permit) = permits.clone().try_acquire_owned() else {
        // Debug, not warn: under overload a line per shed request would add to the load,
        // and the 503s already show in the response log line and in the metrics.
        tracing::debug!(detail, "shed a request");
        return Problem::new(ProblemType::OVERLOADED, detail).into_response();
    };
    next.run(request).await
}

/// Answers a bare 408 (made a problem above) when the request takes longer than `limit`,
/// or, for a long-poll, than `limit` plus the longest wait.
async fn limit_time(State(limit): State<Duration>, request: Request<Body>, next: Next) -> Response {
    let limit = if long_poll::is_long_poll(&request) {
        limit + MAX_WAIT
    } else {
        limit
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_elapsed) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// Refuses a request whose header block (every name and value, with the `: ` and line end
/// each takes on the wire) is larger than `limit` bytes, with a 431 problem.
async fn limit_headers(State(limit): State<usize>, request: Request<Body>, next: Next) -> Response {
    let size: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > limit {
        return Problem::new(
            ProblemType::HEADERS_TOO_LARGE,
            format!("the request headers take {size} bytes; at most {limit} are accepted"),
        )
        .into_response();
    }
    next.run(request).await
}

/// One span per request. `client` is filled in by authentication. The route template, not
/// the raw path, names the endpoint, so ids do not explode log cardinality; the path is kept
/// beside it for debugging. The query string never is: clients put secrets there
/// (`?api_key=…`, signed-URL tokens) however often they are told not to, and a log line is
/// read by far more people than the API key is meant for.
fn request_span(request: &Request<Body>) -> Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str);
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map_or("", RequestId::as_str);
    tracing::info_span!(
        "http_request",
        method = %request.method(),
        route,
        path = %request.uri().path(),
        request_id = %request_id,
        client = tracing::field::Empty,
    )
}

/// Some errors are answered below the handlers, without a body: axum's 405 for a known path
/// with the wrong method, tower-http's 408 (timeout) and 413 (Content-Length over the
/// limit). This turns any error response that is not already a problem into one with the
/// same status, keeping its headers (`Allow` on a 405), so every error body the API sends
/// is `application/problem+json`.
async fn problem_for_bare_errors<B>(response: Response<B>) -> Response
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(response.headers()) {
        return response.map(Body::new);
    }
    let (mut parts, _bare_body) = response.into_parts();
    parts.headers.remove(CONTENT_TYPE);
    parts.headers.remove(CONTENT_LENGTH);
    let (problem_parts, body) = Problem::for_status(status).into_response().into_parts();
    parts.headers.extend(problem_parts.headers);
    Response::from_parts(parts, body)
}

/// The last resort: a panic anywhere below becomes a logged 500 problem, not a dropped
/// connection. The payload is logged because it is the only clue to the bug; it is never
/// sent, as it may contain anything.
fn panic_response(payload: Box<dyn Any + Send + 'static>) -> Response {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-text panic payload)");
    tracing::error!(panic = message, "request handler panicked");
    Problem::internal().into_response()
}
