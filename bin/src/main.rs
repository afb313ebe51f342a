//! The binary: parse the command line, read the configuration, run one command.
//! Everything else lives in the library (`src/lib.rs`), where tests can reach it.

use std::error::Error;
use std::process::ExitCode;

use application::ports::DeadLetterSelection;
use clap::Parser;
use secrecy::ExposeSecret;
use service::cli::{
    ApiKeyCommand, Cli, Command, ConfigCommand, DiscordCommand, OutboxCommand, RetryArgs, ServeArgs,
};
use service::{Config, Workers, shutdown, telemetry};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> ExitCode {
    let command = Cli::parse().command.unwrap_or_default();
    // `gate` is a client: it reads none of the service's settings.
    if let Command::Gate(args) = command {
        return service::gate::run(*args, &|name| std::env::var(name).ok())
            .await
            .into();
    }
    let config = match Config::from_env(std::env::vars_os()) {
        Ok(config) => config,
        Err(error) => return fail(&error),
    };
    if let Err(error) = telemetry::init(&config.log) {
        return fail(&error);
    }
    match run(command, &config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(error.as_ref()),
    }
}

async fn run(command: Command, config: &Config) -> Result<(), Box<dyn Error>> {
    match command {
        Command::Serve(ServeArgs { no_relay }) => {
            let app = service::build(config).await?;
            let listener = tokio::net::TcpListener::bind(config.addr)
                .await
                .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
            let shutdown = CancellationToken::new();
            shutdown::cancel_on_signal(shutdown.clone())?;
            let workers = Workers {
                relay: !no_relay,
                ..Workers::ALL
            };
            app.serve(listener, workers, shutdown).await?;
            tracing::info!("stopped");
        }
        Command::Relay => {
            let app = service::build(config).await?;
            let shutdown = CancellationToken::new();
            shutdown::cancel_on_signal(shutdown.clone())?;
            app.run_workers(Workers::ALL, shutdown).await?;
            tracing::info!("stopped");
        }
        Command::Migrate => {
            service::open_store(config).await?;
        }
        Command::ApiKey(ApiKeyCommand::Create { name, json }) => {
            let app = service::build(config).await?;
            let created = app.use_cases().create_api_key.execute(&name).await?;
            if json {
                print(
                    &serde_json::json!({
                        "api_key": created.key.expose_secret(),
                        "webhook_secret": created.webhook_secret.expose(),
                        "name": created.name.as_str(),
                    })
                    .to_string(),
                );
            } else {
                // The key alone on stdout, so `KEY=$(<binary> api-key create --name ci)` works.
                print(created.key.expose_secret());
            }
            eprintln!(
                "created API key {}: it is shown only this once; only its hash is stored \
                 (its webhook secret: --json, or rotate-webhook-secret)",
                created.name
            );
        }
        Command::ApiKey(ApiKeyCommand::RotateWebhookSecret { name, grace }) => {
            let app = service::build(config).await?;
            let secret = app
                .use_cases()
                .rotate_webhook_secret
                .execute(&name, grace)
                .await?;
            print(secret.expose());
            eprintln!(
                "rotated the webhook secret of {name}: the previous one also signs for {}",
                humantime(grace)
            );
        }
        Command::Outbox(OutboxCommand::DeadLetters { sink, limit }) => {
            let app = service::build(config).await?;
            for dead in app.use_cases().dead_letters.list(sink, limit).await? {
                let message = dead.message;
                print(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    message.id,
                    message.sink,
                    message.event_type,
                    message.aggregate_id,
                    message.attempts,
                    dead.failed_at.to_rfc3339(),
                    dead.error
                ));
            }
        }
        Command::Outbox(OutboxCommand::Retry(RetryArgs { ids, sink, all })) => {
            let selection = match (sink, all) {
                (_, true) => DeadLetterSelection::All,
                (Some(sink), false) => DeadLetterSelection::Sink(sink),
                (None, false) => DeadLetterSelection::Ids(ids),
            };
            let app = service::build(config).await?;
            let retried = app.use_cases().dead_letters.retry(selection).await?;
            eprintln!("{retried} dead letter(s) put back in line");
        }
        Command::Config(ConfigCommand::Check) => print(&config.report()),
        // `main` runs it before reading the configuration; never reached.
        Command::Gate(_) => return Err("gate does not read the service's configuration".into()),
        Command::Discord(DiscordCommand::RegisterCommands) => {
            let Some(discord) = &config.discord else {
                return Err("Discord is not configured: set DISCORD_BOT_TOKEN, \
                            DISCORD_PUBLIC_KEY and DISCORD_APPLICATION_ID"
                    .into());
            };
            let app = service::build(config).await?;
            let settings = service::discord_settings(discord);
            let count = adapter_discord::register_commands(&settings, app.chat_subjects()).await?;
            eprintln!(
                "registered {count} Discord command(s): /{}",
                env!("SERVICE_NAME")
            );
        }
    }
    Ok(())
}

/// A grace period as people write it (`24h`, `90s`).
fn humantime(duration: std::time::Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[allow(clippy::print_stdout, reason = "a command's output belongs on stdout")]
fn print(text: &str) {
    println!("{}", text.trim_end());
}

/// Prints `error: <error>: <its source>: …` on one line of stderr.
fn fail(error: &dyn Error) -> ExitCode {
    let mut line = format!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    eprintln!("{line}");
    ExitCode::FAILURE
}
