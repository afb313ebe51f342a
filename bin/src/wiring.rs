//! The composition root: the one place that knows every adapter and plugs them into the ports.
//!
//! [`build`] chooses the adapters the configuration asks for and hands them to
//! [`build_with`], which does all the wiring. `main` calls `build`; end-to-end tests call
//! `build` too, or `build_with` with fakes (a manual clock, predictable ids). Either way
//! there is exactly one wiring, so tests cannot drift from production.

use std::sync::Arc;

use adapter_console::ConsoleGateway;
use adapter_discord::{DiscordGateway, DiscordSettings, DiscordSetupError, DiscordState};
use adapter_http::{ApiState, HttpSettings};
use adapter_postgres::{PoolSettings, PostgresStore};
use adapter_slack::{SlackGateway, SlackSettings, SlackSetupError, SlackState};
use adapter_sqlite::SqliteStore;
use application::chat::ChatRouter;
use application::ports::{
    ApprovalRepository, ChatMessages, Clock, IdGenerator, IdempotencyStore, Readiness,
    RepositoryError,
};
use application::{Ports, Repositories, UseCases};
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::ExposeSecret;

use crate::app::{App, Background, Schedule};
use crate::config::{Config, Database, DiscordConfig, SlackConfig};
use crate::deadlines::{DeadlineBell, WakingApprovals};
use crate::service_metrics::ConnectionPool;
use crate::sinks::{self, ConnectedSinks, SinkDeps};
use crate::system::{RandomIds, SystemClock};
use crate::telemetry;

/// The persistence ports the application shares, in one object. Every store (SQLite,
/// PostgreSQL, the in-memory fakes) implements all of them on one storage, and one store
/// behind every port is what makes a save, its outbox rows and its idempotency receipt a
/// single transaction.
pub trait Store: Repositories + ChatMessages + IdempotencyStore + Readiness {}

impl<T> Store for T where T: Repositories + ChatMessages + IdempotencyStore + Readiness {}

/// The opened database, as the ports see it.
#[derive(Clone)]
pub struct Persistence {
    pub store: Arc<dyn Store>,
    /// The store's connection pool, for the `db_pool_*` metrics; `None` without one.
    pub pool: Option<Arc<dyn ConnectionPool>>,
}

impl Persistence {
    /// Every handle on one SQL store.
    fn of<S>(store: S) -> Self
    where
        S: Store + ConnectionPool + 'static,
    {
        let store = Arc::new(store);
        Self {
            store: store.clone(),
            pool: Some(store),
        }
    }
}

/// The driven adapters [`build_with`] plugs into the ports.
#[derive(Clone)]
pub struct Adapters {
    pub persistence: Persistence,
    /// Every connected chat platform behind one gateway (or one stand-in for all).
    pub chat: ChatRouter,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    /// The clients of the sinks that need one started (`sinks::connect`).
    pub sinks: ConnectedSinks,
}

