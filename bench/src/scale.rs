//! Cost against table size: hexagate on PostgreSQL with its tables already holding many
//! rows, as those of a service that has run for a while do. Create, get, a cursor
//! walk through the list and the relay's claim should cost the same at every size; these
//! runs show whether they do.
//!
//! The history is written with SQL, not through the API (a million creates would take longer
//! than the rest of the benchmark): copies of one approval made through the API, with ids
//! from the past, and as many outbox rows already delivered. Copying a real row (through
//! `jsonb_populate_record`, which replaces only its id) keeps this file free of hexagate's
//! column encodings; only the outbox's status columns are named.

use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};

use crate::Error;
use crate::databases::{Scratch, Store};
use crate::fake_slack::FakeSlack;
use crate::rounds::{Plan, api_keys, hexagate};
use crate::scenarios::{Measured, Target};
use crate::service::Process;

/// The figures at one size.
#[derive(Debug)]
pub struct AtSize {
    pub rows: u64,
    pub create: Measured,
    pub get: Measured,
    pub list: Measured,
    pub relay_messages_per_second: f64,
}

/// Measures hexagate at each of `sizes` (rows in `approvals` and delivered rows in `outbox`).
pub async fn run(plan: &Plan, sizes: &[u64]) -> Result<Vec<AtSize>, Error> {
    let mut figures = Vec::new();
    for &rows in sizes {
        eprintln!("scale: {rows} rows of history");
        figures.push(at_size(plan, rows).await?);
    }
    Ok(figures)
}

async fn at_size(plan: &Plan, rows: u64) -> Result<AtSize, Error> {
    let scratch = Scratch::create(Store::Postgres, &plan.postgres_admin_url).await?;
    let slack = FakeSlack::start().await?;
    let hexagate = hexagate(plan, &scratch, Some(slack.base_url.clone()));
    let keys = api_keys(&hexagate).await?;
    let server = hexagate.serve().await?;
    let target = Target::new(&server, keys, plan.pace)?;
    target.preload(plan.pace, 1).await?;

    let started = Instant::now();
    fill_history(&scratch.url, rows).await?;
    eprintln!(
        "    history written in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let warm_up = crate::scenarios::Pace {
        duration: plan.warm_up,
        ..plan.pace
    };
    target.create(warm_up, false).await?;
    let create = target.create(plan.pace, false).await?;
    let get = target.get(plan.pace).await?;
    let list = target.list(plan.pace).await?;
    for (name, measured) in [("create", &create), ("get", &get), ("list", &list)] {
        eprintln!(
            "    {name}: {:.0} req/s, p99 {:.1} ms, {} failed",
            measured.summary.rate(),
            measured.summary.latency(0.99).as_secs_f64() * 1e3,
            measured.summary.failures
        );
    }

    // The pending messages: the ones of the creates above, plus a fixed batch, so every
    // size drains at least as many.
    target.preload(plan.pace, plan.relay_messages).await?;
    drop(target);
    server.stop().await;
    let pending = pending_messages(&scratch.url).await?;
    let relays: Vec<Process> = (0..2)
        .map(|n| hexagate.relay(n))
        .collect::<Result<_, _>>()?;
    let drained = slack
        .wait_for_posts(pending, Duration::from_secs(600))
        .await?;
    let relay_messages_per_second = pending as f64 / drained.as_secs_f64().max(f64::EPSILON);
    eprintln!("    relay: {pending} messages at {relay_messages_per_second:.0} msg/s");
    for relay in relays {
        relay.stop().await;
    }
    scratch.remove().await?;
    Ok(AtSize {
        rows,
        create,
        get,
        list,
        relay_messages_per_second,
    })
}

/// Copies the one approval in the database `rows` times, with UUID v7 ids a day and more in
/// the past (so they sort below every new one, as history does), and writes as many outbox
/// rows, delivered.
async fn fill_history(url: &str, rows: u64) -> Result<(), Error> {
    let rows = i64::try_from(rows)?;
    let mut db = PgConnection::connect(url).await?;
    sqlx::query(
        "INSERT INTO approvals
         SELECT (jsonb_populate_record(NULL::approvals, to_jsonb(template) || jsonb_build_object(
                    'id', encode(overlay(uuid_send(gen_random_uuid())
                        placing substring(int8send(
                            (extract(epoch FROM now()) * 1000)::bigint - 86400000 - $1 + g)
                        FROM 3) FROM 1 FOR 6), 'hex')::uuid))).*
         FROM (SELECT * FROM approvals LIMIT 1) AS template, generate_series(1, $1) AS g",
    )
    .bind(rows)
    .execute(&mut db)
    .await
    .map_err(|e| format!("copying the approval failed: {e}"))?;
    sqlx::query(
        "INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload, status,
                             next_attempt_at, created_at, finished_at)
         SELECT aggregate_type, aggregate_id, event_type, payload, 'delivered',
                next_attempt_at, created_at, now()
         FROM (SELECT * FROM outbox LIMIT 1) AS template, generate_series(1, $1)",
    )
    .bind(rows)
    .execute(&mut db)
    .await
    .map_err(|e| format!("writing delivered outbox rows failed: {e}"))?;
    // Now, not while measuring: a bulk insert wakes autovacuum, whose work would otherwise
    // land on the first workload.
    sqlx::raw_sql("VACUUM (ANALYZE) approvals, outbox")
        .execute(&mut db)
        .await?;
    db.close().await?;
    Ok(())
}

/// Counts the messages waiting for the relay.
///
/// The statistics are left as `fill_history` took them, while hardly a message was pending —
/// what autovacuum records on a quiet system. The claim's plan does not depend on them
/// (adapters/postgres/src/outbox.rs, `OUTBOX_CLAIM`); before it was made so, these runs had
/// to refresh them or drain at a few messages per second (docs/performance.md).
async fn pending_messages(url: &str) -> Result<u64, Error> {
    let mut db = PgConnection::connect(url).await?;
    let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'pending'")
        .fetch_one(&mut db)
        .await?;
    db.close().await?;
    Ok(u64::try_from(pending)?)
}
