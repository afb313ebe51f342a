//! Prometheus metrics of HTTP requests, through the `metrics` facade.
//!
//! - `http_requests_total{method, route, status}` — a counter per answered request;
//! - `http_request_duration_seconds{method, route}` — a histogram of how long each took.
//!
//! `route` is the route template (`/v1/approvals/{id}`), never the raw path: one label value
//! per id would create a time series per approval and exhaust the metrics store. Requests no
//! route matched share `route="unmatched"`, and methods outside the standard set share
//! `method="OTHER"`, for the same reason: a client must not be able to mint label values.
//!
//! Recording goes to whichever recorder is installed; the composition root installs the one
//! from [`prometheus_recorder`] once per process and passes its handle in `ApiState`, where
//! `GET /metrics` renders it.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusRecorder};

pub(crate) const REQUESTS_TOTAL: &str = "http_requests_total";
pub(crate) const REQUEST_DURATION_SECONDS: &str = "http_request_duration_seconds";

/// The `route` label of requests no route matched.
pub(crate) const UNMATCHED: &str = "unmatched";

/// Upper bounds of the duration buckets, in seconds: Prometheus's defaults, which span a
/// fast store round trip (5 ms) to the default request timeout (10 s).
const DURATION_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Builds the Prometheus recorder for this service: the request-duration histogram gets its
/// buckets (a histogram without them renders as a summary, which cannot be aggregated across
/// instances) and every metric here gets its `# HELP` text.
///
/// Install it once per process, as the composition root does:
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let recorder = adapter_http::prometheus_recorder()?;
/// let handle = recorder.handle();
/// metrics::set_global_recorder(recorder)?;
/// // ... `ApiState { metrics: Some(handle.clone()), .. }`, and call `handle.run_upkeep()`
/// // every few seconds so histogram samples are folded in even between scrapes.
/// # Ok(()) }
/// ```
///
/// Tests build one per test and install it for their thread only
/// (`metrics::set_default_local_recorder`), so they never fight over the global one.
///
/// # Errors
/// Never in practice: only an empty bucket list is refused.
pub fn prometheus_recorder() -> Result<PrometheusRecorder, BuildError> {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(REQUEST_DURATION_SECONDS.to_owned()),
            &DURATION_BUCKETS,
        )?
        .build_recorder();
    metrics::with_local_recorder(&recorder, describe);
    Ok(recorder)
}

fn describe() {
    metrics::describe_counter!(
        REQUESTS_TOTAL,
        "HTTP requests answered, by method, route template and status code"
    );
    metrics::describe_histogram!(
        REQUEST_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Time from receiving an HTTP request to producing its response, by method and route"
    );
}

/// Middleware: counts and times every request below it.
pub(crate) async fn record(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |path| path.as_str().to_owned());
    let started = Instant::now();

    let response = next.run(request).await;

    let elapsed = started.elapsed().as_secs_f64();
    let status = response.status().as_str().to_owned();
    metrics::counter!(
        REQUESTS_TOTAL,
        "method" => method, "route" => route.clone(), "status" => status
    )
    .increment(1);
    metrics::histogram!(REQUEST_DURATION_SECONDS, "method" => method, "route" => route)
        .record(elapsed);
    response
}

/// The method as a label value, from a closed set: HTTP allows any token as a method.
fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_set_share_one_label() {
        assert_eq!(method_label(&Method::POST), "POST");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "OTHER");
    }
}
