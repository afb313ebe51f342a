//! The configuration in effect, written back in the syntax of the variables and grouped by
//! where each value came from, for `<binary> config check`.

use std::time::Duration;

use super::variables::{
    ADDR, BODY_LIMIT, CONFIG_FILE, DATABASE_URL, DB_ACQUIRE_TIMEOUT, DB_MAX_CONNECTIONS,
    EXPIRY_SWEEP_INTERVAL, HEADER_LIMIT, IDEMPOTENCY_TTL, LOG_FORMAT, MAX_IN_FLIGHT, MAX_WAITERS,
    OUTBOX_RETENTION, PUBLIC_URL, RELAY_BATCH_SIZE, RELAY_IDLE_INTERVAL, RELAY_LEASE,
    RELAY_MAX_BACKOFF, RELAY_RETRY_BUDGET, REQUEST_TIMEOUT, RUST_LOG, SHUTDOWN_GRACE,
    SLACK_API_BASE_URL, SLACK_APP_ID, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_TIMEOUT,
};
use super::variables::{
    CALLBACK_ALLOW_HTTP, CALLBACK_ALLOW_PRIVATE_NETWORKS, CALLBACK_MAX_BACKOFF,
    CALLBACK_RETRY_BUDGET, CALLBACK_TIMEOUT,
};
use super::variables::{
    DISCORD_API_BASE_URL, DISCORD_APPLICATION_ID, DISCORD_BOT_TOKEN, DISCORD_PUBLIC_KEY,
    DISCORD_TIMEOUT,
};
use super::variables::{
    NATS_CA, NATS_CERT, NATS_CREDS, NATS_KEY, NATS_PASSWORD, NATS_STREAM, NATS_SUBJECT_PREFIX,
    NATS_TIMEOUT, NATS_TOKEN, NATS_URL, NATS_USER,
};
use super::{Config, NatsConfig, NatsCredentials, Source};

impl Config {
    /// Every setting in effect, as `(variable, value)` in the syntax the variable takes, with
    /// secrets shown as `***`. Unset optional settings have an empty value. This is what
    /// `<binary> config check` prints, and it reads back as an environment file.
    pub fn effective(&self) -> Vec<(&'static str, String)> {
        let secret = |set: bool| if set { "***" } else { "" }.to_owned();
        let slack = self.slack.as_ref();
        let mut settings = vec![
            (
                CONFIG_FILE.name,
                self.config_file
                    .as_ref()
                    .map(|path| path.display().to_string())
                    .unwrap_or_default(),
            ),
            (ADDR.name, self.addr.to_string()),
            (PUBLIC_URL.name, self.public_url.clone().unwrap_or_default()),
            (DATABASE_URL.name, self.database.display_url().to_owned()),
            (
                DB_MAX_CONNECTIONS.name,
                self.pool.max_connections.to_string(),
            ),
            (
                DB_ACQUIRE_TIMEOUT.name,
                format_duration(self.pool.acquire_timeout),
            ),
            (LOG_FORMAT.name, self.log.format.as_str().to_owned()),
            (RUST_LOG.name, self.log.filter.clone()),
            (BODY_LIMIT.name, format_size(self.http.body_limit)),
            (HEADER_LIMIT.name, format_size(self.http.header_limit)),
            (
                REQUEST_TIMEOUT.name,
                format_duration(self.http.request_timeout),
            ),
            (MAX_IN_FLIGHT.name, self.http.max_in_flight.to_string()),
            (MAX_WAITERS.name, self.http.max_waiters.to_string()),
            (
                IDEMPOTENCY_TTL.name,
                format_duration(self.http.idempotency_ttl),
            ),
            (SHUTDOWN_GRACE.name, format_duration(self.shutdown_grace)),
            (RELAY_BATCH_SIZE.name, self.relay.batch_size.to_string()),
            (
                RELAY_IDLE_INTERVAL.name,
                format_duration(self.relay.idle_interval),
            ),
            (
                RELAY_MAX_BACKOFF.name,
                format_duration(self.relay.max_backoff),
            ),
            (RELAY_LEASE.name, format_duration(self.relay.lease)),
            (
                RELAY_RETRY_BUDGET.name,
                format_duration(self.relay.retry_budget),
            ),
            (
                CALLBACK_ALLOW_PRIVATE_NETWORKS.name,
                self.callback.allow_private_networks.to_string(),
            ),
            (
                CALLBACK_ALLOW_HTTP.name,
                self.callback.allow_http.to_string(),
            ),
            (
                CALLBACK_TIMEOUT.name,
                format_duration(self.callback.timeout),
            ),
            (
                CALLBACK_RETRY_BUDGET.name,
                format_duration(self.callback.retry_budget),
            ),
            (
                CALLBACK_MAX_BACKOFF.name,
                format_duration(self.callback.max_backoff),
            ),
            (
                OUTBOX_RETENTION.name,
                format_duration(self.outbox_retention),
            ),
            (
                EXPIRY_SWEEP_INTERVAL.name,
                format_duration(self.expiry_sweep_interval),
            ),
            (SLACK_BOT_TOKEN.name, secret(slack.is_some())),
            (SLACK_SIGNING_SECRET.name, secret(slack.is_some())),
            (
                SLACK_APP_ID.name,
                slack.and_then(|s| s.app_id.clone()).unwrap_or_default(),
            ),
            (
                SLACK_API_BASE_URL.name,
                slack.map(|s| s.api_base_url.clone()).unwrap_or_default(),
            ),
            (
                SLACK_TIMEOUT.name,
                slack
                    .map(|s| format_duration(s.timeout))
                    .unwrap_or_default(),
            ),
        ];
        let discord = self.discord.as_ref();
        settings.extend([
            (DISCORD_BOT_TOKEN.name, secret(discord.is_some())),
            (
                DISCORD_PUBLIC_KEY.name,
                discord.map(|d| d.public_key.clone()).unwrap_or_default(),
            ),
            (
                DISCORD_APPLICATION_ID.name,
                discord
                    .and_then(|d| d.application_id.clone())
                    .unwrap_or_default(),
            ),
            (
                DISCORD_API_BASE_URL.name,
                discord.map(|d| d.api_base_url.clone()).unwrap_or_default(),
            ),
            (
                DISCORD_TIMEOUT.name,
                discord
                    .map(|d| format_duration(d.timeout))
                    .unwrap_or_default(),
            ),
        ]);
        settings.extend(nats_settings(self.nats.as_ref()));
        settings
    }

