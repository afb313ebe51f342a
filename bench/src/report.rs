//! Collecting the figures of every round and printing their medians as markdown tables.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::databases::Store;
use crate::scenarios::Measured;

/// The services compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum System {
    Hexagate,
    Flat,
}

/// The HTTP workloads, in the order the tables list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Workload {
    Create,
    Get,
    Decide,
    IdempotentCreate,
    CreateWithRelay,
}

impl Workload {
    fn label(self) -> &'static str {
        match self {
            Self::Create => "create `POST /v1/approvals`",
            Self::Get => "get `GET /v1/approvals/{id}`",
            Self::Decide => "decide `POST …/decisions`",
            Self::IdempotentCreate => "create with `Idempotency-Key`",
            Self::CreateWithRelay => "create with its relay on (console chat)",
        }
    }
}

/// Every figure of every round, kept until the medians are taken.
#[derive(Debug, Default)]
pub struct Results {
    http: BTreeMap<(Workload, Store, System), Vec<Measured>>,
    peak_rss: BTreeMap<(Store, System), Vec<u64>>,
    pgbench_tps: Vec<f64>,
    /// Messages per second, per store.
    relay: BTreeMap<Store, Vec<f64>>,
    /// Events per second into JetStream, per store.
    events: BTreeMap<Store, Vec<f64>>,
}

impl Results {
    pub fn http(&mut self, workload: Workload, store: Store, system: System, measured: Measured) {
        self.http
            .entry((workload, store, system))
            .or_default()
            .push(measured);
    }

    pub fn peak_rss(&mut self, store: Store, system: System, bytes: u64) {
        self.peak_rss
            .entry((store, system))
            .or_default()
            .push(bytes);
    }

    pub fn pgbench(&mut self, tps: f64) {
        self.pgbench_tps.push(tps);
    }

    pub fn relay(&mut self, store: Store, messages_per_second: f64) {
        self.relay
            .entry(store)
            .or_default()
            .push(messages_per_second);
    }

    pub fn events(&mut self, store: Store, events_per_second: f64) {
        self.events
            .entry(store)
            .or_default()
            .push(events_per_second);
    }

    fn rate(&self, workload: Workload, store: Store, system: System) -> Option<f64> {
        let runs = self.http.get(&(workload, store, system))?;
        median(runs.iter().map(|m| m.summary.rate()).collect())
    }

    fn latency(&self, key: (Workload, Store, System), quantile: f64) -> Option<f64> {
        let runs = self.http.get(&key)?;
        median(
            runs.iter()
                .map(|m| millis(m.summary.latency(quantile)))
                .collect(),
        )
    }

    fn cpu(&self, key: (Workload, Store, System)) -> Option<f64> {
        let runs = self.http.get(&key)?;
        median(
            runs.iter()
                .map(|m| m.cpu_per_request.as_secs_f64() * 1e6)
                .collect(),
        )
    }

    fn failures(&self, key: (Workload, Store, System)) -> u64 {
        self.http
            .get(&key)
            .map_or(0, |runs| runs.iter().map(|m| m.summary.failures).sum())
    }

