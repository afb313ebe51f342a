//! Logs and metrics.
//!
//! Logs are structured: human-readable lines in development, JSON lines in production (one
//! flat object per line, with the request's fields on every line of it: `json.rs`). They go
//! to **stderr**: standard output is reserved for what a command produces (the new API
//! key of `api-key create`, the report of `config check`), so it can be piped or captured
//! without log lines mixed in.
//!
//! Metrics go to one Prometheus recorder per process, rendered by the REST adapter at
//! `GET /metrics`: the adapter's HTTP metrics and the service's own (`service_metrics.rs`).

mod json;

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{BuildError, PrometheusHandle, PrometheusRecorder};
use tokio_util::sync::CancellationToken;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogConfig, LogFormat};
use crate::service_metrics;

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid log filter: {0}")]
    Filter(#[from] tracing_subscriber::filter::ParseError),
    #[error("a global logger is already installed: {0}")]
    AlreadyInstalled(#[from] tracing_subscriber::util::TryInitError),
}

/// Installs the global subscriber. Call once, at the start of `main`.
///
/// # Errors
/// When the filter does not parse (the configuration has already checked it) or a
/// subscriber is already installed.
pub fn init(config: &LogConfig) -> Result<(), TelemetryError> {
    let filter = EnvFilter::builder().parse(&config.filter)?;
    let registry = tracing_subscriber::registry().with(filter);
    match config.format {
        LogFormat::Pretty => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::stderr().is_terminal()),
            )
            .try_init()?,
        // One flat object per line, with the fields of every enclosing span (the request id
        // among them), so a log aggregator can group every line of one request.
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .fmt_fields(JsonFields::new())
                    .event_format(json::FlatJson)
                    .with_writer(std::io::stderr),
            )
            .try_init()?,
    }
    Ok(())
}

/// The handle of the process's Prometheus recorder, installed as the global `metrics`
/// recorder on the first call.
///
/// A process has one global recorder, but tests build the application many times in one
/// process; so the first call installs it and every later call returns the same handle.
/// `None` when something else installed a recorder first: metrics then go there, and
/// `/metrics` answers 404 rather than serve an empty page.
pub fn metrics() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = match prometheus_recorder() {
                Ok(recorder) => recorder,
                Err(error) => {
                    tracing::warn!(%error, "metrics disabled: cannot build the recorder");
                    return None;
                }
            };
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "metrics disabled: another recorder is installed");
                    None
                }
            }
        })
        .clone()
}

/// A Prometheus recorder for this service: the REST adapter's, which knows the HTTP metrics,
/// with the descriptions of the service's own metrics added. [`metrics`] installs one per
/// process; tests use one of their own as their thread's recorder.
pub(crate) fn prometheus_recorder() -> Result<PrometheusRecorder, BuildError> {
    let recorder = adapter_http::prometheus_recorder()?;
    metrics::with_local_recorder(&recorder, service_metrics::describe);
    Ok(recorder)
}

/// Folds recorded histogram samples into the Prometheus state every few seconds until
/// `shutdown`, so memory stays bounded even when nothing scrapes `/metrics`.
pub async fn metrics_upkeep(handle: PrometheusHandle, shutdown: CancellationToken) {
    const EVERY: Duration = Duration::from_secs(5);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(EVERY) => handle.run_upkeep(),
        }
    }
}