    /// What `<binary> config check` prints: [`effective`](Self::effective) as an environment
    /// file, in three groups: set in the environment, set in the configuration file, and
    /// the defaults. Each group keeps the order of `--help`.
    pub fn report(&self) -> String {
        let mut text = String::from("# effective configuration; secrets are shown as ***\n");
        let settings = self.effective();
        for source in [Source::Environment, Source::File, Source::Default] {
            let group: Vec<_> = settings
                .iter()
                // An empty value is a setting that does not apply (Slack's, without Slack),
                // whoever set it, so it is listed with the defaults.
                .filter(|(name, value)| {
                    let shown = if value.is_empty() {
                        Source::Default
                    } else {
                        self.source(name)
                    };
                    shown == source
                })
                .collect();
            if group.is_empty() {
                continue;
            }
            text.push_str(&format!("\n# {}\n", self.heading(source)));
            for (name, value) in group {
                text.push_str(&format!("{name}={value}\n"));
            }
        }
        text
    }

    fn heading(&self, source: Source) -> String {
        match (source, &self.config_file) {
            (Source::Environment, _) => "from the environment".to_owned(),
            (Source::File, Some(path)) => format!("from {}", path.display()),
            (Source::File, None) => "from the configuration file".to_owned(),
            (Source::Default, _) => "defaults (empty: not set)".to_owned(),
        }
    }
}

/// The NATS part of [`Config::effective`]: all empty without `NATS_URL`.
fn nats_settings(nats: Option<&NatsConfig>) -> Vec<(&'static str, String)> {
    let Some(nats) = nats else {
        return [
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
        ]
        .iter()
        .map(|variable| (variable.name, String::new()))
        .collect();
    };
    let path = |path: Option<&std::path::PathBuf>| {
        path.map(|path| path.display().to_string())
            .unwrap_or_default()
    };
    let (user, password, token, creds) = match &nats.credentials {
        NatsCredentials::None => (String::new(), "", "", String::new()),
        NatsCredentials::UserPassword { user, .. } => (user.clone(), "***", "", String::new()),
        NatsCredentials::Token(_) => (String::new(), "", "***", String::new()),
        NatsCredentials::File(file) => (String::new(), "", "", path(Some(file))),
    };
    let certificate = nats.client_certificate.as_ref();
    vec![
        (NATS_URL.name, nats.redacted_url.clone()),
        (NATS_STREAM.name, nats.stream.clone()),
        (NATS_SUBJECT_PREFIX.name, nats.subject_prefix.clone()),
        (NATS_TIMEOUT.name, format_duration(nats.timeout)),
        (NATS_USER.name, user),
        (NATS_PASSWORD.name, password.to_owned()),
        (NATS_TOKEN.name, token.to_owned()),
        (NATS_CREDS.name, creds),
        (NATS_CA.name, path(nats.ca_file.as_ref())),
        (NATS_CERT.name, path(certificate.map(|(cert, _)| cert))),
        (NATS_KEY.name, path(certificate.map(|(_, key)| key))),
    ]
}

/// The inverse of `values::duration`, choosing the largest exact unit.
pub(super) fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    match millis {
        m if m % 3_600_000 == 0 => format!("{}h", m / 3_600_000),
        m if m % 60_000 == 0 => format!("{}m", m / 60_000),
        m if m % 1000 == 0 => format!("{}s", m / 1000),
        m => format!("{m}ms"),
    }
}

/// The inverse of `values::byte_size`, choosing the largest exact unit.
pub(super) fn format_size(bytes: usize) -> String {
    match bytes {
        b if b % (1024 * 1024) == 0 => format!("{}MiB", b / (1024 * 1024)),
        b if b % 1024 == 0 => format!("{}KiB", b / 1024),
        b => b.to_string(),
    }
}
