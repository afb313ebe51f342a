use std::collections::HashMap;
use std::path::Path;

use secrecy::ExposeSecret;

use super::report::{format_duration, format_size};
use super::variables::{
    DATABASE_URL, SLACK_API_BASE_URL, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_TIMEOUT,
    SQLITE_PATH,
};
use super::*;

/// The variables' prefix and the binary's name, as the messages under test spell them.
const P: &str = env!("SERVICE_ENV_PREFIX");
const N: &str = env!("SERVICE_NAME");

mod nats;

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::from_env(vars.iter().copied())
}

fn problems(vars: &[(&str, &str)]) -> Vec<Problem> {
    config(vars)
        .expect_err("the configuration should be refused")
        .problems
}

fn effective(config: &Config, variable: &Variable) -> String {
    config
        .effective()
        .into_iter()
        .find(|(name, _)| *name == variable.name)
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("{} is not in the effective configuration", variable.name))
}

const SLACK: [(&str, &str); 2] = [
    ("SLACK_BOT_TOKEN", "xoxb-bot-token-value"),
    ("SLACK_SIGNING_SECRET", "signing-secret-value"),
];

#[test]
fn no_environment_means_a_local_sqlite_file_and_the_console() {
    let config = config(&[]).unwrap();
    assert_eq!(config.addr, SocketAddr::from(([127, 0, 0, 1], 8080)));
    assert_eq!(config.public_url, None);
    assert_eq!(config.reachable_url(), "http://127.0.0.1:8080");
    assert!(matches!(
        &config.database,
        Database::Sqlite { url } if url == concat!("sqlite:./", env!("SERVICE_NAME"), ".db")
    ));
    assert!(config.slack.is_none());
    assert_eq!(
        config.log,
        LogConfig {
            format: LogFormat::Pretty,
            filter: "info".into()
        }
    );
}

#[test]
fn documented_defaults_are_the_defaults_in_effect() {
    let config = config(&[]).unwrap();
    let shown: HashMap<_, _> = config.effective().into_iter().collect();
    for variable in VARIABLES {
        // Slack, Discord and NATS settings only show when configured (see their own tests);
        // SQLite's path shows in the URL.
        if variable.default.is_empty()
            || variable.name.starts_with("SLACK_")
            || variable.name.starts_with("DISCORD_")
            || variable.name.contains("NATS_")
            || variable == SQLITE_PATH
        {
            continue;
        }
        assert_eq!(
            shown.get(variable.name).map(String::as_str),
            Some(variable.default),
            "{} documents a default that is not the one in effect",
            variable.name
        );
    }
    let slack = Config::from_env(SLACK).unwrap();
    assert_eq!(
        effective(&slack, &SLACK_API_BASE_URL),
        SLACK_API_BASE_URL.default
    );
    assert_eq!(effective(&slack, &SLACK_TIMEOUT), SLACK_TIMEOUT.default);
    let discord = Config::from_env([
        ("DISCORD_BOT_TOKEN", "discord-token-value"),
        ("DISCORD_PUBLIC_KEY", DISCORD_KEY),
    ])
    .unwrap();
    for variable in [
        &super::variables::DISCORD_API_BASE_URL,
        &super::variables::DISCORD_TIMEOUT,
    ] {
        assert_eq!(effective(&discord, variable), variable.default);
    }
}

