//! Reading the environment: each variable parsed by its own rule, every problem collected.

use std::collections::HashMap;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use super::variables::{
    DATABASE_URL, SLACK_API_BASE_URL, SLACK_APP_ID, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET,
    SLACK_TIMEOUT, SQLITE_PATH, Variable,
};
use super::{Database, LogFormat, Problem, SlackConfig, values};

/// The environment, and the problems found in it so far.
pub(super) struct Reader {
    vars: HashMap<OsString, OsString>,
    pub(super) problems: Vec<Problem>,
}

impl Reader {
    pub(super) fn new<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        Self {
            vars: vars
                .into_iter()
                .map(|(key, value)| (key.into(), value.into()))
                .collect(),
            problems: Vec::new(),
        }
    }

    /// The variable's value; `None` when unset, empty, or not UTF-8 (which is reported).
    fn raw(&mut self, variable: &Variable) -> Option<String> {
        let value = self.vars.get(&OsString::from(variable.name))?.clone();
        match value.into_string() {
            Ok(value) if value.is_empty() => None,
            Ok(value) => Some(value),
            Err(_) => {
                self.problem(variable, None, "is not valid UTF-8");
                None
            }
        }
    }

    /// The parsed value, or `default` when unset. A value that does not parse is reported
    /// and replaced by `default`, so reading continues and finds the other problems too.
    pub(super) fn setting<T>(
        &mut self,
        variable: &Variable,
        parse: impl FnOnce(&str) -> Result<T, String>,
        default: T,
    ) -> T {
        let Some(raw) = self.raw(variable) else {
            return default;
        };
        match parse(&raw) {
            Ok(value) => value,
            Err(message) => {
                self.problem(variable, Some(raw), message);
                default
            }
        }
    }

    fn secret(&mut self, variable: &Variable) -> Option<SecretString> {
        self.raw(variable).map(SecretString::from)
    }

    fn problem(&mut self, variable: &Variable, value: Option<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            variable: variable.name,
            value: value.filter(|_| !variable.secret),
            message: message.into(),
        });
    }

    /// The store to open; `None` when DATABASE_URL is unusable (which is reported).
    pub(super) fn database(&mut self) -> Option<Database> {
        let sqlite_path = self.raw(&SQLITE_PATH);
        let Some(url) = self.raw(&DATABASE_URL) else {
            let path = sqlite_path.as_deref().unwrap_or(SQLITE_PATH.default);
            return Some(Database::Sqlite {
                url: values::sqlite_url(path),
            });
        };
        if sqlite_path.is_some() {
            self.problem(
                &SQLITE_PATH,
                sqlite_path,
                "cannot be combined with DATABASE_URL; set only one of them",
            );
        }
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        match scheme {
            "postgres" | "postgresql" if Url::parse(&url).is_ok() => Some(Database::Postgres {
                redacted: values::redact_url(&url),
                url: SecretString::from(url),
            }),
            "postgres" | "postgresql" => {
                self.problem(&DATABASE_URL, None, "is not a valid URL");
                None
            }
            "sqlite" => Some(Database::Sqlite { url }),
            _ => {
                // Only the scheme is echoed: the rest may hold a password.
                let scheme: String = scheme.chars().take(20).collect();
                self.problem(
                    &DATABASE_URL,
                    None,
                    format!(
                        "unsupported scheme {scheme:?}; expected postgres://, postgresql:// or sqlite:"
                    ),
                );
                None
            }
        }
    }

    pub(super) fn slack(&mut self) -> Option<SlackConfig> {
        let bot_token = self.secret(&SLACK_BOT_TOKEN);
        let signing_secret = self.secret(&SLACK_SIGNING_SECRET);
        let app_id = self.raw(&SLACK_APP_ID);
        let api_base_url = self.setting(
            &SLACK_API_BASE_URL,
            values::base_url,
            SLACK_API_BASE_URL.default.to_owned(),
        );
        let timeout = self.setting(&SLACK_TIMEOUT, values::duration, Duration::from_secs(10));
        match (bot_token, signing_secret) {
            (Some(bot_token), Some(signing_secret)) => Some(SlackConfig {
                bot_token,
                signing_secret,
                app_id,
                api_base_url,
                timeout,
            }),
            (Some(_), None) => {
                let message = "must be set when SLACK_BOT_TOKEN is set: without it, button \
                               clicks from Slack cannot be verified";
                self.problem(&SLACK_SIGNING_SECRET, None, message);
                None
            }
            (None, Some(_)) => {
                let message = "must be set when SLACK_SIGNING_SECRET is set: without it, \
                               messages cannot be posted";
                self.problem(&SLACK_BOT_TOKEN, None, message);
                None
            }
            (None, None) => {
                if app_id.is_some() {
                    self.problem(
                        &SLACK_APP_ID,
                        app_id,
                        "is set but SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not",
                    );
                }
                None
            }
        }
    }
}

pub(super) fn parse_addr(raw: &str) -> Result<SocketAddr, String> {
    raw.parse().map_err(|_| {
        "expected an IP address and port such as 127.0.0.1:8080 or 0.0.0.0:8080".into()
    })
}

pub(super) fn parse_log_format(raw: &str) -> Result<LogFormat, String> {
    match raw {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        _ => Err("expected pretty or json".to_owned()),
    }
}

pub(super) fn parse_log_filter(raw: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::builder()
        .parse(raw)
        .map(|_| raw.to_owned())
        .map_err(|e| format!("is not a valid log filter ({e})"))
}
