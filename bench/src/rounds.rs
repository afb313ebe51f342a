//! One round of the benchmark: every measurement once, each against fresh databases and fresh
//! processes. Rounds alternate which service goes first, so a machine that slows down or
//! warms up during a round does not always favour the same one.

use std::time::{Duration, Instant};

use crate::Error;
use crate::databases::{Scratch, Store};
use crate::fake_slack::FakeSlack;
use crate::pgbench;
use crate::report::{Results, System, Workload};
use crate::scenarios::{Keys, Pace, Target};
use crate::service::{self, Hexagate, Process};

/// What every round uses.
#[derive(Debug, Clone)]
pub struct Plan {
    pub hexagate: std::path::PathBuf,
    pub postgres_admin_url: String,
    pub pace: Pace,
    /// Unmeasured creates before the measured ones: connection pools fill, caches warm.
    pub warm_up: Duration,
    /// Outbox messages each relay drain starts with.
    pub relay_messages: u64,
    /// Clients of the pgbench run: the services' pool size, the connections they may use.
    pub pgbench_clients: usize,
    /// The NATS server of the event stream drain; none skips it.
    pub nats_url: Option<String>,
}

const STORES: [Store; 2] = [Store::Postgres, Store::Sqlite];

pub async fn run(plan: &Plan, round: u32, results: &mut Results) -> Result<(), Error> {
    let order = if round.is_multiple_of(2) {
        [System::Hexagate, System::Flat]
    } else {
        [System::Flat, System::Hexagate]
    };
    for store in STORES {
        for system in order {
            eprintln!("round {round}: {system:?} on {store}");
            http(plan, store, system, results).await?;
        }
        eprintln!("round {round}: hexagate with its relay on {store}");
        create_with_relay(plan, store, results).await?;
    }
    eprintln!("round {round}: pgbench");
    pgbench_limit(plan, results).await?;
    for store in STORES {
        eprintln!("round {round}: relay drain on {store}");
        let rate = relay_drain(plan, store, 2, &[]).await?;
        results.relay(store, rate);
    }
    if let Some(url) = &plan.nats_url
        && let Some(js) = crate::events::connect(url).await
    {
        for store in STORES {
            eprintln!("round {round}: event stream drain on {store}");
            crate::events::drain(plan, store, url, &js, results).await?;
        }
    }
    Ok(())
}

/// Creates, gets and decides on one fresh service, then (hexagate) creates idempotently.
async fn http(
    plan: &Plan,
    store: Store,
    system: System,
    results: &mut Results,
) -> Result<(), Error> {
    let scratch = Scratch::create(store, &plan.postgres_admin_url).await?;
    let hexagate = hexagate(plan, &scratch, None);
    let (process, keys) = match system {
        System::Hexagate => {
            let keys = api_keys(&hexagate).await?;
            (hexagate.serve().await?, keys)
        }
        System::Flat => {
            let keys = Keys {
                requester: random_key(),
                approver: random_key(),
            };
            let accepted = [
                ("ci", keys.requester.as_str()),
                ("alice", keys.approver.as_str()),
            ];
            let process = service::flat(&scratch.url, &accepted, scratch.dir.path()).await?;
            (process, keys)
        }
    };
    let target = Target::new(&process, keys, plan.pace)?;
    let warm_up = Pace {
        duration: plan.warm_up,
        ..plan.pace
    };
    target.create(warm_up, false).await?;

    let mut record = |workload, measured: crate::scenarios::Measured| {
        eprintln!(
            "    {workload:?}: {:.0} req/s, p99 {:.1} ms, {} failed",
            measured.summary.rate(),
            measured.summary.latency(0.99).as_secs_f64() * 1e3,
            measured.summary.failures
        );
        results.http(workload, store, system, measured);
    };
    record(Workload::Create, target.create(plan.pace, false).await?);
    record(Workload::Get, target.get(plan.pace).await?);
    record(Workload::Decide, target.decide(plan.pace).await?);
    if system == System::Hexagate {
        record(
            Workload::IdempotentCreate,
            target.create(plan.pace, true).await?,
        );
    }
    results.peak_rss(store, system, process.peak_rss()?);
    drop(target);
    process.stop().await;
    scratch.remove().await
}

