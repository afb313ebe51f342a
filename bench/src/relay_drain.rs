//! The relay drain on its own, for working on the relay: the outbox filled through the API,
//! then `--relays` `hexagate relay` processes timed while they empty it into the fast fake
//! Slack, on each store, `--rounds` times. The full benchmark runs the same drain
//! (`rounds::relay_drain`) once per round with two relays.

use std::time::Duration;

use clap::Args;

use crate::Error;
use crate::databases::Store;
use crate::rounds::{self, Plan};
use crate::scenarios::Pace;

#[derive(Debug, Args)]
pub struct RelayDrainArgs {
    /// Messages in each drain.
    #[arg(long, default_value_t = 10_000)]
    messages: u64,
    /// Relay processes sharing the outbox.
    #[arg(long, default_value_t = 2)]
    relays: usize,
    /// Drains per store; the figures of each are printed.
    #[arg(long, default_value_t = 1)]
    rounds: u32,
    /// Only this store (`postgres` or `sqlite`); both by default.
    #[arg(long, value_parser = parse_store)]
    store: Option<Store>,
    /// A setting for the relay processes, e.g. `HEXAGATE_RELAY_BATCH_SIZE=50`; repeatable.
    #[arg(long = "relay-env", value_parser = parse_setting)]
    relay_env: Vec<(String, String)>,
}

pub async fn run(
    args: RelayDrainArgs,
    binary: Option<std::path::PathBuf>,
    postgres_admin_url: &str,
) -> Result<(), Error> {
    let plan = Plan {
        hexagate: match binary {
            Some(path) => path,
            None => crate::build_hexagate().await?,
        },
        postgres_admin_url: postgres_admin_url.to_owned(),
        pace: Pace {
            connections: 16,
            duration: Duration::ZERO,
        },
        warm_up: Duration::ZERO,
        relay_messages: args.messages,
        pgbench_clients: 0,
        nats_url: None,
    };
    let stores = match args.store {
        Some(store) => vec![store],
        None => vec![Store::Postgres, Store::Sqlite],
    };
    let mut lines = Vec::new();
    for round in 0..args.rounds {
        for &store in &stores {
            eprintln!("round {round}: relay drain on {store}");
            let rate = rounds::relay_drain(&plan, store, args.relays, &args.relay_env).await?;
            lines.push(format!(
                "| {store} | {} | {} | {rate:.0} |",
                args.relays, args.messages
            ));
        }
    }
    crate::print(&format!(
        "| store | relays | messages | msg/s |\n|---|--:|--:|--:|\n{}",
        lines.join("\n")
    ));
    Ok(())
}

fn parse_store(text: &str) -> Result<Store, String> {
    match text {
        "postgres" => Ok(Store::Postgres),
        "sqlite" => Ok(Store::Sqlite),
        _ => Err(format!("{text:?}: the store is `postgres` or `sqlite`")),
    }
}

fn parse_setting(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("{text:?} is not NAME=VALUE"))
}
