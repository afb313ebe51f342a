//! The command line: subcommands and their flags. Settings come from the environment and
//! the optional configuration file (see [`crate::config`]); flags only choose what this
//! process does.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::gate::GateArgs;

#[derive(Debug, Parser)]
#[command(
    name = env!("SERVICE_NAME"),
    version,
    about = "Approval gates with chat as the interface: machines ask, people decide in chat.",
    after_long_help = crate::config::help(),
)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Serve the REST API and run the outbox relay and the expiry sweeper (the default).
    Serve(ServeArgs),
    /// Run only the outbox relay and the expiry sweeper, without the REST API: a worker
    /// process for scaling delivery apart from request handling.
    Relay,
    /// Apply pending database migrations and exit. `serve` also applies them at start-up.
    Migrate,
    /// Manage API keys for REST clients.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Inspect and re-drive the outbox's dead letters.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Set up the Discord application.
    #[command(subcommand)]
    Discord(DiscordCommand),
    /// Ask for an approval and wait for it: the CI step. Exits 0 approved, 1 rejected,
    /// 2 expired or cancelled, 3 when --timeout runs out while pending, 4 on errors; prints
    /// the request as JSON. The API key comes from the environment (see `gate --help`).
    Gate(Box<GateArgs>),
}

impl Default for Command {
    fn default() -> Self {
        Self::Serve(ServeArgs::default())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct ServeArgs {
    /// Do not deliver chat messages from this process; run `<binary> relay` elsewhere.
    #[arg(long)]
    pub no_relay: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it once on standard output. Only its hash is stored. The key
    /// comes with a webhook secret (`whsec_…`) that signs its requests' callbacks.
    Create {
        /// The key's name: the identity its requests and decisions are recorded under
        /// (letters, digits and . _ : @ -).
        #[arg(long)]
        name: String,
        /// Print `{"api_key", "webhook_secret", "name"}` as JSON instead of the key alone.
        #[arg(long)]
        json: bool,
    },
    /// Give a key a new webhook secret and print it. The previous one keeps signing callbacks
    /// (a second signature) for the grace period, so receivers can switch at their pace.
    RotateWebhookSecret {
        /// The key's name.
        #[arg(long)]
        name: String,
        /// How long the previous secret still signs, e.g. `24h`, `30m`, `0s`.
        #[arg(long, default_value = "24h", value_parser = parse_grace)]
        grace: Duration,
    },
}

/// A grace period: a whole number with a unit (`s`, `m`, `h`, `d`).
fn parse_grace(raw: &str) -> Result<Duration, String> {
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{raw:?} is not a duration like 24h"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        _ => return Err(format!("{raw:?} needs a unit: s, m, h or d")),
    };
    Ok(Duration::from_secs(number.saturating_mul(unit)))
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum OutboxCommand {
    /// List the newest dead letters, one per line: id, sink, event, aggregate id, failed
    /// attempts, when it was given up on, and the last error.
    DeadLetters {
        /// Only this sink's (e.g. `chat`).
        #[arg(long)]
        sink: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
    /// Put dead letters back in line, due now with a fresh retry budget.
    Retry(RetryArgs),
}

/// Which dead letters to re-drive: exactly one of the three.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
#[group(required = true, multiple = false)]
pub struct RetryArgs {
    /// These outbox ids (repeat the flag, or separate them with commas).
    #[arg(long = "id", value_delimiter = ',')]
    pub ids: Vec<i64>,
    /// Every dead letter of this sink.
    #[arg(long)]
    pub sink: Option<String>,
    /// Every dead letter.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum DiscordCommand {
    /// Register (or update) the slash command named after the service with Discord
    /// (`PUT /applications/{id}/commands`); needs DISCORD_APPLICATION_ID.
    RegisterCommands,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print the settings in effect, grouped by where each
    /// came from (environment, configuration file, default), secrets redacted.
    Check,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Option<Command> {
        Cli::try_parse_from(args).unwrap().command
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default() {
        assert_eq!(parse(&["service"]).unwrap_or_default(), Command::default());
        assert_eq!(
            parse(&["service", "serve", "--no-relay"]),
            Some(Command::Serve(ServeArgs { no_relay: true }))
        );
    }

    #[test]
    fn subcommands_parse() {
        assert_eq!(parse(&["service", "relay"]), Some(Command::Relay));
        assert_eq!(parse(&["service", "migrate"]), Some(Command::Migrate));
        assert_eq!(
            parse(&["service", "api-key", "create", "--name", "ci"]),
            Some(Command::ApiKey(ApiKeyCommand::Create {
                name: "ci".into(),
                json: false
            }))
        );
        assert_eq!(
            parse(&["service", "api-key", "create", "--name", "ci", "--json"]),
            Some(Command::ApiKey(ApiKeyCommand::Create {
                name: "ci".into(),
                json: true
            }))
        );
        assert_eq!(
            parse(&[
                "service",
                "api-key",
                "rotate-webhook-secret",
                "--name",
                "ci"
            ]),
            Some(Command::ApiKey(ApiKeyCommand::RotateWebhookSecret {
                name: "ci".into(),
                grace: Duration::from_secs(24 * 60 * 60)
            }))
        );
        assert_eq!(
            parse(&[
                "service",
                "api-key",
                "rotate-webhook-secret",
                "--name",
                "ci",
                "--grace",
                "90m"
            ]),
            Some(Command::ApiKey(ApiKeyCommand::RotateWebhookSecret {
                name: "ci".into(),
                grace: Duration::from_secs(90 * 60)
            }))
        );
        assert_eq!(
            parse(&["service", "config", "check"]),
            Some(Command::Config(ConfigCommand::Check))
        );
        assert_eq!(
            parse(&["service", "discord", "register-commands"]),
            Some(Command::Discord(DiscordCommand::RegisterCommands))
        );
    }

    #[test]
    fn outbox_commands_parse() {
        assert_eq!(
            parse(&["service", "outbox", "dead-letters", "--sink", "chat"]),
            Some(Command::Outbox(OutboxCommand::DeadLetters {
                sink: Some("chat".into()),
                limit: 50
            }))
        );
        let retry = |args: RetryArgs| Some(Command::Outbox(OutboxCommand::Retry(args)));
        let none = RetryArgs {
            ids: vec![],
            sink: None,
            all: false,
        };
        assert_eq!(
            parse(&["service", "outbox", "retry", "--id", "3,4", "--id", "9"]),
            retry(RetryArgs {
                ids: vec![3, 4, 9],
                ..none.clone()
            })
        );
        assert_eq!(
            parse(&["service", "outbox", "retry", "--all"]),
            retry(RetryArgs { all: true, ..none })
        );
    }

    #[test]
    fn outbox_retry_takes_exactly_one_selection() {
        for args in [
            &["service", "outbox", "retry"][..],
            &["service", "outbox", "retry", "--all", "--sink", "chat"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn gate_parses() {
        let Some(Command::Gate(args)) = parse(&[
            "service",
            "gate",
            "--url",
            "http://x",
            "--title",
            "t",
            "--destination",
            "C1",
        ]) else {
            panic!("not gate");
        };
        assert_eq!(args.title.as_deref(), Some("t"));
    }

    #[test]
    fn api_key_create_requires_a_name() {
        assert!(Cli::try_parse_from(["service", "api-key", "create"]).is_err());
    }

    #[test]
    fn long_help_lists_the_environment() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("DATABASE_URL"));
    }
}
