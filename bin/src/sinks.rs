//! The delivery sinks this service feeds: the one place a sink is registered.
//!
//! Each entry names a sink, the events it takes (the store writes one outbox row per event
//! and subscribed sink, see `application::ports::DeliveryRoutes`), the tuning of its relay,
//! and how to build it from the configuration. Adding a sink is one adapter implementing
//! `application::ports::Sink` plus one entry in [`registered`].

use std::sync::Arc;

use application::SinkRelay;
use application::chat::{ChatSink, ChatSubjects};
use application::ports::{CHAT_SINK, ChatGateway, DeliveryRoutes, EventSelection, Route, Sink};
use application::use_cases::RelayPolicy;

use crate::config::Config;
use crate::wiring::{StartupError, Store};

/// What the sinks are built from.
pub(crate) struct SinkDeps {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) chat: Arc<dyn ChatGateway>,
    /// Every aggregate that shows in chat.
    pub(crate) subjects: ChatSubjects,
}

/// One registered sink.
pub(crate) struct SinkEntry {
    route: Route,
    policy: RelayPolicy,
    build: fn(&Config, &SinkDeps) -> Result<Arc<dyn Sink>, StartupError>,
}

/// Every sink the configuration enables, in the order their relays start.
pub(crate) fn registered(config: &Config) -> Vec<SinkEntry> {
    vec![SinkEntry {
        route: Route {
            sink: CHAT_SINK,
            events: EventSelection::All,
        },
        policy: relay_policy(config),
        build: chat,
    }]
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

fn chat(_config: &Config, deps: &SinkDeps) -> Result<Arc<dyn Sink>, StartupError> {
    Ok(Arc::new(ChatSink::new(
        deps.subjects.clone(),
        deps.chat.clone(),
        deps.store.clone(),
    )))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        Config::from_env(vars.iter().copied()).unwrap()
    }

    #[test]
    fn chat_takes_every_event() {
        let routes = routes(&config(&[]));

        assert_eq!(
            routes.sinks_for("approval.requested").collect::<Vec<_>>(),
            [CHAT_SINK]
        );
        assert_eq!(
            routes.sinks_for("alert.resolved").collect::<Vec<_>>(),
            [CHAT_SINK]
        );
    }

    #[test]
    fn the_relay_is_tuned_from_the_configuration() {
        let policy = relay_policy(&config(&[
            ("HEXAGATE_RELAY_BATCH_SIZE", "50"),
            ("HEXAGATE_RELAY_LEASE", "5s"),
            ("HEXAGATE_RELAY_RETRY_BUDGET", "2h"),
        ]));

        assert_eq!(policy.batch_size, 50);
        assert_eq!(policy.lease, Duration::from_secs(5));
        assert_eq!(policy.retry_budget, Duration::from_secs(2 * 60 * 60));
    }
}
