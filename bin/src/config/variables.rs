//! The environment variables the service reads, declared once: name, default, one-line
//! description. `--help`, `config check` and a README test all read this list.

/// One environment variable the service reads, for `--help`, the README and `config check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    pub name: &'static str,
    /// The value used when the variable is unset, written as one would set it; empty when
    /// the default is derived (see `about`).
    pub default: &'static str,
    pub about: &'static str,
    /// Secrets are never echoed, not even in error messages.
    pub secret: bool,
}

const fn plain(name: &'static str, default: &'static str, about: &'static str) -> Variable {
    Variable {
        name,
        default,
        about,
        secret: false,
    }
}

pub const CONFIG_FILE: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_CONFIG_FILE"),
    "",
    "file of NAME=value lines for the variables below; the environment overrides it",
);
pub const ADDR: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR"),
    "127.0.0.1:8080",
    "address and port the HTTP server listens on",
);
pub const PUBLIC_URL: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_PUBLIC_URL"),
    "",
    "externally visible base URL, for Location headers and the console's curl commands",
);
pub const DATABASE_URL: Variable = Variable {
    secret: true,
    ..plain(
        "DATABASE_URL",
        "",
        concat!(
            "postgres://… or sqlite:…; unset = SQLite file at ",
            env!("SERVICE_ENV_PREFIX"),
            "_SQLITE_PATH"
        ),
    )
};
pub const SQLITE_PATH: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
    concat!("./", env!("SERVICE_NAME"), ".db"),
    "SQLite file used when DATABASE_URL is unset (created if missing)",
);
pub const DB_MAX_CONNECTIONS: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_DB_MAX_CONNECTIONS"),
    "10",
    "PostgreSQL connection pool size",
);
pub const DB_ACQUIRE_TIMEOUT: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_DB_ACQUIRE_TIMEOUT"),
    "5s",
    "longest wait for a PostgreSQL connection, also at start-up",
);
pub const LOG_FORMAT: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_LOG_FORMAT"),
    "pretty",
    "pretty (human-readable) or json (one object per line)",
);
pub const RUST_LOG: Variable = plain("RUST_LOG", "info", "log filter, e.g. info,service=debug");
pub const BODY_LIMIT: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_BODY_LIMIT"),
    "64KiB",
    "largest accepted request body",
);
pub const HEADER_LIMIT: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_HEADER_LIMIT"),
    "32KiB",
    "largest accepted block of request headers",
);
pub const REQUEST_TIMEOUT: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_REQUEST_TIMEOUT"),
    "10s",
    "longest time one HTTP request may take",
);
pub const MAX_IN_FLIGHT: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_MAX_IN_FLIGHT"),
    "512",
    "most /v1 requests handled at once; beyond it requests get 503",
);
pub const MAX_WAITERS: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_MAX_WAITERS"),
    "4096",
    "most long-polls (GET …?wait=) waiting at once; beyond it they get 503",
);
pub const IDEMPOTENCY_TTL: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_IDEMPOTENCY_TTL"),
    "24h",
    "how long a used Idempotency-Key is remembered",
);
pub const SHUTDOWN_GRACE: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_SHUTDOWN_GRACE"),
    "30s",
    "how long shutdown waits for requests and the relay to finish",
);
pub const RELAY_BATCH_SIZE: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_BATCH_SIZE"),
    "32",
    "outbox messages the relay claims per round",
);
pub const RELAY_IDLE_INTERVAL: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_IDLE_INTERVAL"),
    "1s",
    "relay pause when the outbox is empty",
);
pub const RELAY_MAX_BACKOFF: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_MAX_BACKOFF"),
    "30s",
    "longest relay pause after repeated store errors",
);
pub const RELAY_LEASE: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_LEASE"),
    "15s",
    "how long a relay's claim lasts without its heartbeat; a crashed relay's messages are \
     taken over after it",
);
pub const RELAY_RETRY_BUDGET: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_RETRY_BUDGET"),
    "24h",
    "how long a failing chat delivery is retried before it is dead-lettered",
);
pub const CALLBACK_ALLOW_PRIVATE_NETWORKS: Variable = plain(
    concat!(
        env!("SERVICE_ENV_PREFIX"),
        "_CALLBACK_ALLOW_PRIVATE_NETWORKS"
    ),
    "false",
    "true = callback URLs may reach loopback and private networks (never a metadata endpoint)",
);
pub const CALLBACK_ALLOW_HTTP: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_CALLBACK_ALLOW_HTTP"),
    "false",
    "true = callback URLs may use plain http besides https",
);
pub const CALLBACK_TIMEOUT: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_CALLBACK_TIMEOUT"),
    "10s",
    "longest wait for a callback receiver's answer; no answer in time means a retry",
);
pub const CALLBACK_RETRY_BUDGET: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_CALLBACK_RETRY_BUDGET"),
    "24h",
    "how long a failing callback is retried before it is dead-lettered",
);
pub const CALLBACK_MAX_BACKOFF: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_CALLBACK_MAX_BACKOFF"),
    "1h",
    "longest gap between two attempts at a failing callback",
);
pub const OUTBOX_RETENTION: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_OUTBOX_RETENTION"),
    "168h",
    "how long delivered outbox rows are kept before the sweeper deletes them",
);
pub const EXPIRY_SWEEP_INTERVAL: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_EXPIRY_SWEEP_INTERVAL"),
    "30s",
    "how often old Idempotency-Keys are deleted; deadlines set elsewhere are noticed within it",
);
pub const SLACK_BOT_TOKEN: Variable = Variable {
    secret: true,
    ..plain(
        "SLACK_BOT_TOKEN",
        "",
        "Slack bot token (xoxb-…); unset = console chat gateway",
    )
};
pub const SLACK_SIGNING_SECRET: Variable = Variable {
    secret: true,
    ..plain(
        "SLACK_SIGNING_SECRET",
        "",
        "Slack signing secret; required with SLACK_BOT_TOKEN",
    )
};
pub const SLACK_APP_ID: Variable = plain(
    "SLACK_APP_ID",
    "",
    "Slack app id; interactions from other apps are refused",
);
pub const SLACK_API_BASE_URL: Variable = plain(
    "SLACK_API_BASE_URL",
    "https://slack.com/api",
    "Slack Web API base URL (tests point it at a fake)",
);
pub const SLACK_TIMEOUT: Variable = plain("SLACK_TIMEOUT", "10s", "timeout of one Slack API call");
pub const DISCORD_BOT_TOKEN: Variable = Variable {
    secret: true,
    ..plain(
        "DISCORD_BOT_TOKEN",
        "",
        "Discord bot token; set = discord:<channel id> destinations are posted to Discord",
    )
};
pub const DISCORD_PUBLIC_KEY: Variable = plain(
    "DISCORD_PUBLIC_KEY",
    "",
    "Discord application public key (64 hex); required with DISCORD_BOT_TOKEN",
);
pub const DISCORD_APPLICATION_ID: Variable = plain(
    "DISCORD_APPLICATION_ID",
    "",
    "Discord application id; for register-commands, and other applications are refused",
);
pub const DISCORD_API_BASE_URL: Variable = plain(
    "DISCORD_API_BASE_URL",
    "https://discord.com/api/v10",
    "Discord REST API base URL (tests point it at a fake)",
);
pub const DISCORD_TIMEOUT: Variable =
    plain("DISCORD_TIMEOUT", "10s", "timeout of one Discord API call");