/// Creates on a fresh service whose relay delivers in the same process to the console chat,
/// as a single instance runs by default: what the relay's work takes from the API.
async fn create_with_relay(plan: &Plan, store: Store, results: &mut Results) -> Result<(), Error> {
    let scratch = Scratch::create(store, &plan.postgres_admin_url).await?;
    let hexagate = hexagate(plan, &scratch, None);
    let keys = api_keys(&hexagate).await?;
    let process = hexagate.serve_with_relay().await?;
    let target = Target::new(&process, keys, plan.pace)?;
    let warm_up = Pace {
        duration: plan.warm_up,
        ..plan.pace
    };
    target.create(warm_up, false).await?;
    let measured = target.create(plan.pace, false).await?;
    eprintln!(
        "    create with the relay on: {:.0} req/s, p99 {:.1} ms, {} failed",
        measured.summary.rate(),
        measured.summary.latency(0.99).as_secs_f64() * 1e3,
        measured.summary.failures
    );
    results.http(Workload::CreateWithRelay, store, System::Hexagate, measured);
    drop(target);
    process.stop().await;
    scratch.remove().await
}

/// pgbench on a database hexagate migrated, if pgbench is installed.
async fn pgbench_limit(plan: &Plan, results: &mut Results) -> Result<(), Error> {
    let scratch = Scratch::create(Store::Postgres, &plan.postgres_admin_url).await?;
    let hexagate = hexagate(plan, &scratch, None);
    hexagate.migrate().await?;
    let key = hexagate.create_api_key("ci").await?;
    let tps = pgbench::create_transaction(
        &scratch.url,
        "ci",
        &key,
        plan.pgbench_clients,
        plan.pace.duration,
        scratch.dir.path(),
    )
    .await?;
    match tps {
        Some(tps) => {
            eprintln!("    {tps:.0} tx/s");
            results.pgbench(tps);
        }
        None => eprintln!("    skipped: pgbench is not on PATH"),
    }
    scratch.remove().await
}

/// Fills the outbox through the API with the relay off, then times `relays` relay processes
/// (with these extra settings) emptying it into the fake Slack: messages per second.
pub(crate) async fn relay_drain(
    plan: &Plan,
    store: Store,
    relays: usize,
    relay_env: &[(String, String)],
) -> Result<f64, Error> {
    let scratch = Scratch::create(store, &plan.postgres_admin_url).await?;
    let slack = FakeSlack::start().await?;
    let mut hexagate = hexagate(plan, &scratch, Some(slack.base_url.clone()));
    let keys = api_keys(&hexagate).await?;
    let server = hexagate.serve().await?;
    let preloaded = Target::new(&server, keys, plan.pace)?
        .preload(plan.pace, plan.relay_messages)
        .await?;
    eprintln!(
        "    outbox filled: {} messages at {:.0} req/s",
        preloaded.successes(),
        preloaded.rate()
    );
    server.stop().await;

    hexagate.env.extend_from_slice(relay_env);
    let started = Instant::now();
    let relays: Vec<Process> = (0..relays)
        .map(|n| hexagate.relay(n))
        .collect::<Result<_, _>>()?;
    let drained = slack
        .wait_for_posts(plan.relay_messages, Duration::from_secs(600))
        .await?;
    let rate = plan.relay_messages as f64 / drained.as_secs_f64().max(f64::EPSILON);
    eprintln!(
        "    drained in {:.1} s ({:.1} s with start-up): {rate:.0} msg/s, {} updates",
        drained.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        slack.updates()
    );
    for relay in relays {
        relay.stop().await;
    }
    scratch.remove().await?;
    Ok(rate)
}

pub(crate) fn hexagate(plan: &Plan, scratch: &Scratch, slack: Option<String>) -> Hexagate {
    Hexagate {
        binary: plan.hexagate.clone(),
        database_url: scratch.url.clone(),
        slack_api_base_url: slack,
        log_dir: scratch.dir.path().to_owned(),
        env: Vec::new(),
    }
}

/// Migrates and creates the two callers, through hexagate's own CLI.
pub(crate) async fn api_keys(hexagate: &Hexagate) -> Result<Keys, Error> {
    hexagate.migrate().await?;
    Ok(Keys {
        requester: hexagate.create_api_key("ci").await?,
        approver: hexagate.create_api_key("alice").await?,
    })
}

fn random_key() -> String {
    format!("flat-{:032x}", rand::random::<u128>())
}
