//! Typed configuration, read from environment variables and validated once, at start-up.
//!
//! [`Config::from_env`] takes the environment as an argument (the process passes
//! `std::env::vars_os()`, tests pass a list of pairs), checks every variable, and reports
//! *every* problem at once: fixing a deployment one error per restart is slow and
//! frustrating. Secrets go into [`SecretString`] the moment they are read, so neither `Debug`
//! nor a log line can print them, and [`Config::effective`] shows them as `***`.
//!
//! The same variables may also be written in a file that `<PREFIX>_CONFIG_FILE` names, one
//! `NAME=value` per line. The environment wins over the file, so a deployment can keep its
//! settings in a file and still override one for a single run; `<binary> config check`
//! shows where each value came from ([`Source`]).
//!
//! An empty variable counts as unset (`SLACK_BOT_TOKEN=` disables Slack), because container
//! tooling often defines variables it has no value for.
//!
//! Where things are: the list of variables with their defaults (`variables.rs`), the file
//! format (`file.rs`), reading and checking the values (`reader.rs`, with the value formats
//! in `values.rs`), and printing the configuration back for `<binary> config check`
//! (`report.rs`).

mod file;
mod reader;
mod report;
mod values;

/// `500ms`, `30s`, `5m`, `2h`: the durations of the settings, for flags too.
pub(crate) use values::duration;
mod variables;

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use reader::{Reader, parse_addr, parse_log_filter, parse_log_format};
use variables::{
    ADDR, BODY_LIMIT, CALLBACK_ALLOW_HTTP, CALLBACK_ALLOW_PRIVATE_NETWORKS, CALLBACK_MAX_BACKOFF,
    CALLBACK_RETRY_BUDGET, CALLBACK_TIMEOUT, DB_ACQUIRE_TIMEOUT, DB_MAX_CONNECTIONS,
    EXPIRY_SWEEP_INTERVAL, HEADER_LIMIT, IDEMPOTENCY_TTL, LOG_FORMAT, MAX_IN_FLIGHT, MAX_WAITERS,
    OUTBOX_RETENTION, PUBLIC_URL, RELAY_BATCH_SIZE, RELAY_IDLE_INTERVAL, RELAY_LEASE,
    RELAY_MAX_BACKOFF, RELAY_RETRY_BUDGET, REQUEST_TIMEOUT, RUST_LOG, SHUTDOWN_GRACE,
};
pub use variables::{VARIABLES, Variable, help};

/// The whole configuration of one process.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    /// Where people reach the REST API, without a trailing slash, when configured. See
    /// [`reachable_url`](Self::reachable_url).
    pub public_url: Option<String>,
    pub database: Database,
    pub pool: PoolConfig,
    pub log: LogConfig,
    pub http: HttpConfig,
    pub relay: RelayConfig,
    pub callback: CallbackConfig,
    pub expiry_sweep_interval: Duration,
    /// Delivered outbox rows older than this are deleted by the sweeper.
    pub outbox_retention: Duration,
    pub shutdown_grace: Duration,
    /// `None` means no Slack credentials: messages go to the console gateway.
    pub slack: Option<SlackConfig>,
    /// `None` means no Discord credentials: `discord:` destinations are refused.
    pub discord: Option<DiscordConfig>,
    /// `None` means no `NATS_URL`: no event stream, nothing else changes.
    pub nats: Option<NatsConfig>,
    /// The file `<PREFIX>_CONFIG_FILE` named, if any.
    pub config_file: Option<PathBuf>,
    /// Where each variable that was set came from. Private: it is filled by
    /// [`from_env`](Self::from_env) and read through [`source`](Self::source).
    sources: HashMap<&'static str, Source>,
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An environment variable; it wins over the file.
    Environment,
    /// The file named by `<PREFIX>_CONFIG_FILE`.
    File,
    /// Set nowhere: the documented default, or nothing for an optional setting.
    Default,
}

/// Which store to open. The URL scheme decides.
#[derive(Debug, Clone)]
pub enum Database {
    /// The embedded default: a local file, no server needed.
    Sqlite { url: String },
    /// The URL may hold a password, so it is a secret; `redacted` is safe to show.
    Postgres { url: SecretString, redacted: String },
}