#[test]
fn every_bad_value_is_reported_at_once() {
    let found = problems(&[
        (concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR"), "localhost"),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_PUBLIC_URL"),
            "gate.example.com",
        ),
        ("DATABASE_URL", "mysql://root:hunter2@db/app"),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_DB_MAX_CONNECTIONS"),
            "0",
        ),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_DB_ACQUIRE_TIMEOUT"),
            "5",
        ),
        (concat!(env!("SERVICE_ENV_PREFIX"), "_LOG_FORMAT"), "xml"),
        ("RUST_LOG", "service=loud"),
        (concat!(env!("SERVICE_ENV_PREFIX"), "_BODY_LIMIT"), "1GB"),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_REQUEST_TIMEOUT"),
            "0s",
        ),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_MAX_IN_FLIGHT"),
            "none",
        ),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_IDEMPOTENCY_TTL"),
            "1y",
        ),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_SHUTDOWN_GRACE"),
            "soon",
        ),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_BATCH_SIZE"),
            "1000",
        ),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_IDLE_INTERVAL"),
            "1 s",
        ),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_MAX_BACKOFF"),
            "-1s",
        ),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_EXPIRY_SWEEP_INTERVAL"),
            "1d",
        ),
        ("SLACK_BOT_TOKEN", "xoxb-bot-token-value"),
        ("SLACK_API_BASE_URL", "slack.com/api"),
        ("SLACK_TIMEOUT", "forever"),
    ]);
    let named: Vec<&str> = found.iter().map(|p| p.variable).collect();
    assert_eq!(
        named,
        [
            concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR"),
            concat!(env!("SERVICE_ENV_PREFIX"), "_PUBLIC_URL"),
            "DATABASE_URL",
            concat!(env!("SERVICE_ENV_PREFIX"), "_DB_MAX_CONNECTIONS"),
            concat!(env!("SERVICE_ENV_PREFIX"), "_DB_ACQUIRE_TIMEOUT"),
            concat!(env!("SERVICE_ENV_PREFIX"), "_LOG_FORMAT"),
            "RUST_LOG",
            concat!(env!("SERVICE_ENV_PREFIX"), "_BODY_LIMIT"),
            concat!(env!("SERVICE_ENV_PREFIX"), "_REQUEST_TIMEOUT"),
            concat!(env!("SERVICE_ENV_PREFIX"), "_MAX_IN_FLIGHT"),
            concat!(env!("SERVICE_ENV_PREFIX"), "_IDEMPOTENCY_TTL"),
            concat!(env!("SERVICE_ENV_PREFIX"), "_SHUTDOWN_GRACE"),
            concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_BATCH_SIZE"),
            concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_IDLE_INTERVAL"),
            concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_MAX_BACKOFF"),
            concat!(env!("SERVICE_ENV_PREFIX"), "_EXPIRY_SWEEP_INTERVAL"),
            "SLACK_API_BASE_URL",
            "SLACK_TIMEOUT",
            "SLACK_SIGNING_SECRET",
        ]
    );
}

#[test]
fn the_error_message_lists_each_problem_on_its_own_line() {
    let error = config(&[
        (concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR"), "localhost"),
        (concat!(env!("SERVICE_ENV_PREFIX"), "_LOG_FORMAT"), "xml"),
    ])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "invalid configuration\n  \
         {P}_ADDR=\"localhost\": expected an IP address and port such as 127.0.0.1:8080 \
         or 0.0.0.0:8080\n  \
         {P}_LOG_FORMAT=\"xml\": expected pretty or json"
        )
    );
}

#[test]
fn postgres_urls_select_postgres_and_never_show_the_password() {
    for scheme in ["postgres", "postgresql"] {
        let url = format!("{scheme}://app:hunter2@db:5432/service");
        let config = config(&[("DATABASE_URL", &url)]).unwrap();
        let Database::Postgres { url: secret, .. } = &config.database else {
            panic!("{scheme}:// should select PostgreSQL");
        };
        assert_eq!(secret.expose_secret(), url);
        assert_eq!(
            effective(&config, &DATABASE_URL),
            format!("{scheme}://app:***@db:5432/service")
        );
        assert_eq!(
            config.database.to_string(),
            format!("PostgreSQL at {scheme}://app:***@db:5432/service")
        );
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}

#[test]
fn sqlite_urls_are_used_as_given() {
    let config = config(&[("DATABASE_URL", "sqlite:/var/lib/service/data.db")]).unwrap();
    assert!(matches!(
        &config.database,
        Database::Sqlite { url } if url == "sqlite:/var/lib/service/data.db"
    ));
}

#[test]
fn the_sqlite_path_sets_the_default_file() {
    let config = config(&[(
        concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
        "/tmp/gate #1.db",
    )])
    .unwrap();
    assert_eq!(config.database.display_url(), "sqlite:/tmp/gate %231.db");
}

#[test]
fn a_sqlite_path_beside_a_database_url_is_ambiguous() {
    let found = problems(&[
        ("DATABASE_URL", "sqlite:a.db"),
        (concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"), "b.db"),
    ]);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].variable,
        concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH")
    );
}

#[test]
fn unsupported_database_urls_are_refused_without_echoing_them() {
    let found = problems(&[("DATABASE_URL", "mysql://root:hunter2@db/app")]);
    let message = found[0].to_string();
    assert_eq!(
        message,
        "DATABASE_URL: unsupported scheme \"mysql\"; expected postgres://, postgresql:// or sqlite:"
    );
    let found = problems(&[("DATABASE_URL", "postgres://app:hunter2@[db/app")]);
    assert_eq!(found[0].to_string(), "DATABASE_URL: is not a valid URL");
}

