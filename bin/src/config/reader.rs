//! Reading the configuration: the environment over the optional file, each variable parsed
//! by its own rule, every problem collected. NATS, with its several ways to authenticate, has
//! a file of its own (`reader/nats.rs`).

mod nats;

use std::collections::HashMap;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use super::variables::{
    CONFIG_FILE, DATABASE_URL, DISCORD_API_BASE_URL, DISCORD_APPLICATION_ID, DISCORD_BOT_TOKEN,
    DISCORD_PUBLIC_KEY, DISCORD_TIMEOUT, SLACK_API_BASE_URL, SLACK_APP_ID, SLACK_BOT_TOKEN,
    SLACK_SIGNING_SECRET, SLACK_TIMEOUT, SQLITE_PATH, Variable,
};
use super::{Database, DiscordConfig, LogFormat, Problem, SlackConfig, Source, file, values};

/// The environment and the configuration file, what was read from where, and the problems
/// found so far.
pub(super) struct Reader {
    env: HashMap<OsString, OsString>,
    file: file::Settings,
    pub(super) config_file: Option<PathBuf>,
    /// Where each variable read so far came from; a variable that is not here is unset.
    pub(super) sources: HashMap<&'static str, Source>,
    pub(super) problems: Vec<Problem>,
}

impl Reader {
    /// Takes the environment and reads the file it names in `<PREFIX>_CONFIG_FILE`, if any.
    pub(super) fn new<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        let mut reader = Self {
            env: vars
                .into_iter()
                .map(|(key, value)| (key.into(), value.into()))
                .collect(),
            file: file::Settings::new(),
            config_file: None,
            sources: HashMap::new(),
            problems: Vec::new(),
        };
        reader.read_config_file();
        reader
    }

    /// Loads the settings of the file `<PREFIX>_CONFIG_FILE` names. An unreadable file or a
    /// bad line is one more problem: reading goes on, so the report lists everything.
    fn read_config_file(&mut self) {
        let Some(path) = self.raw(&CONFIG_FILE) else {
            return;
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let (settings, problems) = file::parse(&text);
                for message in problems {
                    self.problem(&CONFIG_FILE, Some(path.clone()), message);
                }
                self.file = settings;
            }
            Err(error) => {
                self.problem(
                    &CONFIG_FILE,
                    Some(path.clone()),
                    format!("cannot be read ({error})"),
                );
            }
        }
        self.config_file = Some(PathBuf::from(path));
    }

    /// The variable's value from the environment, or else from the file; `None` when unset
    /// or empty in both. An environment value that is not UTF-8 is reported and not
    /// replaced by the file's: the operator meant to set it.
    fn raw(&mut self, variable: &Variable) -> Option<String> {
        if let Some(value) = self.env.get(&OsString::from(variable.name)).cloned() {
            match value.into_string() {
                Ok(value) if value.is_empty() => {}
                Ok(value) => {
                    self.sources.insert(variable.name, Source::Environment);
                    return Some(value);
                }
                Err(_) => {
                    self.problem(variable, None, "is not valid UTF-8");
                    return None;
                }
            }
        }
        let value = self.file.get(variable.name)?.clone();
        self.sources.insert(variable.name, Source::File);
        Some(value)
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

    /// Records a problem with `variable`. A value that came from the file says so, because
    /// the operator may be looking for it in the environment.
    fn problem(&mut self, variable: &Variable, value: Option<String>, message: impl Into<String>) {
        let mut message = message.into();
        if let (Some(Source::File), Some(path)) =
            (self.sources.get(variable.name), &self.config_file)
        {
            message.push_str(&format!(" (set in {})", path.display()));
        }
        self.problems.push(Problem {
            variable: variable.name,
            value: value.filter(|_| !variable.secret),
            message,
        });
    }

    /// The store to open; `None` when DATABASE_URL is unusable (which is reported).
    pub(super) fn database(&mut self) -> Option<Database> {
        let sqlite_path = self.raw(&SQLITE_PATH);
        let Some(url) = self.raw(&DATABASE_URL) else {
            // The URL in effect is derived from the path, so it comes from where the path
            // came from; `config check` shows only the URL.
            if let Some(&source) = self.sources.get(SQLITE_PATH.name) {
                self.sources.insert(DATABASE_URL.name, source);
            }
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

impl Reader {
    /// Discord's settings: the bot token and the public key together or not at all.
    pub(super) fn discord(&mut self) -> Option<DiscordConfig> {
        let bot_token = self.secret(&DISCORD_BOT_TOKEN);
        let public_key = self.setting(&DISCORD_PUBLIC_KEY, |raw| public_key(raw).map(Some), None);
        let application_id = self.setting(
            &DISCORD_APPLICATION_ID,
            |raw| snowflake(raw).map(Some),
            None,
        );
        let api_base_url = self.setting(
            &DISCORD_API_BASE_URL,
            values::base_url,
            DISCORD_API_BASE_URL.default.to_owned(),
        );
        let timeout = self.setting(&DISCORD_TIMEOUT, values::duration, Duration::from_secs(10));
        let public_key_set = self.raw(&DISCORD_PUBLIC_KEY).is_some();
        match (bot_token, public_key) {
            (Some(bot_token), Some(public_key)) => Some(DiscordConfig {
                bot_token,
                public_key,
                application_id,
                api_base_url,
                timeout,
            }),
            // A public key that failed its own check is already reported.
            (Some(_), None) if !public_key_set => {
                let message = "must be set when DISCORD_BOT_TOKEN is set: without it, button \
                               clicks from Discord cannot be verified";
                self.problem(&DISCORD_PUBLIC_KEY, None, message);
                None
            }
            (None, Some(_)) => {
                let message = "must be set when DISCORD_PUBLIC_KEY is set: without it, \
                               messages cannot be posted";
                self.problem(&DISCORD_BOT_TOKEN, None, message);
                None
            }
            _ => None,
        }
    }
}

/// The Developer Portal's form of the application's Ed25519 key.
fn public_key(raw: &str) -> Result<String, String> {
    if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(raw.to_ascii_lowercase())
    } else {
        Err("must be the application's public key: 64 hex characters".to_owned())
    }
}

fn snowflake(raw: &str) -> Result<String, String> {
    if raw.len() <= 20 && raw.bytes().all(|b| b.is_ascii_digit()) {
        Ok(raw.to_owned())
    } else {
        Err("must be the application's id: digits only".to_owned())
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
