//! What the composition root hands the adapter, and what every handler can reach.

use std::sync::Arc;
use std::time::Duration;

use application::UseCases;
use application::ports::{Clock, IdGenerator, IdempotencyStore, Readiness};
use axum::http::HeaderValue;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;
use utoipa::openapi::OpenApi;

/// Tunables of the REST adapter, filled by the composition root from configuration. Each
/// default is explained on its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Largest accepted request body. Larger bodies get 413 without being read.
    ///
    /// Default 64 KiB: the largest valid create body (title, 4000-character description,
    /// 8 KiB of metadata, approvers) is well under it, and it bounds the memory a request
    /// can pin: bodies are buffered whole.
    pub body_limit_bytes: usize,
    /// Largest accepted header block: the names and values of all request headers together.
    /// Larger ones get 431 before any handler runs.
    ///
    /// Default 32 KiB, nginx's default (4 buffers of 8 KiB): real clients send a few KiB
    /// even with large tokens, and it bounds the headers 512 requests in flight can pin to
    /// 16 MiB. hyper refuses blocks over its own read buffer (about 400 KiB) or of more than
    /// 100 headers before this runs, with a bare 431; between this limit and those, clients
    /// get a problem.
    pub header_limit_bytes: usize,
    /// Longest a request may take, body included. Slower requests get 408.
    ///
    /// Default 10 s: every operation is a few store round trips, so a request still running
    /// after 10 s is stuck (a pool exhausted, a lock held); freeing its resources beats
    /// holding them. Below typical client and load-balancer timeouts (30–60 s), so the
    /// client hears a 408 from the service rather than a reset from a proxy.
    pub request_timeout: Duration,
    /// The externally visible base URL (`https://gate.example.com`), used to make `Location`
    /// headers absolute. `None` sends the path alone, which clients resolve against the URL
    /// they called (RFC 9110 §10.2.2) — right unless a proxy rewrites paths.
    pub public_base_url: Option<String>,
    /// Most `/v1` requests handled at once by this process; beyond it a request is answered
    /// at once with 503 `overloaded` and `Retry-After: 1`. Probes and metrics are never
    /// refused, so an overloaded instance is not restarted for being busy and stays
    /// observable. Values below 1 count as 1.
    ///
    /// Default 512: far above what a store pool of a few dozen connections serves at once
    /// (so it only bites under real overload, not bursts), and it caps buffered bodies at
    /// 512 × 64 KiB = 32 MiB. Past it, queueing would only turn every request into a
    /// timeout; refusing fast lets the client or load balancer go elsewhere.
    pub max_in_flight: usize,
    /// Most long-polls (`GET …?wait=`) waiting at once in this process; beyond it one is
    /// answered at once with 503 `overloaded` and `Retry-After: 1`. Long-polls do not count
    /// against `max_in_flight`. Values below 1 count as 1.
    ///
    /// Default 4096: a parked wait holds no store connection, only its connection's memory
    /// (a thousand cost about 45 MB, `docs/performance.md`), so the limit guards memory and
    /// file descriptors against a runaway client, not the store.
    pub max_waiters: usize,
    /// How long a used `Idempotency-Key` is remembered, from its first use: retries within
    /// it replay the first answer, later ones run as new requests. The IETF draft asks a
    /// service to publish this; the OpenAPI document states it.
    ///
    /// Default 24 h, as Stripe's: it covers a pipeline retrying through a day-long outage,
    /// and keys stay cheap to keep.
    pub idempotency_ttl: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            body_limit_bytes: 64 * 1024,
            header_limit_bytes: 32 * 1024,
            request_timeout: Duration::from_secs(10),
            public_base_url: None,
            max_in_flight: 512,
            max_waiters: 4096,
            idempotency_ttl: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// The application as the REST adapter sees it: the use cases it drives, the readiness
/// probe behind `/readyz`, the idempotency-key store with the clock that dates its records
/// and the ids that become claim tokens, and the metrics `/metrics` renders.
#[derive(Clone)]
pub struct ApiState {
    pub use_cases: UseCases,
    pub readiness: Arc<dyn Readiness>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    /// The handle of the process's Prometheus recorder, installed once by the composition
    /// root (see [`crate::prometheus_recorder`]). `None` serves `/metrics` as a 404, for
    /// processes that export metrics some other way or not at all.
    pub metrics: Option<PrometheusHandle>,
    /// Cancelled when the process shuts down: waiting long-polls then answer at once with
    /// the current state, so the drain does not wait out their waits.
    pub shutdown: CancellationToken,
}

/// The router's state: [`ApiState`] plus what the adapter derived from its settings. Shared
/// behind one `Arc`, so extracting it per request is a reference-count increment rather than
/// a clone of every use case.
pub(crate) struct AppState {
    pub(crate) use_cases: UseCases,
    pub(crate) readiness: Arc<dyn Readiness>,
    pub(crate) metrics: Option<PrometheusHandle>,
    pub(crate) shutdown: CancellationToken,
    /// The API's own description, served at `/openapi.json`.
    pub(crate) openapi: OpenApi,
    /// Prepended to the path of a created resource in `Location`: the base URL without its
    /// trailing slash, or empty for a path-only location.
    location_base: String,
}

impl AppState {
    pub(crate) fn new(api: ApiState, settings: &HttpSettings, openapi: OpenApi) -> Self {
        Self {
            use_cases: api.use_cases,
            readiness: api.readiness,
            metrics: api.metrics,
            shutdown: api.shutdown,
            openapi,
            location_base: location_base(settings.public_base_url.as_deref()),
        }
    }

    /// Where a created resource can be fetched: `path` (e.g. `/v1/approvals/<id>`) under
    /// the public base URL.
    pub(crate) fn location(&self, path: &str) -> String {
        format!("{}{path}", self.location_base)
    }
}

/// Validates the configured base URL once, at start-up, so building a `Location` header
/// per request cannot fail: a valid header value followed by a path of ASCII letters,
/// digits and hyphens is still a valid header value.
fn location_base(public_base_url: Option<&str>) -> String {
    let Some(base) = public_base_url else {
        return String::new();
    };
    let base = base.trim_end_matches('/');
    let is_absolute = base.starts_with("https://") || base.starts_with("http://");
    if is_absolute && HeaderValue::from_str(base).is_ok() {
        base.to_owned()
    } else {
        // The composition root should have refused this configuration; a relative Location
        // is still correct, so degrade to it rather than fail every create.
        tracing::error!(
            public_base_url = base,
            "public_base_url is not an absolute http(s) URL usable in a header; sending relative Location headers"
        );
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_base_drops_the_trailing_slash() {
        assert_eq!(
            location_base(Some("https://gate.example.com/")),
            "https://gate.example.com"
        );
        assert_eq!(
            location_base(Some("http://localhost:8080/prefix")),
            "http://localhost:8080/prefix"
        );
    }

    #[test]
    fn location_base_falls_back_to_relative_for_unusable_values() {
        for bad in ["gate.example.com", "https://bad\nheader", ""] {
            assert_eq!(location_base(Some(bad)), "", "{bad:?}");
        }
        assert_eq!(location_base(None), "");
    }
}
