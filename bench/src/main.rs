//! The hexagate benchmark: one command builds the release binary, starts hexagate and a flat
//! baseline against fresh PostgreSQL and SQLite databases, loads them in interleaved rounds,
//! adds pgbench (the database's own limit), a relay drain into a fast fake Slack and one into
//! NATS JetStream (when a server answers), and
//! prints a markdown table of medians and ratios.
//!
//! ```sh
//! cargo run --release -p bench               # the full run, 10–20 minutes on 2 cores
//! cargo run --release -p bench -- --quick    # a smoke run, about 2 minutes
//! cargo run --release -p bench -- discord-ack # Discord click ack latency, 200 clicks
//! cargo run --release -p bench -- long-poll --waiters 1000 # what waiting long-polls cost
//! cargo run --release -p bench -- relay-drain --store postgres # only the relay drain
//! ```
//!
//! Everything is driven from the outside — the `hexagate` binary, its CLI, its HTTP API —
//! so the figures are what a client sees, and nothing here depends on hexagate's crates.
//! Figures vary by machine; the ratios are what to compare. docs/performance.md explains
//! how to read the table. Nothing here is asserted anywhere: a benchmark prints.
//!
//! Map: the load generator → `load.rs`; the workloads → `scenarios.rs`; one round →
//! `rounds.rs`; processes and `/proc` → `service.rs`; the baseline → `flat/`.

mod databases;
mod discord_ack;
mod events;
mod fake_slack;
mod flat;
mod load;
mod long_poll;
mod machine;
mod pgbench;
mod relay_drain;
mod report;
mod rounds;
mod scale;
mod scenarios;
mod service;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::report::Results;
use crate::rounds::Plan;
use crate::scenarios::Pace;

