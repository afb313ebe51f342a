//! The delivery sinks this service feeds: the one place a sink is registered.
//!
//! Each entry names a sink, the events it takes (the store writes one outbox row per event
//! and subscribed sink, see `application::ports::DeliveryRoutes`), the tuning of its relay,
//! and how to build it from the configuration. Adding a sink is one adapter implementing
//! `application::ports::Sink` plus one entry in [`registered`].

use std::sync::Arc;

use adapter_nats::{JetStreamSink, NatsAuth, NatsReadiness, NatsSettings, NatsTls};
use adapter_webhook::{AddressRule, WebhookGuard, WebhookSender, WebhookSettings};
use application::SinkRelay;
use application::callback::{CallbackSink, CallbackSubjects};
use application::chat::{ChatSink, ChatSubjects};
use application::ports::{
    CALLBACK_SINK, CHAT_SINK, ChatGateway, Clock, DeliveryRoutes, EventSelection, Route, Sink,
};
use application::use_cases::RelayPolicy;

use crate::config::{Config, NatsConfig, NatsCredentials};
use crate::wiring::{StartupError, Store};

/// Sinks whose clients must be started before the wiring, which is not async: built by
/// [`connect`] in `build`, or left empty by tests that wire their own adapters.
#[derive(Clone, Default)]
pub struct ConnectedSinks {
    /// The JetStream client, when `NATS_URL` is set.
    pub events: Option<JetStreamSink>,
}

impl ConnectedSinks {
    /// The readiness checks of the sinks' connections, for `/readyz`.
    pub(crate) fn readiness(&self) -> Vec<NatsReadiness> {
        self.events.iter().map(JetStreamSink::readiness).collect()
    }
}

/// Starts the clients of the configured sinks that need one.
///
/// # Errors
/// [`StartupError::Nats`] when the NATS settings cannot work.
pub async fn connect(config: &Config) -> Result<ConnectedSinks, StartupError> {
    let events = match &config.nats {
        Some(nats) => {
            let sink = JetStreamSink::connect(&nats_settings(config, nats))
                .await
                .map_err(StartupError::Nats)?;
            tracing::info!(url = %nats.redacted_url, stream = %nats.stream, "events: publishing to NATS JetStream");
            Some(sink)
        }
        None => None,
    };
    Ok(ConnectedSinks { events })
}

/// What the sinks are built from.
pub(crate) struct SinkDeps {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) chat: Arc<dyn ChatGateway>,
    /// Every aggregate that shows in chat.
    pub(crate) subjects: ChatSubjects,
    /// Every aggregate that calls its requester back.
    pub(crate) callbacks: CallbackSubjects,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) connected: ConnectedSinks,
}

/// How a sink is built from the configuration and what it needs.
type BuildSink = fn(&Config, &SinkDeps) -> Result<Arc<dyn Sink>, StartupError>;

/// One registered sink.
pub(crate) struct SinkEntry {
    route: Route,
    policy: RelayPolicy,
    build: BuildSink,
}

/// Every sink the configuration enables, in the order their relays start.
pub(crate) fn registered(config: &Config) -> Vec<SinkEntry> {
    let mut sinks = vec![SinkEntry {
        route: Route {
            sink: CHAT_SINK,
            events: EventSelection::All,
        },
        policy: relay_policy(config),
        build: chat,
    }];
    sinks.push(SinkEntry {
        route: Route {
            sink: CALLBACK_SINK,
            events: EventSelection::Only(application::CALLBACK_EVENTS),
        },
        policy: callback_policy(config),
        build: callback,
    });
    if config.nats.is_some() {
        sinks.push(SinkEntry {
            route: Route {
                sink: JetStreamSink::NAME,
                events: EventSelection::All,
            },
            policy: relay_policy(config),
            build: events,
        });
    }
    sinks
}

/// Which sinks get which events, for the store.
pub(crate) fn routes(config: &Config) -> DeliveryRoutes {
    DeliveryRoutes::new(registered(config).into_iter().map(|entry| entry.route))
}

/// Builds every registered sink with its relay's tuning.
///
/// # Errors
/// The [`StartupError`] of the first sink that cannot be built.
pub(crate) fn relays(config: &Config, deps: &SinkDeps) -> Result<Vec<SinkRelay>, StartupError> {
    registered(config)
        .into_iter()
        .map(|entry| {
            let sink = (entry.build)(config, deps)?;
            debug_assert_eq!(
                sink.name(),
                entry.route.sink,
                "a sink is routed by its name"
            );
            Ok(SinkRelay {
                sink,
                policy: entry.policy,
            })
        })
        .collect()
}

/// The relay tuning from the configuration; the rest of the defaults suit a chat platform.
fn relay_policy(config: &Config) -> RelayPolicy {
    RelayPolicy {
        batch_size: config.relay.batch_size,
        lease: config.relay.lease,
        retry_budget: config.relay.retry_budget,
        ..RelayPolicy::default()
    }
}

/// Lanes of the callback relay: receivers that hang until the timeout hold up at most this
/// many lanes, each only its own.
const CALLBACK_LANES: usize = 8;

/// Callbacks go to many receivers, each of which may be slow or down: they are delivered in
/// lanes, so a receiver that hangs holds only its own, and the backoff grows to an hour over
/// a day, as receivers of webhooks expect.
fn callback_policy(config: &Config) -> RelayPolicy {
    RelayPolicy {
        lanes: CALLBACK_LANES,
        retry_budget: config.callback.retry_budget,
        max_backoff: config.callback.max_backoff,
        ..relay_policy(config)
    }
}

