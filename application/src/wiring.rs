//! The set of ports the application needs, and the set of use cases built from them.

use std::sync::Arc;

use crate::callback::CallbackSubjects;
use crate::callback::approval::ApprovalCallbacks;
use crate::chat::ChatSubjects;
use crate::chat::alert::AlertChat;
use crate::chat::approval::ApprovalChat;
use crate::ports::{
    AlertRepository, ApiKeyStore, ApprovalRepository, CallbackUrlGuard, ChangeFeed, ChatPlatforms,
    Clock, IdGenerator, Outbox, Sink,
};
use crate::use_cases::{
    Authenticate, CancelApproval, CreateApiKey, CreateApproval, DeadLetters, Decide,
    DeliverNotifications, ExpireOverdue, GetAlert, GetApproval, ListApprovals, RaiseAlert,
    RelayPolicy, RemindApprovers, RotateWebhookSecret, SettleAlert, WaitForOutcome,
};

/// Every driven port, chosen by the composition root (`bin/`) or by a test.
#[derive(Clone)]
pub struct Ports {
    pub approvals: Arc<dyn ApprovalRepository>,
    pub alerts: Arc<dyn AlertRepository>,
    pub outbox: Arc<dyn Outbox>,
    pub api_keys: Arc<dyn ApiKeyStore>,
    /// Announcements of saved aggregates, which long-polls wait on.
    pub changes: Arc<dyn ChangeFeed>,
    /// Which chat destinations can be delivered to (the platform router).
    pub platforms: Arc<dyn ChatPlatforms>,
    /// Which callback URLs may be called back (checked when a request is created).
    pub callback_urls: Arc<dyn CallbackUrlGuard>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    /// Where outbox events go; each gets a relay of its own.
    pub sinks: Vec<SinkRelay>,
}

/// Every repository, the outbox and the change feed, as one store offers them: each store
/// adapter implements them all, so [`Ports::over`] takes the store whole and no caller lists
/// the repositories.
pub trait Repositories:
    ApprovalRepository + AlertRepository + Outbox + ApiKeyStore + ChangeFeed
{
}

impl<T> Repositories for T where
    T: ApprovalRepository + AlertRepository + Outbox + ApiKeyStore + ChangeFeed
{
}

impl Ports {
    /// Every port from `store`, with the platform router, the callback URL guard, the clock
    /// and the id source given, and no sinks yet. Replace a field afterwards to decorate or
    /// fake one port.
    pub fn over(
        store: Arc<dyn Repositories>,
        platforms: Arc<dyn ChatPlatforms>,
        callback_urls: Arc<dyn CallbackUrlGuard>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self {
            approvals: store.clone(),
            alerts: store.clone(),
            outbox: store.clone(),
            api_keys: store.clone(),
            changes: store,
            platforms,
            callback_urls,
            clock,
            ids,
            sinks: Vec::new(),
        }
    }

    /// Every aggregate that shows in chat, one line each: what the chat sink renders and the
    /// platforms' buttons and commands act on.
    pub fn chat_subjects(&self) -> ChatSubjects {
        ChatSubjects::new()
            .with(ApprovalChat::new(self))
            .with(AlertChat::new(self))
    }

    /// Every aggregate that calls its requester back when it settles, one line each; their
    /// events are [`CALLBACK_EVENTS`].
    pub fn callback_subjects(&self) -> CallbackSubjects {
        CallbackSubjects::new().with(ApprovalCallbacks::new(self))
    }
}

/// The events that call a requester back: those of every aggregate in
/// [`Ports::callback_subjects`]. The store routes rows to the callback sink before any port
/// exists, so the list is a constant; the composition root checks that the two agree.
pub const CALLBACK_EVENTS: &[&str] = crate::callback::approval::SETTLED;

/// A sink and the tuning of the relay that feeds it.
#[derive(Clone)]
pub struct SinkRelay {
    pub sink: Arc<dyn Sink>,
    pub policy: RelayPolicy,
}

/// Every use case, built once from [`Ports`] and shared by the inbound adapters.
#[derive(Clone)]
pub struct UseCases {
    pub create_approval: CreateApproval,
    pub get_approval: GetApproval,
    pub wait_for_outcome: WaitForOutcome,
    pub list_approvals: ListApprovals,
    pub decide: Decide,
    pub cancel_approval: CancelApproval,
    pub expire_overdue: ExpireOverdue,
    pub remind_approvers: RemindApprovers,
    pub create_api_key: CreateApiKey,
    pub rotate_webhook_secret: RotateWebhookSecret,
    pub authenticate: Authenticate,
    pub raise_alert: RaiseAlert,
    pub get_alert: GetAlert,
    pub settle_alert: SettleAlert,
    pub dead_letters: DeadLetters,
    /// One relay per sink, in the order the sinks were registered.
    pub relays: Vec<DeliverNotifications>,
}

impl UseCases {
    pub fn new(ports: &Ports) -> Self {
        Self {
            create_approval: CreateApproval::new(
                ports.approvals.clone(),
                ports.platforms.clone(),
                ports.callback_urls.clone(),
                ports.clock.clone(),
                ports.ids.clone(),
            ),
            get_approval: GetApproval::new(ports.approvals.clone()),
            wait_for_outcome: WaitForOutcome::new(ports.approvals.clone(), ports.changes.clone()),
            list_approvals: ListApprovals::new(ports.approvals.clone()),
            decide: Decide::new(ports.approvals.clone(), ports.clock.clone()),
            cancel_approval: CancelApproval::new(ports.approvals.clone(), ports.clock.clone()),
            expire_overdue: ExpireOverdue::new(ports.approvals.clone(), ports.clock.clone()),
            remind_approvers: RemindApprovers::new(ports.approvals.clone(), ports.clock.clone()),
            create_api_key: CreateApiKey::new(
                ports.api_keys.clone(),
                ports.clock.clone(),
                ports.ids.clone(),
            ),
            rotate_webhook_secret: RotateWebhookSecret::new(
                ports.api_keys.clone(),
                ports.clock.clone(),
                ports.ids.clone(),
            ),
            authenticate: Authenticate::new(ports.api_keys.clone()),
            raise_alert: RaiseAlert::new(
                ports.alerts.clone(),
                ports.platforms.clone(),
                ports.clock.clone(),
                ports.ids.clone(),
            ),
            get_alert: GetAlert::new(ports.alerts.clone()),
            settle_alert: SettleAlert::new(ports.alerts.clone(), ports.clock.clone()),
            dead_letters: DeadLetters::new(ports.outbox.clone(), ports.clock.clone()),
            relays: ports
                .sinks
                .iter()
                .map(|entry| {
                    DeliverNotifications::new(
                        ports.outbox.clone(),
                        entry.sink.clone(),
                        ports.clock.clone(),
                        entry.policy,
                    )
                })
                .collect(),
        }
    }

    /// The relay of the sink with this name, if one is registered.
    pub fn relay(&self, sink: &str) -> Option<&DeliverNotifications> {
        self.relays.iter().find(|relay| relay.sink() == sink)
    }
}