/// A secret: NATS URLs may carry a user and password.
pub const NATS_URL: Variable = Variable {
    secret: true,
    ..plain(
        "NATS_URL",
        "",
        "NATS server(s), comma-separated; set = domain events go to JetStream",
    )
};
pub const NATS_STREAM: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_NATS_STREAM"),
    concat!(env!("SERVICE_ENV_PREFIX"), "_EVENTS"),
    "JetStream stream of the events; created if missing",
);
pub const NATS_SUBJECT_PREFIX: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_NATS_SUBJECT_PREFIX"),
    concat!(env!("SERVICE_NAME"), ".events"),
    "events are published to PREFIX.<aggregate>.<event>",
);
pub const NATS_TIMEOUT: Variable = plain(
    concat!(env!("SERVICE_ENV_PREFIX"), "_NATS_TIMEOUT"),
    "5s",
    "longest wait for JetStream to acknowledge one event",
);
pub const NATS_USER: Variable = plain("NATS_USER", "", "NATS user; with NATS_PASSWORD");
pub const NATS_PASSWORD: Variable = Variable {
    secret: true,
    ..plain("NATS_PASSWORD", "", "NATS password; with NATS_USER")
};
pub const NATS_TOKEN: Variable = Variable {
    secret: true,
    ..plain("NATS_TOKEN", "", "NATS authentication token")
};
pub const NATS_CREDS: Variable = plain(
    "NATS_CREDS",
    "",
    "NATS .creds file (user JWT and nkey seed)",
);
pub const NATS_CA: Variable = plain(
    "NATS_CA",
    "",
    "PEM file of the CA of the NATS server's certificate; requires TLS",
);
pub const NATS_CERT: Variable = plain(
    "NATS_CERT",
    "",
    "PEM client certificate for NATS; with NATS_KEY, requires TLS",
);
pub const NATS_KEY: Variable = plain("NATS_KEY", "", "PEM key of NATS_CERT");