#[test]
fn slack_needs_both_the_bot_token_and_the_signing_secret() {
    let found = problems(&[SLACK[0]]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].variable, "SLACK_SIGNING_SECRET");

    let found = problems(&[SLACK[1]]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].variable, "SLACK_BOT_TOKEN");

    let found = problems(&[("SLACK_APP_ID", "A0123")]);
    assert_eq!(found[0].variable, "SLACK_APP_ID");
}

#[test]
fn slack_secrets_are_redacted_in_debug_and_in_the_effective_configuration() {
    let config = Config::from_env(SLACK.into_iter().chain([
        ("SLACK_APP_ID", "A0123"),
        ("SLACK_API_BASE_URL", "http://127.0.0.1:9999/api/"),
    ]))
    .unwrap();
    let slack = config.slack.as_ref().unwrap();
    assert_eq!(slack.bot_token.expose_secret(), "xoxb-bot-token-value");
    assert_eq!(slack.signing_secret.expose_secret(), "signing-secret-value");
    assert_eq!(slack.app_id.as_deref(), Some("A0123"));
    assert_eq!(slack.api_base_url, "http://127.0.0.1:9999/api");

    let debug = format!("{config:?}");
    let shown = format!("{:?}", config.effective());
    for secret in ["xoxb-bot-token-value", "signing-secret-value"] {
        assert!(!debug.contains(secret), "Debug shows {secret}");
        assert!(!shown.contains(secret), "config check shows {secret}");
    }
    assert_eq!(effective(&config, &SLACK_BOT_TOKEN), "***");
    assert_eq!(effective(&config, &SLACK_SIGNING_SECRET), "***");
}

#[test]
fn config_check_prints_an_environment_file_without_secrets() {
    let config = Config::from_env(SLACK.into_iter().chain([(
        "DATABASE_URL",
        "postgres://app:hunter2@db/service?password=hunter2",
    )]))
    .unwrap();
    let report = config.report();
    assert!(report.starts_with("# effective configuration"));
    assert!(report.contains(&format!("\n{P}_ADDR=127.0.0.1:8080\n")));
    assert!(report.contains("\nDATABASE_URL=postgres://app:***@db/service?password=***\n"));
    assert!(report.contains("\nSLACK_BOT_TOKEN=***\n"));
    for secret in ["hunter2", "xoxb-bot-token-value", "signing-secret-value"] {
        assert!(!report.contains(secret), "config check shows {secret}");
    }
}

#[test]
fn secrets_are_not_echoed_in_problems() {
    let found = problems(&[("SLACK_BOT_TOKEN", "xoxb-bot-token-value")]);
    assert!(found.iter().all(|p| p.value.is_none()));
}

