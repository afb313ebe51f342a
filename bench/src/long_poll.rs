//! What a thousand waiting long-polls cost hexagate, and how fast a decision wakes them.
//!
//! One `serve --no-relay` on a fresh PostgreSQL database gets `--waiters` approval requests,
//! then one `GET /v1/approvals/{id}?wait=60s` per request, all at once, each on its own
//! connection. While they wait it reads the service's resident memory (against the same
//! process before they came), its connection pool from `/metrics` (sampled by the service
//! every 15 s, so the run waits for a fresh sample) and its sessions from
//! `pg_stat_activity`. Then it decides the requests one after another and times, for each,
//! from sending the decision to its waiter's answer: the wake latency a pipeline sees. It
//! includes the decision's own round trip, the commit, `NOTIFY`, the instance's `LISTEN`,
//! and the waiter's re-read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use tokio::sync::Mutex;

use crate::Error;
use crate::databases::{Scratch, Store};
use crate::service::Hexagate;

#[derive(Debug, Args)]
pub struct LongPollArgs {
    /// Concurrent long-polls, each on a request of its own.
    #[arg(long, default_value_t = 1000)]
    waiters: usize,
}

/// How long the service's gauges may be old: its sampling interval, and a second.
const GAUGE_AGE: Duration = Duration::from_secs(16);

pub async fn run(
    args: LongPollArgs,
    binary: Option<std::path::PathBuf>,
    admin_url: &str,
) -> Result<(), Error> {
    let binary = match binary {
        Some(path) => path,
        None => crate::build_hexagate().await?,
    };
    let scratch = Scratch::create(Store::Postgres, admin_url).await?;
    let hexagate = Hexagate {
        binary,
        database_url: scratch.url.clone(),
        slack_api_base_url: None,
        log_dir: scratch.dir.path().to_owned(),
        env: vec![(
            "HEXAGATE_MAX_WAITERS".into(),
            (args.waiters + 16).to_string(),
        )],
    };
    hexagate.migrate().await?;
    let (ci, alice) = (
        hexagate.create_api_key("ci").await?,
        hexagate.create_api_key("alice").await?,
    );
    let server = hexagate.serve().await?;
    let client = reqwest::Client::new();
    let mut ids = Vec::with_capacity(args.waiters);
    for n in 0..args.waiters {
        let created: Value = client
            .post(format!("{}/v1/approvals", server.base_url))
            .bearer_auth(&ci)
            .json(&json!({"title": format!("Deploy build {n}?"), "destination": "C0DEPLOYS"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        ids.push(created["id"].as_str().ok_or("no id")?.to_owned());
    }
    let rss_before = server.rss()?;

    // One client per waiter: its own connection, as a thousand pipelines would have.
    let woken: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; ids.len()]));
    let mut waiters = tokio::task::JoinSet::new();
    for (n, id) in ids.iter().enumerate() {
        let url = format!("{}/v1/approvals/{id}?wait=60s", server.base_url);
        let (key, woken) = (ci.clone(), woken.clone());
        waiters.spawn(async move {
            let answer: Value = reqwest::Client::new()
                .get(url)
                .bearer_auth(key)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            woken.lock().await[n] = Some(Instant::now());
            Ok::<_, Error>(answer["status"] == "approved")
        });
    }
    // Until every waiter has connected and parked, and the service has sampled its pool.
    tokio::time::sleep(GAUGE_AGE).await;
    let rss_waiting = server.rss()?;
    let (pool_open, pool_idle) = pool_gauges(&client, &server.base_url).await?;
    let (sessions, busy_sessions) = sessions(admin_url, &scratch.url).await?;

    let mut sent = Vec::with_capacity(ids.len());
    for id in &ids {
        sent.push(Instant::now());
        client
            .post(format!("{}/v1/approvals/{id}/decisions", server.base_url))
            .bearer_auth(&alice)
            .json(&json!({"verdict": "approve"}))
            .send()
            .await?
            .error_for_status()?;
    }
    let mut approved = 0;
    while let Some(finished) = waiters.join_next().await {
        if finished?? {
            approved += 1;
        }
    }
    server.stop().await;
    scratch.remove().await?;

    let woken = woken.lock().await;
    let mut latencies: Vec<Duration> = sent
        .iter()
        .zip(woken.iter())
        .filter_map(|(sent, woken)| Some(woken.as_ref()?.saturating_duration_since(*sent)))
        .collect();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    let mb = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    print(&format!(
        "{waiters} concurrent long-polls (`?wait=60s`) on one hexagate, PostgreSQL; \
         {approved} answered approved:\n\n\
         | RSS before | RSS waiting | delta | pool open / idle / in use | database sessions / not idle |\n\
         |---|---|---|---|---|\n\
         | {:.1} MB | {:.1} MB | {:.1} MB | {pool_open} / {pool_idle} / {} | {sessions} / {busy_sessions} |\n\n\
         Wake latency, from sending the decision to its waiter's answer:\n\n\
         | p50 | p90 | p99 | max |\n|---|---|---|---|\n| {} | {} | {} | {} |",
        mb(rss_before),
        mb(rss_waiting),
        mb(rss_waiting.saturating_sub(rss_before)),
        pool_open.saturating_sub(pool_idle),
        ms(at(0.50)),
        ms(at(0.90)),
        ms(at(0.99)),
        ms(*latencies.last().ok_or("no waiter was woken")?),
        waiters = ids.len(),
    ));
    Ok(())
}

/// `db_pool_connections` and `db_pool_idle_connections` from `/metrics`.
async fn pool_gauges(client: &reqwest::Client, base_url: &str) -> Result<(u64, u64), Error> {
    let text = client
        .get(format!("{base_url}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let gauge = |name: &str| -> Result<u64, Error> {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|value| value.trim().parse::<f64>().ok())
            .map(|value| value as u64)
            .ok_or_else(|| format!("no {name} in /metrics").into())
    };
    Ok((
        gauge("db_pool_connections")?,
        gauge("db_pool_idle_connections")?,
    ))
}

/// The service's sessions on its database, and how many of them are running a statement
/// (the `LISTEN` session idles between notifications).
async fn sessions(admin_url: &str, database_url: &str) -> Result<(i64, i64), Error> {
    let name = reqwest::Url::parse(database_url)?
        .path()
        .trim_start_matches('/')
        .to_owned();
    let mut admin = PgConnection::connect(admin_url).await?;
    let counts: (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE state <> 'idle')
         FROM pg_stat_activity WHERE datname = $1",
    )
    .bind(name)
    .fetch_one(&mut admin)
    .await?;
    admin.close().await?;
    Ok(counts)
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

#[allow(clippy::print_stdout, reason = "the table is the program's output")]
fn print(text: &str) {
    println!("{}", text.trim_end());
}