/// A tool's errors: each one ends the run with its message, so a boxed error with the
/// context written into it is all that is needed.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Parser)]
#[command(about = "Benchmarks hexagate against a flat baseline, pgbench and a fake Slack")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// A smoke run: one round of 3 s per workload and a 2,000-message drain.
    #[arg(long)]
    quick: bool,
    /// Interleaved rounds; the table shows their medians (default 3, 1 with --quick; 0 with
    /// --scale runs only that).
    #[arg(long)]
    rounds: Option<u32>,
    /// Length of each measured workload, e.g. `10s` (default 10s, 3s with --quick).
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Concurrent client connections.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Messages in each relay drain (default 10,000, 2,000 with --quick).
    #[arg(long)]
    relay_messages: Option<u64>,
    /// A PostgreSQL database to connect to while creating and dropping the scratch ones.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres: String,
    /// Also measure hexagate on PostgreSQL with 1×, 10× and 100× `--scale-base` rows of
    /// history in its tables.
    #[arg(long)]
    scale: bool,
    /// The smallest history of `--scale` (default 10,000, so up to 1,000,000; 1,000 with
    /// --quick).
    #[arg(long)]
    scale_base: Option<u64>,
    /// The NATS server (with JetStream) of the event stream drain; `none` skips it. The
    /// drain is skipped too when no server answers there.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats: String,
    /// A hexagate binary to use instead of building one with `cargo build --release`.
    #[arg(long)]
    hexagate: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the flat baseline (the benchmark starts it itself).
    Flat(flat::FlatArgs),
    /// Measure how fast hexagate answers signed Discord button clicks (the ack Discord
    /// wants within 3 s): p50/p99/max over `--clicks` clicks, each deciding a request.
    DiscordAck(discord_ack::DiscordAckArgs),
    /// Measure what `--waiters` concurrent long-polls cost on PostgreSQL (memory, pool
    /// connections, database sessions) and how fast a decision wakes each.
    LongPoll(long_poll::LongPollArgs),
    /// Time only the relay drain: fill the outbox, then let `--relays` relays empty it into
    /// the fast fake Slack.
    RelayDrain(relay_drain::RelayDrainArgs),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // reqwest is built with `rustls-no-provider` (one crypto backend for the workspace), and
    // builds no client until a provider is installed, even for plain-HTTP loopback use. An
    // error means one is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::Flat(args)) => flat::serve(args).await,
        Some(Command::DiscordAck(args)) => discord_ack::run(args, cli.hexagate).await,
        Some(Command::LongPoll(args)) => long_poll::run(args, cli.hexagate, &cli.postgres).await,
        Some(Command::RelayDrain(args)) => {
            relay_drain::run(args, cli.hexagate, &cli.postgres).await
        }
        None => benchmark(cli).await,
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn benchmark(cli: Cli) -> Result<(), Error> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build of the load generator; run with --release for \
             figures worth reading"
        );
    }
    let rounds = cli.rounds.unwrap_or(if cli.quick { 1 } else { 3 });
    let default_duration = Duration::from_secs(if cli.quick { 3 } else { 10 });
    let plan = Plan {
        hexagate: match cli.hexagate {
            Some(path) => path,
            None => build_hexagate().await?,
        },
        postgres_admin_url: cli.postgres,
        pace: Pace {
            connections: cli.connections.max(1),
            duration: cli.duration.unwrap_or(default_duration),
        },
        warm_up: Duration::from_secs(if cli.quick { 1 } else { 2 }),
        relay_messages: cli
            .relay_messages
            .unwrap_or(if cli.quick { 2_000 } else { 10_000 }),
        pgbench_clients: 10,
        nats_url: (cli.nats != "none").then_some(cli.nats),
    };
    let machine = machine::describe(&plan.postgres_admin_url).await;
    let mut results = Results::default();
    for round in 0..rounds {
        rounds::run(&plan, round, &mut results).await?;
    }
    print(&format!(
        "{machine}\nLoad: {} connections, {:?} per workload, {} relay messages.",
        plan.pace.connections, plan.pace.duration, plan.relay_messages,
    ));
    // `--rounds 0 --scale` runs only the scale part.
    if rounds > 0 {
        print(&format!("\n{}", results.render(rounds)));
    }
    if cli.scale {
        let base = cli
            .scale_base
            .unwrap_or(if cli.quick { 1_000 } else { 10_000 });
        let figures = scale::run(&plan, &[base, base * 10, base * 100]).await?;
        print(&format!(
            "\n### Cost against table size (hexagate, PostgreSQL, one run each)\n\n{}",
            report::render_scale(&figures)
        ));
    }
    Ok(())
}

#[allow(clippy::print_stdout, reason = "the table is the program's output")]
pub(crate) fn print(text: &str) {
    println!("{}", text.trim_end());
}

/// Builds hexagate's release binary with the cargo that runs this program and returns its
/// path, as cargo reports it (so `CARGO_TARGET_DIR` and the like are honoured).
pub(crate) async fn build_hexagate() -> Result<PathBuf, Error> {
    eprintln!("building hexagate (cargo build --release --bin hexagate)…");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = tokio::process::Command::new(cargo)
        // Without `-p`: the default members' features, as a plain `cargo build --release`
        // resolves them, so a binary built that way is reused instead of built again.
        .args(["build", "--release", "--locked", "--bin", "hexagate"])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stderr(std::process::Stdio::inherit())
        .output()
        .await?;
    if !output.status.success() {
        return Err("building hexagate failed".into());
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == "hexagate")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo built hexagate but did not say where the binary is".into())
}

/// `500ms`, `10s`, `2m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?} has no unit (ms, s or m)"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} does not start with a whole number"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(Duration::from_secs(number)),
        "m" => Ok(Duration::from_secs(number * 60)),
        _ => Err(format!("{text:?}: the unit must be ms, s or m")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_milliseconds_seconds_and_minutes() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
    }

    #[test]
    fn a_duration_without_a_known_unit_is_refused() {
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("10h").is_err());
        assert!(parse_duration("s").is_err());
    }
}