impl Database {
    /// The URL with any password replaced by `***`.
    pub fn display_url(&self) -> &str {
        match self {
            Self::Sqlite { url } => url,
            Self::Postgres { redacted, .. } => redacted,
        }
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { url } => write!(f, "SQLite at {url}"),
            Self::Postgres { redacted, .. } => write!(f, "PostgreSQL at {redacted}"),
        }
    }
}

/// Connection pool limits (PostgreSQL; SQLite manages its own small pool).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl LogFormat {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pretty => "pretty",
            Self::Json => "json",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    pub format: LogFormat,
    /// An `EnvFilter` directive string, already checked to parse.
    pub filter: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpConfig {
    pub body_limit: usize,
    pub header_limit: usize,
    pub request_timeout: Duration,
    pub max_in_flight: u32,
    pub max_waiters: u32,
    pub idempotency_ttl: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayConfig {
    pub batch_size: u32,
    pub idle_interval: Duration,
    /// The longest pause after repeated store errors.
    pub max_backoff: Duration,
    /// How long a claim lasts without its heartbeat.
    pub lease: Duration,
    /// How long a failing chat delivery is retried.
    pub retry_budget: Duration,
}

/// The callback sink: which URLs it may call, and how long it keeps trying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackConfig {
    pub allow_private_networks: bool,
    pub allow_http: bool,
    /// One attempt, connecting included.
    pub timeout: Duration,
    pub retry_budget: Duration,
    pub max_backoff: Duration,
}

#[derive(Debug, Clone)]
pub struct SlackConfig {
    pub bot_token: SecretString,
    pub signing_secret: SecretString,
    pub app_id: Option<String>,
    /// Without a trailing slash.
    pub api_base_url: String,
    pub timeout: Duration,
}

/// One Discord application (`adapter-discord`).
#[derive(Debug, Clone)]
pub struct DiscordConfig {
    pub bot_token: SecretString,
    /// 64 lower-case hex characters; public, so not a secret.
    pub public_key: String,
    pub application_id: Option<String>,
    /// Without a trailing slash.
    pub api_base_url: String,
    pub timeout: Duration,
}

/// The JetStream event stream (`adapter-nats`).
#[derive(Debug, Clone)]
pub struct NatsConfig {
    /// One URL or several, comma-separated. A secret: NATS URLs may carry a password.
    pub url: SecretString,
    /// The URL(s) with any password replaced by `***`.
    pub redacted_url: String,
    pub stream: String,
    pub subject_prefix: String,
    /// Longest wait for JetStream's ack of one event.
    pub timeout: Duration,
    pub credentials: NatsCredentials,
    /// The CA of the server's certificate, for private CAs.
    pub ca_file: Option<PathBuf>,
    /// Certificate and key files, for servers that verify clients.
    pub client_certificate: Option<(PathBuf, PathBuf)>,
}

/// How the service authenticates to NATS; at most one way. A user and password can also be in
/// the URL.
#[derive(Debug, Clone)]
pub enum NatsCredentials {
    None,
    UserPassword {
        user: String,
        password: SecretString,
    },
    Token(SecretString),
    /// A `.creds` file: a user JWT and its nkey seed.
    File(PathBuf),
}

/// One thing wrong with one variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub variable: &'static str,
    /// The offending value, shown to help spot typos; `None` for secrets.
    pub value: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{}={value:?}: {}", self.variable, self.message),
            None => write!(f, "{}: {}", self.variable, self.message),
        }
    }
}

