//! The service's own metrics, beside the HTTP ones the REST adapter records. They go through
//! the `metrics` facade to the process's Prometheus recorder, so `GET /metrics` shows them.
//!
//! | metric | type | what it counts |
//! |---|---|---|
//! | `relay_deliveries_total{sink}` | counter | outbox messages delivered to the sink |
//! | `relay_retries_total{sink}` | counter | failed deliveries scheduled for another attempt |
//! | `relay_rate_limits_total{sink}` | counter | times the sink asked the relay to pause |
//! | `relay_dead_letters_total{sink}` | counter | messages given up on |
//! | `outbox_pending_messages{sink}` | gauge | messages waiting for delivery to the sink |
//! | `outbox_dead_letters{sink}` | gauge | dead-lettered messages kept for an operator |
//! | `db_pool_connections` | gauge | open database connections (SQL stores only) |
//! | `db_pool_idle_connections` | gauge | open connections waiting for work |
//!
//! The relay and outbox metrics carry the sink's name (`chat`, …) as their one label; the
//! pool gauges have none. Prometheus adds the instance.
//!
//! The counters move when the relay loop finishes a round (`record_relay_round`); the
//! gauges are sampled every [`SAMPLE_EVERY`] by `sample_gauges`, because a count of the
//! outbox is a query and should not run per request. The relay counters are per process,
//! so their rates add up across instances; the outbox gauges count one shared table and
//! read the same on every instance, so take their `max` across instances, not their `sum`.

use std::sync::Arc;
use std::time::Duration;

use adapter_postgres::PostgresStore;
use adapter_sqlite::SqliteStore;
use application::ports::{Outbox, SinkStats};
use application::use_cases::DeliveryReport;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

pub const RELAY_DELIVERIES_TOTAL: &str = "relay_deliveries_total";
pub const RELAY_RETRIES_TOTAL: &str = "relay_retries_total";
pub const RELAY_RATE_LIMITS_TOTAL: &str = "relay_rate_limits_total";
pub const RELAY_DEAD_LETTERS_TOTAL: &str = "relay_dead_letters_total";
pub const OUTBOX_PURGED_TOTAL: &str = "outbox_purged_total";
/// The label naming the sink on the relay and outbox metrics.
pub const SINK_LABEL: &str = "sink";
pub const OUTBOX_PENDING_MESSAGES: &str = "outbox_pending_messages";
pub const OUTBOX_DEAD_LETTERS: &str = "outbox_dead_letters";
pub const DB_POOL_CONNECTIONS: &str = "db_pool_connections";
pub const DB_POOL_IDLE_CONNECTIONS: &str = "db_pool_idle_connections";

/// How often the gauges are sampled: as often as Prometheus typically scrapes, so a scrape
/// rarely sees a value older than one interval, while each instance counts the outbox only
/// four times a minute.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(15);

/// A store's connection pool, as the pool gauges see it.
///
/// Not a port: the application never asks about connections; only the composition root
/// does, for metrics. So the trait lives here and the SQL stores' own `pool_stats` feed it,
/// and the in-memory fakes, which have no pool, simply do not implement it.
#[async_trait::async_trait]
pub trait ConnectionPool: Send + Sync {
    /// Open connections, and how many of them are idle.
    fn connections(&self) -> PoolUsage;

    /// Closes every connection once it is returned; later acquires fail.
    async fn close(&self);
}

/// A snapshot of a connection pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    pub open: u32,
    pub idle: u32,
}

#[async_trait::async_trait]
impl ConnectionPool for SqliteStore {
    fn connections(&self) -> PoolUsage {
        let stats = self.pool_stats();
        PoolUsage {
            open: stats.connections,
            idle: stats.idle,
        }
    }

    async fn close(&self) {
        SqliteStore::close(self).await;
    }
}

#[async_trait::async_trait]
impl ConnectionPool for PostgresStore {
    fn connections(&self) -> PoolUsage {
        let stats = self.pool_stats();
        PoolUsage {
            open: stats.connections,
            idle: stats.idle,
        }
    }

    async fn close(&self) {
        PostgresStore::close(self).await;
    }
}

