//! The event stream's drain: two `hexagate relay` processes publishing the outbox's event
//! rows to NATS JetStream (adapters/nats), each publish waiting for JetStream's ack, while
//! the same processes drain the chat rows into the fast fake Slack, as they would in
//! production. It runs when a NATS server with JetStream answers at `--nats`; each drain
//! has a stream and subjects of its own, deleted afterwards.

use std::time::{Duration, Instant};

use async_nats::jetstream;

use crate::Error;
use crate::databases::{Scratch, Store};
use crate::fake_slack::FakeSlack;
use crate::report::Results;
use crate::rounds::{Plan, api_keys, hexagate};
use crate::scenarios::Target;
use crate::service::Process;

/// A JetStream connection, if a server answers at `url`.
pub async fn connect(url: &str) -> Option<jetstream::Context> {
    let options = async_nats::ConnectOptions::new().connection_timeout(Duration::from_secs(2));
    match options.connect(url).await {
        Ok(client) => Some(jetstream::new(client)),
        Err(error) => {
            eprintln!("    skipped the event stream drain: no NATS server at {url} ({error})");
            None
        }
    }
}

/// Fills the outbox through the API with the relays off, then times two relays publishing
/// its event rows. The figure is events per second from the first stored to the last.
pub async fn drain(
    plan: &Plan,
    store: Store,
    nats_url: &str,
    js: &jetstream::Context,
    results: &mut Results,
) -> Result<(), Error> {
    let scratch = Scratch::create(store, &plan.postgres_admin_url).await?;
    let slack = FakeSlack::start().await?;
    let token = uuid::Uuid::now_v7().simple().to_string();
    let stream = format!("HEXAGATE_BENCH_{}", token.to_uppercase());
    let mut hexagate = hexagate(plan, &scratch, Some(slack.base_url.clone()));
    hexagate.env = vec![
        ("NATS_URL".into(), nats_url.into()),
        ("HEXAGATE_NATS_STREAM".into(), stream.clone()),
        (
            "HEXAGATE_NATS_SUBJECT_PREFIX".into(),
            format!("hexagate.bench.{token}"),
        ),
    ];
    let keys = api_keys(&hexagate).await?;
    let server = hexagate.serve().await?;
    Target::new(&server, keys, plan.pace)?
        .preload(plan.pace, plan.relay_messages)
        .await?;
    server.stop().await;

    let relays: Vec<Process> = (0..2)
        .map(|n| hexagate.relay(n))
        .collect::<Result<_, _>>()?;
    let outcome = time_until_stored(js, &stream, plan.relay_messages).await;
    for relay in relays {
        relay.stop().await;
    }
    // The stream goes whatever happened; a failed drain must not leave it behind.
    let _ = js.delete_stream(&stream).await;
    let drained = outcome?;
    let rate =
        plan.relay_messages.saturating_sub(1) as f64 / drained.as_secs_f64().max(f64::EPSILON);
    eprintln!(
        "    {} events stored in {:.2} s: {rate:.0} events/s",
        plan.relay_messages,
        drained.as_secs_f64()
    );
    results.events(store, rate);
    scratch.remove().await
}

/// From the first message stored in `stream` to the `count`th.
async fn time_until_stored(
    js: &jetstream::Context,
    stream: &str,
    count: u64,
) -> Result<Duration, Error> {
    let limit = Instant::now() + Duration::from_secs(600);
    let mut first: Option<Instant> = None;
    loop {
        let stored = match js.get_stream(stream).await {
            Ok(mut found) => found.info().await.map_or(0, |info| info.state.messages),
            Err(_) => 0, // not created yet
        };
        if stored > 0 && first.is_none() {
            first = Some(Instant::now());
        }
        if stored >= count {
            return Ok(first.map_or(Duration::ZERO, |at| at.elapsed()));
        }
        if Instant::now() > limit {
            return Err(
                format!("only {stored} of {count} events were stored within 10 minutes").into(),
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