/// Every variable, in the order `--help` and `config check` show them.
pub const VARIABLES: [Variable; 49] = [
    CONFIG_FILE,
    ADDR,
    PUBLIC_URL,
    DATABASE_URL,
    SQLITE_PATH,
    DB_MAX_CONNECTIONS,
    DB_ACQUIRE_TIMEOUT,
    LOG_FORMAT,
    RUST_LOG,
    BODY_LIMIT,
    HEADER_LIMIT,
    REQUEST_TIMEOUT,
    MAX_IN_FLIGHT,
    MAX_WAITERS,
    IDEMPOTENCY_TTL,
    SHUTDOWN_GRACE,
    RELAY_BATCH_SIZE,
    RELAY_IDLE_INTERVAL,
    RELAY_MAX_BACKOFF,
    RELAY_LEASE,
    RELAY_RETRY_BUDGET,
    CALLBACK_ALLOW_PRIVATE_NETWORKS,
    CALLBACK_ALLOW_HTTP,
    CALLBACK_TIMEOUT,
    CALLBACK_RETRY_BUDGET,
    CALLBACK_MAX_BACKOFF,
    OUTBOX_RETENTION,
    EXPIRY_SWEEP_INTERVAL,
    SLACK_BOT_TOKEN,
    SLACK_SIGNING_SECRET,
    SLACK_APP_ID,
    SLACK_API_BASE_URL,
    SLACK_TIMEOUT,
    DISCORD_BOT_TOKEN,
    DISCORD_PUBLIC_KEY,
    DISCORD_APPLICATION_ID,
    DISCORD_API_BASE_URL,
    DISCORD_TIMEOUT,
    NATS_URL,
    NATS_STREAM,
    NATS_SUBJECT_PREFIX,
    NATS_TIMEOUT,
    NATS_USER,
    NATS_PASSWORD,
    NATS_TOKEN,
    NATS_CREDS,
    NATS_CA,
    NATS_CERT,
    NATS_KEY,
];

/// The environment-variable section of `<binary> --help`.
pub fn help() -> String {
    let mut text = String::from("Environment variables (empty counts as unset):\n");
    // At least 31 columns, and wider when a long service name makes the names longer.
    let width = VARIABLES
        .iter()
        .map(|variable| variable.name.len())
        .fold(31, usize::max);
    for variable in VARIABLES {
        text.push_str(&format!("  {:<width$} {}", variable.name, variable.about));
        if !variable.default.is_empty() {
            text.push_str(&format!(" [default: {}]", variable.default));
        }
        text.push('\n');
    }
    text
}