/// Gives every metric here its `# HELP` text. Call with the recorder the metrics go to.
pub(crate) fn describe() {
    metrics::describe_counter!(
        RELAY_DELIVERIES_TOTAL,
        "Outbox messages the relay delivered to the sink"
    );
    metrics::describe_counter!(
        RELAY_RATE_LIMITS_TOTAL,
        "Times the sink asked the relay to slow down, pausing it for its Retry-After"
    );
    metrics::describe_counter!(
        RELAY_RETRIES_TOTAL,
        "Failed deliveries the relay scheduled for another attempt"
    );
    metrics::describe_counter!(
        RELAY_DEAD_LETTERS_TOTAL,
        "Outbox messages the relay gave up on after a permanent error or its retry budget"
    );
    metrics::describe_counter!(
        OUTBOX_PURGED_TOTAL,
        "Delivered outbox rows deleted once older than the outbox retention setting"
    );
    metrics::describe_gauge!(
        OUTBOX_PENDING_MESSAGES,
        "Outbox messages waiting to be delivered (all instances share the outbox)"
    );
    metrics::describe_gauge!(
        OUTBOX_DEAD_LETTERS,
        "Dead-lettered outbox messages kept for an operator to inspect"
    );
    metrics::describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Open database connections of this process, in use or idle"
    );
    metrics::describe_gauge!(
        DB_POOL_IDLE_CONNECTIONS,
        "Open database connections of this process that wait for work"
    );
}

/// Adds one relay round to the relay counters. Every round is recorded, empty ones too, so
/// the counters show as 0 from the first round rather than appearing with the first
/// delivery (an absent series and a zero one look different to a rule watching them).
pub(crate) fn record_relay_round(sink: &'static str, report: &DeliveryReport) {
    metrics::counter!(RELAY_DELIVERIES_TOTAL, SINK_LABEL => sink).increment(report.delivered);
    metrics::counter!(RELAY_RETRIES_TOTAL, SINK_LABEL => sink).increment(report.retried);
    metrics::counter!(RELAY_RATE_LIMITS_TOTAL, SINK_LABEL => sink)
        .increment(u64::from(report.paused_until.is_some()));
    metrics::counter!(RELAY_DEAD_LETTERS_TOTAL, SINK_LABEL => sink).increment(report.dead_lettered);
}

/// Counts delivered outbox rows the sweeper deleted.
pub(crate) fn record_outbox_purged(rows: u64) {
    metrics::counter!(OUTBOX_PURGED_TOTAL).increment(rows);
}

/// Sets the gauges from the outbox counts and the connection pool, if the store has one.
/// Every registered sink in `sinks` gets its outbox gauges, zero when it has no rows waiting;
/// a sink with rows that is not registered (any more) shows up too. When the store cannot
/// count, the outbox gauges keep their last value and the failure is logged; the relay and
/// `/readyz` report the outage itself.
pub(crate) async fn sample_gauges(
    outbox: &dyn Outbox,
    pool: Option<&dyn ConnectionPool>,
    sinks: &[&'static str],
) {
    // The pool first, so the gauges show the service's use of it, not the count below.
    if let Some(pool) = pool {
        let usage = pool.connections();
        metrics::gauge!(DB_POOL_CONNECTIONS).set(usage.open);
        metrics::gauge!(DB_POOL_IDLE_CONNECTIONS).set(usage.idle);
    }
    match outbox.stats().await {
        Ok(mut stats) => {
            for sink in sinks {
                if !stats.iter().any(|counted| counted.sink == *sink) {
                    stats.push(SinkStats {
                        sink: (*sink).to_owned(),
                        pending: 0,
                        dead: 0,
                    });
                }
            }
            for sink in stats {
                // Exact up to 2^53 messages.
                metrics::gauge!(OUTBOX_PENDING_MESSAGES, SINK_LABEL => sink.sink.clone())
                    .set(sink.pending as f64);
                metrics::gauge!(OUTBOX_DEAD_LETTERS, SINK_LABEL => sink.sink).set(sink.dead as f64);
            }
        }
        Err(error) => tracing::warn!(%error, "cannot count the outbox for the metrics"),
    }
}

/// Samples the gauges at once and then every [`SAMPLE_EVERY`], until `shutdown`.
pub(crate) async fn gauge_sampler(
    outbox: Arc<dyn Outbox>,
    pool: Option<Arc<dyn ConnectionPool>>,
    sinks: Vec<&'static str>,
    shutdown: CancellationToken,
) {
    let mut ticks = tokio::time::interval(SAMPLE_EVERY);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            _ = ticks.tick() => sample_gauges(outbox.as_ref(), pool.as_deref(), &sinks).await,
        }
    }
}

#[cfg(test)]
mod tests;