/// The webhook adapter's settings from the configuration.
pub(crate) fn webhook_settings(config: &Config) -> WebhookSettings {
    WebhookSettings {
        timeout: config.callback.timeout,
        rule: AddressRule {
            allow_private_networks: config.callback.allow_private_networks,
        },
        allow_http: config.callback.allow_http,
    }
}

/// The guard that vets callback URLs at creation, with the sender's rule.
pub(crate) fn callback_guard(config: &Config) -> WebhookGuard {
    let settings = webhook_settings(config);
    WebhookGuard {
        rule: settings.rule,
        allow_http: settings.allow_http,
    }
}

fn callback(config: &Config, deps: &SinkDeps) -> Result<Arc<dyn Sink>, StartupError> {
    let sender = WebhookSender::new(&webhook_settings(config)).map_err(StartupError::Webhook)?;
    Ok(Arc::new(CallbackSink::new(
        deps.callbacks.clone(),
        deps.store.clone(),
        Arc::new(sender),
        deps.clock.clone(),
    )))
}

fn chat(_config: &Config, deps: &SinkDeps) -> Result<Arc<dyn Sink>, StartupError> {
    Ok(Arc::new(ChatSink::new(
        deps.subjects.clone(),
        deps.chat.clone(),
        deps.store.clone(),
    )))
}

fn events(_config: &Config, deps: &SinkDeps) -> Result<Arc<dyn Sink>, StartupError> {
    deps.connected
        .events
        .clone()
        .map(|sink| Arc::new(sink) as Arc<dyn Sink>)
        .ok_or(StartupError::NotConnected(JetStreamSink::NAME))
}

/// The adapter's settings from the configuration. JetStream must remember a message id for
/// longer than the longest gap between two attempts at one event — a crashed relay's lease
/// or the longest backoff — or a late retry would be stored twice.
fn nats_settings(config: &Config, nats: &NatsConfig) -> NatsSettings {
    let gap = config.relay.lease.max(RelayPolicy::default().max_backoff);
    NatsSettings {
        stream: nats.stream.clone(),
        subject_prefix: nats.subject_prefix.clone(),
        auth: match &nats.credentials {
            NatsCredentials::None => NatsAuth::None,
            NatsCredentials::UserPassword { user, password } => NatsAuth::UserPassword {
                user: user.clone(),
                password: password.clone(),
            },
            NatsCredentials::Token(token) => NatsAuth::Token(token.clone()),
            NatsCredentials::File(path) => NatsAuth::CredentialsFile(path.clone()),
        },
        tls: NatsTls {
            ca_file: nats.ca_file.clone(),
            client_certificate: nats.client_certificate.clone(),
        },
        publish_timeout: nats.timeout,
        duplicate_window: gap
            .saturating_mul(2)
            .max(NatsSettings::new(nats.url.clone()).duplicate_window),
        ..NatsSettings::new(nats.url.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_env(vars.iter().copied()).unwrap()
    }

    #[test]
    fn chat_takes_every_event_and_callbacks_the_settling_ones() {
        let routes = routes(&config(&[]));

        assert_eq!(
            routes.sinks_for("approval.requested").collect::<Vec<_>>(),
            [CHAT_SINK]
        );
        assert_eq!(
            routes.sinks_for("invoice.paid").collect::<Vec<_>>(),
            [CHAT_SINK]
        );
        assert_eq!(
            routes.sinks_for("approval.approved").collect::<Vec<_>>(),
            [CHAT_SINK, CALLBACK_SINK]
        );
    }

    #[test]
    fn the_callback_route_lists_every_registered_callback_event() {
        let ports = application::Ports::over(
            Arc::new(adapter_memory::MemoryStore::default()),
            Arc::new(adapter_memory::EveryPlatform),
            Arc::new(adapter_memory::AnyCallbackUrl),
            Arc::new(adapter_memory::ManualClock::new(chrono::Utc::now())),
            Arc::new(adapter_memory::SequentialIds::default()),
        );
        let registered: Vec<&str> = ports.callback_subjects().events().collect();
        assert_eq!(registered, application::CALLBACK_EVENTS);
    }

    #[test]
    fn callbacks_back_off_to_an_hour_over_a_day_by_default() {
        let policy = callback_policy(&config(&[]));
        assert_eq!(policy.max_backoff, Duration::from_secs(60 * 60));
        assert_eq!(policy.retry_budget, Duration::from_secs(24 * 60 * 60));
        assert_eq!(policy.base_backoff, RelayPolicy::default().base_backoff);
        assert_eq!(policy.lanes, CALLBACK_LANES);
        assert_eq!(relay_policy(&config(&[])).lanes, 1, "chat keeps one lane");
    }

    #[test]
    fn nats_takes_every_event_when_configured() {
        assert_eq!(routes(&config(&[])).sinks().count(), 2);

        let routes = routes(&config(&[("NATS_URL", "nats://127.0.0.1:4222")]));

        assert_eq!(
            routes.sinks_for("approval.approved").collect::<Vec<_>>(),
            [CHAT_SINK, CALLBACK_SINK, JetStreamSink::NAME]
        );
    }

    #[test]
    fn the_relay_is_tuned_from_the_configuration() {
        let policy = relay_policy(&config(&[
            (
                concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_BATCH_SIZE"),
                "50",
            ),
            (concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_LEASE"), "5s"),
            (
                concat!(env!("SERVICE_ENV_PREFIX"), "_RELAY_RETRY_BUDGET"),
                "2h",
            ),
        ]));

        assert_eq!(policy.batch_size, 50);
        assert_eq!(policy.lease, Duration::from_secs(5));
        assert_eq!(policy.retry_budget, Duration::from_secs(2 * 60 * 60));
    }
}