#[test]
fn empty_values_count_as_unset() {
    let config = config(&[
        (concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR"), ""),
        ("DATABASE_URL", ""),
        ("SLACK_BOT_TOKEN", ""),
        ("SLACK_SIGNING_SECRET", ""),
    ])
    .unwrap();
    assert_eq!(config.addr.port(), 8080);
    assert!(matches!(config.database, Database::Sqlite { .. }));
    assert!(config.slack.is_none());
}

#[cfg(unix)]
#[test]
fn values_that_are_not_utf8_are_reported() {
    use std::os::unix::ffi::OsStringExt;

    let found = Config::from_env([(
        OsString::from(concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR")),
        OsString::from_vec(vec![0xff, 0xfe]),
    )])
    .unwrap_err()
    .problems;
    assert_eq!(
        found[0].to_string(),
        format!("{P}_ADDR: is not valid UTF-8")
    );
}

#[test]
fn the_reachable_url_falls_back_to_a_usable_form_of_the_address() {
    let any_interface =
        config(&[(concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR"), "0.0.0.0:9000")]).unwrap();
    assert_eq!(any_interface.reachable_url(), "http://127.0.0.1:9000");
    let ipv6 = config(&[(concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR"), "[::1]:9000")]).unwrap();
    assert_eq!(ipv6.reachable_url(), "http://[::1]:9000");
    let public = config(&[
        (concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR"), "0.0.0.0:9000"),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_PUBLIC_URL"),
            "https://gate.example.com/",
        ),
    ])
    .unwrap();
    assert_eq!(
        public.public_url.as_deref(),
        Some("https://gate.example.com")
    );
    assert_eq!(public.reachable_url(), "https://gate.example.com");
}

#[test]
fn formatted_durations_and_sizes_read_back() {
    for text in ["250ms", "1500ms", "1s", "90s", "1m", "5m", "2h"] {
        let duration = values::duration(text).unwrap();
        assert_eq!(format_duration(duration), text);
    }
    for text in ["1000", "64KiB", "1MiB", "1025"] {
        let size = values::byte_size(text).unwrap();
        assert_eq!(format_size(size), text);
    }
}

#[test]
fn help_lists_every_variable() {
    let help = help();
    for variable in VARIABLES {
        assert!(
            help.contains(variable.name),
            "--help misses {}",
            variable.name
        );
    }
}

#[test]
fn the_readme_documents_every_variable() {
    let readme = include_str!("../../../README.md");
    for variable in VARIABLES {
        assert!(
            readme.contains(&format!("`{}`", variable.name)),
            "README.md does not document {}",
            variable.name
        );
    }
}

/// A configuration file with these lines, removed when the returned guard drops.
fn config_file(lines: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("service.env");
    std::fs::write(&path, lines).unwrap();
    (dir, path.to_string_lossy().into_owned())
}

#[test]
fn the_config_file_fills_in_what_the_environment_leaves_unset() {
    let (_dir, path) = config_file(&format!(
        "# staging\n\
         {P}_ADDR=0.0.0.0:9000\n\
         {P}_LOG_FORMAT=json\n\
         {P}_RELAY_BATCH_SIZE=20\n",
    ));
    let config = config(&[
        (concat!(env!("SERVICE_ENV_PREFIX"), "_CONFIG_FILE"), &path),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR"),
            "127.0.0.1:7000",
        ),
        // Empty counts as unset, in the environment as anywhere: the file's value applies.
        (concat!(env!("SERVICE_ENV_PREFIX"), "_LOG_FORMAT"), ""),
    ])
    .unwrap();

    assert_eq!(config.addr, SocketAddr::from(([127, 0, 0, 1], 7000)));
    assert_eq!(config.log.format, LogFormat::Json);
    assert_eq!(config.relay.batch_size, 20);
    assert_eq!(
        config.source(concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR")),
        Source::Environment
    );
    assert_eq!(
        config.source(concat!(env!("SERVICE_ENV_PREFIX"), "_LOG_FORMAT")),
        Source::File
    );
    assert_eq!(
        config.source(concat!(env!("SERVICE_ENV_PREFIX"), "_BODY_LIMIT")),
        Source::Default
    );
    assert_eq!(config.config_file.as_deref(), Some(Path::new(&path)));
}

#[test]
fn problems_in_the_config_file_are_reported_with_every_other_problem() {
    let (_dir, path) = config_file(&format!(
        "{P}_LOG_FORMAT=xml\n\
         {P}_ADR=0.0.0.0:9000\n",
    ));
    let found = problems(&[
        (concat!(env!("SERVICE_ENV_PREFIX"), "_CONFIG_FILE"), &path),
        (concat!(env!("SERVICE_ENV_PREFIX"), "_BODY_LIMIT"), "1GB"),
    ]);
    let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            format!(
                "{P}_CONFIG_FILE={path:?}: line 2: unknown variable {P}_ADR; \
                 `{N} --help` lists them"
            ),
            format!("{P}_LOG_FORMAT=\"xml\": expected pretty or json (set in {path})"),
            format!(
                "{P}_BODY_LIMIT=\"1GB\": expected a size in bytes such as 65536, 64KiB or 1MiB"
            ),
        ]
    );
}

#[test]
fn a_config_file_that_cannot_be_read_is_a_problem_like_any_other() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir
        .path()
        .join("missing.env")
        .to_string_lossy()
        .into_owned();
    let found = problems(&[
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_CONFIG_FILE"),
            &missing,
        ),
        (concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR"), "localhost"),
    ]);
    let named: Vec<&str> = found.iter().map(|p| p.variable).collect();
    assert_eq!(
        named,
        [
            concat!(env!("SERVICE_ENV_PREFIX"), "_CONFIG_FILE"),
            concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR")
        ]
    );
    assert!(
        found[0].message.starts_with("cannot be read ("),
        "{}",
        found[0]
    );
}

#[test]
fn secrets_from_the_config_file_stay_secret() {
    let (_dir, path) = config_file(
        "DATABASE_URL=postgres://app:hunter2@db/service\n\
         SLACK_BOT_TOKEN=xoxb-bot-token-value\n\
         SLACK_SIGNING_SECRET=signing-secret-value\n",
    );
    let from_file =
        config(&[(concat!(env!("SERVICE_ENV_PREFIX"), "_CONFIG_FILE"), &path)]).unwrap();
    assert!(from_file.slack.is_some());
    assert_eq!(from_file.source("DATABASE_URL"), Source::File);
    let shown = format!("{}{from_file:?}", from_file.report());
    for secret in ["hunter2", "xoxb-bot-token-value", "signing-secret-value"] {
        assert!(!shown.contains(secret), "{secret} is shown:\n{shown}");
    }

    // A broken file: the bad line is a secret pasted alone, and the environment refuses
    // the file's DATABASE_URL alongside a SQLite path.
    let (_dir, path) = config_file(
        "DATABASE_URL=postgres://app:hunter2@db/service\n\
         xoxb-bot-token-value\n",
    );
    let error = config(&[
        (concat!(env!("SERVICE_ENV_PREFIX"), "_CONFIG_FILE"), &path),
        (
            concat!(env!("SERVICE_ENV_PREFIX"), "_SQLITE_PATH"),
            "local.db",
        ),
    ])
    .unwrap_err()
    .to_string();
    assert!(error.contains("line 2: expected NAME=value"), "{error}");
    for secret in ["hunter2", "xoxb-bot-token-value"] {
        assert!(!error.contains(secret), "{secret} is shown:\n{error}");
    }
}

#[test]
fn config_check_groups_the_values_by_where_they_came_from() {
    let (_dir, path) = config_file(&format!(
        "{P}_SQLITE_PATH=/var/lib/service/data.db\n\
         SLACK_TIMEOUT=5s\n",
    ));
    let config = config(&[
        (concat!(env!("SERVICE_ENV_PREFIX"), "_CONFIG_FILE"), &path),
        (concat!(env!("SERVICE_ENV_PREFIX"), "_ADDR"), "0.0.0.0:8080"),
    ])
    .unwrap();
    let report = config.report();
    let expected_start = format!(
        "# effective configuration; secrets are shown as ***\n\
         \n\
         # from the environment\n\
         {P}_CONFIG_FILE={path}\n\
         {P}_ADDR=0.0.0.0:8080\n\
         \n\
         # from {path}\n\
         DATABASE_URL=sqlite:/var/lib/service/data.db\n\
         \n\
         # defaults (empty: not set)\n\
         {P}_PUBLIC_URL=\n\
         {P}_DB_MAX_CONNECTIONS=10\n"
    );
    assert!(report.starts_with(&expected_start), "{report}");
    // Without Slack its timeout does not apply, wherever it was set.
    let defaults = report.split("# defaults").nth(1).unwrap_or_default();
    assert!(defaults.contains("\nSLACK_TIMEOUT=\n"), "{report}");
}

const DISCORD_KEY: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

#[test]
fn discord_needs_both_the_bot_token_and_a_well_formed_public_key() {
    let found = problems(&[("DISCORD_BOT_TOKEN", "discord-token-value")]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].variable, "DISCORD_PUBLIC_KEY");

    let found = problems(&[("DISCORD_PUBLIC_KEY", DISCORD_KEY)]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].variable, "DISCORD_BOT_TOKEN");

    let found = problems(&[
        ("DISCORD_BOT_TOKEN", "discord-token-value"),
        ("DISCORD_PUBLIC_KEY", "not-hex"),
        ("DISCORD_APPLICATION_ID", "app-1"),
    ]);
    let variables: Vec<_> = found.iter().map(|p| p.variable).collect();
    assert_eq!(variables, ["DISCORD_PUBLIC_KEY", "DISCORD_APPLICATION_ID"]);
}

#[test]
fn slack_and_discord_can_be_configured_together_and_the_token_stays_secret() {
    let config = Config::from_env(SLACK.into_iter().chain([
        ("DISCORD_BOT_TOKEN", "discord-token-value"),
        ("DISCORD_PUBLIC_KEY", DISCORD_KEY),
        ("DISCORD_APPLICATION_ID", "1100000000000000001"),
    ]))
    .unwrap();
    assert!(config.slack.is_some());
    let discord = config.discord.as_ref().unwrap();
    assert_eq!(discord.api_base_url, "https://discord.com/api/v10");
    assert_eq!(
        discord.application_id.as_deref(),
        Some("1100000000000000001")
    );

    let debug = format!("{config:?}");
    let shown = format!("{:?}", config.effective());
    assert!(!debug.contains("discord-token-value"), "{debug}");
    assert!(!shown.contains("discord-token-value"), "{shown}");
    assert_eq!(
        effective(&config, &super::variables::DISCORD_BOT_TOKEN),
        "***"
    );
}