/// Every problem found in the environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration")?;
        for problem in &self.problems {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

impl Config {
    /// Reads and validates the configuration from these environment variables, and from the
    /// file `<PREFIX>_CONFIG_FILE` names for the variables they leave unset.
    ///
    /// # Errors
    /// A [`ConfigError`] listing every problem found, not only the first: bad values, a
    /// configuration file that cannot be read, and each of its lines that cannot be used.
    pub fn from_env<I, K, V>(vars: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        let mut env = Reader::new(vars);

        let addr = env.setting(&ADDR, parse_addr, SocketAddr::from(([127, 0, 0, 1], 8080)));
        let public_url = env.setting(&PUBLIC_URL, |raw| values::base_url(raw).map(Some), None);
        let database = env.database();
        let pool = PoolConfig {
            max_connections: env.setting(
                &DB_MAX_CONNECTIONS,
                |raw| values::bounded(raw, 1, 1000),
                10,
            ),
            acquire_timeout: env.setting(
                &DB_ACQUIRE_TIMEOUT,
                values::duration,
                Duration::from_secs(5),
            ),
        };
        let log = LogConfig {
            format: env.setting(&LOG_FORMAT, parse_log_format, LogFormat::Pretty),
            filter: env.setting(&RUST_LOG, parse_log_filter, "info".to_owned()),
        };
        let http = HttpConfig {
            body_limit: env.setting(&BODY_LIMIT, values::byte_size, 64 * 1024),
            header_limit: env.setting(&HEADER_LIMIT, values::byte_size, 32 * 1024),
            request_timeout: env.setting(
                &REQUEST_TIMEOUT,
                values::duration,
                Duration::from_secs(10),
            ),
            max_in_flight: env.setting(&MAX_IN_FLIGHT, |raw| values::bounded(raw, 1, 100_000), 512),
            max_waiters: env.setting(&MAX_WAITERS, |raw| values::bounded(raw, 1, 1_000_000), 4096),
            idempotency_ttl: env.setting(
                &IDEMPOTENCY_TTL,
                values::duration,
                Duration::from_secs(24 * 60 * 60),
            ),
        };
        let shutdown_grace =
            env.setting(&SHUTDOWN_GRACE, values::duration, Duration::from_secs(30));
        let relay = RelayConfig {
            batch_size: env.setting(&RELAY_BATCH_SIZE, |raw| values::bounded(raw, 1, 100), 32),
            idle_interval: env.setting(
                &RELAY_IDLE_INTERVAL,
                values::duration,
                Duration::from_secs(1),
            ),
            max_backoff: env.setting(
                &RELAY_MAX_BACKOFF,
                values::duration,
                Duration::from_secs(30),
            ),
            // At least a second: the heartbeat runs every third of it.
            lease: env.setting(
                &RELAY_LEASE,
                |raw| values::duration_at_least(raw, Duration::from_secs(1)),
                Duration::from_secs(15),
            ),
            retry_budget: env.setting(
                &RELAY_RETRY_BUDGET,
                values::duration,
                Duration::from_secs(24 * 60 * 60),
            ),
        };
        let callback = CallbackConfig {
            allow_private_networks: env.setting(
                &CALLBACK_ALLOW_PRIVATE_NETWORKS,
                values::boolean,
                false,
            ),
            allow_http: env.setting(&CALLBACK_ALLOW_HTTP, values::boolean, false),
            timeout: env.setting(
                &CALLBACK_TIMEOUT,
                |raw| values::duration_at_least(raw, Duration::from_millis(100)),
                Duration::from_secs(10),
            ),
            retry_budget: env.setting(
                &CALLBACK_RETRY_BUDGET,
                values::duration,
                Duration::from_secs(24 * 60 * 60),
            ),
            max_backoff: env.setting(
                &CALLBACK_MAX_BACKOFF,
                values::duration,
                Duration::from_secs(60 * 60),
            ),
        };
        let expiry_sweep_interval = env.setting(
            &EXPIRY_SWEEP_INTERVAL,
            values::duration,
            Duration::from_secs(30),
        );
        let outbox_retention = env.setting(
            &OUTBOX_RETENTION,
            values::duration,
            Duration::from_secs(7 * 24 * 60 * 60),
        );
        let slack = env.slack();
        let discord = env.discord();
        let nats = env.nats();

        match database {
            Some(database) if env.problems.is_empty() => Ok(Self {
                addr,
                public_url,
                database,
                pool,
                log,
                http,
                relay,
                callback,
                expiry_sweep_interval,
                outbox_retention,
                shutdown_grace,
                slack,
                discord,
                nats,
                config_file: env.config_file,
                sources: env.sources,
            }),
            _ => Err(ConfigError {
                problems: env.problems,
            }),
        }
    }

    /// Where the value of the variable named `name` came from.
    pub fn source(&self, name: &str) -> Source {
        self.sources.get(name).copied().unwrap_or(Source::Default)
    }

    /// Where people reach the REST API: the public URL, or else this server's own address.
    ///
    /// Listening on every interface (`0.0.0.0`) says nothing about how people reach the
    /// server; loopback is the useful guess on a developer machine, and production sets
    /// `<PREFIX>_PUBLIC_URL`.
    pub fn reachable_url(&self) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let host = if self.addr.ip().is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            self.addr.ip()
        };
        format!("http://{}", SocketAddr::new(host, self.addr.port()))
    }
}

#[cfg(test)]
mod tests;