/// Why the application could not start. Each is one line, printed on stderr by `main`.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open {database}")]
    OpenStore {
        database: String,
        #[source]
        error: RepositoryError,
    },
    #[error("cannot migrate {database}")]
    Migrate {
        database: String,
        #[source]
        error: RepositoryError,
    },
    #[error("cannot set up Slack")]
    Slack(#[source] SlackSetupError),
    #[error("cannot set up Discord")]
    Discord(#[source] DiscordSetupError),
    #[error("cannot set up the callback sender")]
    Webhook(#[source] adapter_webhook::WebhookSetupError),
    #[error("cannot set up NATS")]
    Nats(#[source] adapter_nats::NatsSetupError),
    #[error("the {0} sink is configured but its client was not started (use service::build)")]
    NotConnected(&'static str),
}

/// Opens the configured store (migrating it), chooses the chat gateway, and wires the
/// application with the real clock and randomness.
///
/// # Errors
/// [`StartupError`] when the store cannot be opened or migrated, or Slack cannot be set up.
pub async fn build(config: &Config) -> Result<App, StartupError> {
    let persistence = open_store(config).await?;
    let chat = chat_gateway(config)?;
    let sinks = sinks::connect(config).await?;
    build_with(
        config,
        Adapters {
            persistence,
            chat,
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds),
            sinks,
        },
    )
}

/// Wires the application from the given adapters: ports, use cases, and the HTTP routes
/// (the REST API, plus Slack's interaction routes when Slack is configured), wrapped in the
/// HTTP edge middleware. `/metrics` serves the process's Prometheus recorder, which the
/// first call installs.
///
/// # Errors
/// [`StartupError::Slack`] when the Slack settings are unusable.
pub fn build_with(config: &Config, adapters: Adapters) -> Result<App, StartupError> {
    wire(config, adapters, telemetry::metrics())
}

/// [`build_with`], with the recorder `/metrics` renders passed in: the process's, or in
/// this crate's tests one of their own, since a process has only one global recorder.
pub(crate) fn wire(
    config: &Config,
    adapters: Adapters,
    metrics: Option<PrometheusHandle>,
) -> Result<App, StartupError> {
    let Adapters {
        persistence: Persistence { store, pool },
        chat,
        clock,
        ids,
        sinks: connected,
    } = adapters;
    let readiness = Arc::new(AllReady {
        store: store.clone(),
        sinks: connected.readiness(),
    });
    // A save of a request with a sooner deadline wakes the sweeper.
    let bell = Arc::new(DeadlineBell::default());
    let approvals: Arc<dyn ApprovalRepository> = Arc::new(WakingApprovals {
        inner: store.clone(),
        bell: bell.clone(),
    });
    let mut ports = Ports::over(
        store.clone(),
        Arc::new(chat.clone()),
        Arc::new(sinks::callback_guard(config)),
        clock.clone(),
        ids.clone(),
    );
    ports.approvals = approvals.clone();
    let subjects = ports.chat_subjects();
    ports.sinks = sinks::relays(
        config,
        &SinkDeps {
            store: store.clone(),
            chat: Arc::new(chat),
            subjects: subjects.clone(),
            callbacks: ports.callback_subjects(),
            clock: clock.clone(),
            connected,
        },
    )?;
    let use_cases = UseCases::new(&ports);
    let background = Background {
        approvals,
        bell,
        idempotency: store.clone(),
        outbox: store.clone(),
        pool,
        clock: clock.clone(),
    };

    // Cancelled by `App::serve` when shutdown begins, so that waiting long-polls answer.
    let long_polls = tokio_util::sync::CancellationToken::new();
    let api = adapter_http::router(
        ApiState {
            use_cases: use_cases.clone(),
            readiness,
            idempotency: store,
            clock: clock.clone(),
            ids,
            metrics: metrics.clone(),
            shutdown: long_polls.clone(),
        },
        &HttpSettings {
            body_limit_bytes: config.http.body_limit,
            header_limit_bytes: config.http.header_limit,
            request_timeout: config.http.request_timeout,
            public_base_url: config.public_url.clone(),
            max_in_flight: usize::try_from(config.http.max_in_flight).unwrap_or(usize::MAX),
            max_waiters: usize::try_from(config.http.max_waiters).unwrap_or(usize::MAX),
            idempotency_ttl: config.http.idempotency_ttl,
        },
    );
    let mut router = api;
    if let Some(slack) = &config.slack {
        let state = SlackState::new(subjects.clone(), &slack_settings(slack), clock.clone())
            .map_err(StartupError::Slack)?;
        router = router.merge(adapter_slack::routes(state));
    }
    if let Some(discord) = &config.discord {
        let state = DiscordState::new(subjects.clone(), &discord_settings(discord))
            .map_err(StartupError::Discord)?;
        router = router.merge(adapter_discord::routes(state));
    }

    Ok(App {
        router: adapter_http::with_edge(router),
        use_cases,
        subjects,
        background,
        metrics,
        long_polls,
        schedule: Schedule {
            relay: config.relay,
            expiry_sweep_interval: config.expiry_sweep_interval,
            outbox_retention: config.outbox_retention,
            shutdown_grace: config.shutdown_grace,
        },
    })
}

/// Connects to the configured database and applies pending migrations.
///
/// # Errors
/// [`StartupError::OpenStore`] when the database cannot be reached within the acquire
/// timeout, [`StartupError::Migrate`] when a migration fails.
pub async fn open_store(config: &Config) -> Result<Persistence, StartupError> {
    let database = config.database.to_string();
    tracing::info!(store = %database, "opening the store");
    let open_error = |error| StartupError::OpenStore {
        database: database.clone(),
        error,
    };
    let migrate_error = |error| StartupError::Migrate {
        database: database.clone(),
        error,
    };
    let routes = sinks::routes(config);
    let persistence = match &config.database {
        Database::Sqlite { url } => {
            let store = SqliteStore::connect(url)
                .await
                .map_err(open_error)?
                .with_routes(routes);
            store.migrate().await.map_err(migrate_error)?;
            Persistence::of(store)
        }
        Database::Postgres { url, .. } => {
            let settings = PoolSettings {
                max_connections: config.pool.max_connections,
                acquire_timeout: config.pool.acquire_timeout,
            };
            let store = PostgresStore::connect(url.expose_secret(), settings)
                .await
                .map_err(open_error)?
                .with_routes(routes);
            store.migrate().await.map_err(migrate_error)?;
            Persistence::of(store)
        }
    };
    tracing::info!(store = %database, "store ready, migrations applied");
    Ok(persistence)
}

/// The platform router over every chat platform with credentials — Slack, Discord, or
/// both — or, with none, the console for every destination.
///
/// # Errors
/// [`StartupError::Slack`] or [`StartupError::Discord`] when a platform's settings are
/// unusable.
pub fn chat_gateway(config: &Config) -> Result<ChatRouter, StartupError> {
    if config.slack.is_none() && config.discord.is_none() {
        let public_url = config.reachable_url();
        tracing::info!(
            %public_url,
            "chat: no Slack or Discord credentials (SLACK_BOT_TOKEN, DISCORD_BOT_TOKEN), so \
             chat messages are written to this log with the curl commands to act on them"
        );
        return Ok(ChatRouter::single(Arc::new(ConsoleGateway::new(
            &public_url,
        ))));
    }
    // Destinations without a platform prefix are Slack's, as they were before Discord.
    let mut router = ChatRouter::new(SLACK);
    if let Some(slack) = &config.slack {
        let gateway = SlackGateway::new(&slack_settings(slack)).map_err(StartupError::Slack)?;
        tracing::info!(api = %slack.api_base_url, "chat: posting to Slack");
        router = router.with(SLACK, Arc::new(gateway));
    }
    if let Some(discord) = &config.discord {
        let gateway =
            DiscordGateway::new(&discord_settings(discord)).map_err(StartupError::Discord)?;
        tracing::info!(api = %discord.api_base_url, "chat: posting discord: destinations to Discord");
        router = router.with(DISCORD, Arc::new(gateway));
    }
    Ok(router)
}

/// The platform names destinations use as prefixes (`discord:<channel id>`).
const SLACK: &str = "slack";
const DISCORD: &str = "discord";

/// The Discord adapter's settings, for the routes, the gateway and `register-commands`.
pub fn discord_settings(discord: &DiscordConfig) -> DiscordSettings {
    DiscordSettings {
        bot_token: discord.bot_token.clone(),
        public_key: discord.public_key.clone(),
        application_id: discord.application_id.clone(),
        api_base_url: discord.api_base_url.clone(),
        timeout: discord.timeout,
    }
}

fn slack_settings(slack: &SlackConfig) -> SlackSettings {
    SlackSettings {
        bot_token: slack.bot_token.clone(),
        signing_secret: slack.signing_secret.clone(),
        app_id: slack.app_id.clone(),
        api_base_url: slack.api_base_url.clone(),
        timeout: slack.timeout,
    }
}

/// Ready when the store is, and every sink that keeps a connection of its own has it: an
/// instance whose event stream is unreachable says so, while its events wait in the outbox.
struct AllReady {
    store: Arc<dyn Store>,
    sinks: Vec<adapter_nats::NatsReadiness>,
}

#[async_trait::async_trait]
impl Readiness for AllReady {
    async fn check(&self) -> Result<(), RepositoryError> {
        self.store.check().await?;
        for sink in &self.sinks {
            sink.check().await?;
        }
        Ok(())
    }
}