    /// The tables, in markdown.
    pub fn render(&self, rounds: u32) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Medians of {rounds} interleaved round(s). Ratios are hexagate ÷ the other; \
             above 1 means hexagate is faster.\n"
        );
        self.render_http(&mut out);
        self.render_limits(&mut out);
        out
    }

    fn render_http(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "| workload | store | hexagate req/s | flat req/s | hexagate ÷ flat | p50 ms hexagate / flat | p99 ms hexagate / flat | server CPU µs/req hexagate / flat | failed |"
        );
        let _ = writeln!(out, "|---|---|--:|--:|--:|--:|--:|--:|--:|");
        for workload in [Workload::Create, Workload::Get, Workload::Decide] {
            for store in [Store::Postgres, Store::Sqlite] {
                let hexagate = (workload, store, System::Hexagate);
                let flat = (workload, store, System::Flat);
                let (Some(h), Some(f)) = (
                    self.rate(workload, store, System::Hexagate),
                    self.rate(workload, store, System::Flat),
                ) else {
                    continue;
                };
                let _ = writeln!(
                    out,
                    "| {} | {store} | {} | {} | {} | {} / {} | {} / {} | {} / {} | {} |",
                    workload.label(),
                    thousands(h),
                    thousands(f),
                    ratio(h, f),
                    decimal(self.latency(hexagate, 0.5)),
                    decimal(self.latency(flat, 0.5)),
                    decimal(self.latency(hexagate, 0.99)),
                    decimal(self.latency(flat, 0.99)),
                    whole(self.cpu(hexagate)),
                    whole(self.cpu(flat)),
                    self.failures(hexagate) + self.failures(flat),
                );
            }
        }
    }

    fn render_limits(&self, out: &mut String) {
        let _ = writeln!(out, "\n| measure | store | figure | ratio |");
        let _ = writeln!(out, "|---|---|--:|---|");
        // Variants of a create, each against hexagate's plain create (relay off, no key).
        for workload in [Workload::IdempotentCreate, Workload::CreateWithRelay] {
            for store in [Store::Postgres, Store::Sqlite] {
                let create = self.rate(Workload::Create, store, System::Hexagate);
                let Some(rate) = self.rate(workload, store, System::Hexagate) else {
                    continue;
                };
                let key = (workload, store, System::Hexagate);
                let _ = writeln!(
                    out,
                    "| hexagate {} (p50 / p99 {} / {} ms) | {store} | {} req/s | {} of hexagate's plain create |",
                    workload.label(),
                    decimal(self.latency(key, 0.5)),
                    decimal(self.latency(key, 0.99)),
                    thousands(rate),
                    create.map_or_else(|| "—".into(), |c| ratio(rate, c)),
                );
            }
        }
        if let Some(tps) = median(self.pgbench_tps.clone()) {
            let of = |system| {
                self.rate(Workload::Create, Store::Postgres, system)
                    .map_or_else(|| "—".into(), |rate| ratio(rate, tps))
            };
            let _ = writeln!(
                out,
                "| pgbench running a create's statements (the database's limit) | {} | {} tx/s | hexagate create {} of it, flat {} |",
                Store::Postgres,
                thousands(tps),
                of(System::Hexagate),
                of(System::Flat),
            );
        }
        for (store, rates) in &self.relay {
            if let Some(rate) = median(rates.clone()) {
                let _ = writeln!(
                    out,
                    "| relay drain: 2 `hexagate relay` processes, fast fake Slack | {store} | {} msg/s | — |",
                    thousands(rate),
                );
            }
        }
        for (store, rates) in &self.events {
            if let Some(rate) = median(rates.clone()) {
                let _ = writeln!(
                    out,
                    "| event stream drain: the same 2 processes into NATS JetStream, acked, chat draining alongside | {store} | {} events/s | — |",
                    thousands(rate),
                );
            }
        }
        for store in [Store::Postgres, Store::Sqlite] {
            let peak = |system| {
                self.peak_rss
                    .get(&(store, system))
                    .and_then(|runs| median(runs.iter().map(|&b| b as f64 / 1048576.0).collect()))
            };
            if let (Some(h), Some(f)) = (peak(System::Hexagate), peak(System::Flat)) {
                let _ = writeln!(
                    out,
                    "| peak RSS under this load, hexagate / flat | {store} | {h:.0} / {f:.0} MiB | {} |",
                    ratio(h, f),
                );
            }
        }
    }
}

/// The median of `values`; `None` for none.
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some(f64::midpoint(values[n / 2 - 1], values[n / 2])),
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}", a / b)
    } else {
        "—".into()
    }
}

fn decimal(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| format!("{v:.1}"))
}

fn whole(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| format!("{v:.0}"))
}

/// `12345.6` as `12,346`.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The scale runs: each size's figures, and each as a fraction of the smallest size's.
pub fn render_scale(sizes: &[crate::scale::AtSize]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| rows in `approvals` and delivered rows in `outbox` | create req/s (p99 ms) | get req/s (p99 ms) | list page req/s (p99 ms) | relay drain msg/s |"
    );
    let _ = writeln!(out, "|--:|--:|--:|--:|--:|");
    let Some(first) = sizes.first() else {
        return out;
    };
    let cell = |measured: &Measured, base: &Measured| {
        format!(
            "{} ({:.1}) ×{}",
            thousands(measured.summary.rate()),
            millis(measured.summary.latency(0.99)),
            ratio(measured.summary.rate(), base.summary.rate()),
        )
    };
    for size in sizes {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} ×{} |",
            thousands(size.rows as f64),
            cell(&size.create, &first.create),
            cell(&size.get, &first.get),
            cell(&size.list, &first.list),
            thousands(size.relay_messages_per_second),
            ratio(
                size.relay_messages_per_second,
                first.relay_messages_per_second
            ),
        );
    }
    let _ = writeln!(
        out,
        "\n×: the rate as a fraction of the first row's; 1.00 means the cost did not grow."
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![]), None);
    }

    #[test]
    fn thousands_are_separated_by_commas() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
    }
}
