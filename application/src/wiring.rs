//! The set of ports the application needs, and the set of use cases built from them.

use std::sync::Arc;

use crate::ports::{
    AlertRepository, ApiKeyStore, ApprovalRepository, Clock, IdGenerator, Outbox, Sink,
};
use crate::use_cases::{
    Authenticate, CancelApproval, CreateApiKey, CreateApproval, Decide, DeliverNotifications,
    ExpireOverdue, GetAlert, GetApproval, ListApprovals, RaiseAlert, RelayPolicy, SettleAlert,
};

/// The driven ports the use cases need, chosen by the composition root (`bin/`) or by a test.
/// (The chat gateway and the message references are the chat sink's; see [`crate::chat`].)
#[derive(Clone)]
pub struct Ports {
    pub approvals: Arc<dyn ApprovalRepository>,
    pub alerts: Arc<dyn AlertRepository>,
    pub outbox: Arc<dyn Outbox>,
    pub api_keys: Arc<dyn ApiKeyStore>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
}

/// Every use case, built once from [`Ports`] and shared by the inbound adapters.
#[derive(Clone)]
pub struct UseCases {
    pub create_approval: CreateApproval,
    pub get_approval: GetApproval,
    pub list_approvals: ListApprovals,
    pub decide: Decide,
    pub cancel_approval: CancelApproval,
    pub expire_overdue: ExpireOverdue,
    pub create_api_key: CreateApiKey,
    pub authenticate: Authenticate,
    pub raise_alert: RaiseAlert,
    pub get_alert: GetAlert,
    pub settle_alert: SettleAlert,
    pub deliver_notifications: DeliverNotifications,
}

impl UseCases {
    /// `chat` is where the relay delivers outbox events.
    pub fn new(ports: &Ports, chat: Arc<dyn Sink>, relay: RelayPolicy) -> Self {
        Self {
            create_approval: CreateApproval::new(
                ports.approvals.clone(),
                ports.clock.clone(),
                ports.ids.clone(),
            ),
            get_approval: GetApproval::new(ports.approvals.clone()),
            list_approvals: ListApprovals::new(ports.approvals.clone()),
            decide: Decide::new(ports.approvals.clone(), ports.clock.clone()),
            cancel_approval: CancelApproval::new(ports.approvals.clone(), ports.clock.clone()),
            expire_overdue: ExpireOverdue::new(ports.approvals.clone(), ports.clock.clone()),
            create_api_key: CreateApiKey::new(
                ports.api_keys.clone(),
                ports.clock.clone(),
                ports.ids.clone(),
            ),
            authenticate: Authenticate::new(ports.api_keys.clone()),
            raise_alert: RaiseAlert::new(
                ports.alerts.clone(),
                ports.clock.clone(),
                ports.ids.clone(),
            ),
            get_alert: GetAlert::new(ports.alerts.clone()),
            settle_alert: SettleAlert::new(ports.alerts.clone(), ports.clock.clone()),
            deliver_notifications: DeliverNotifications::new(
                ports.outbox.clone(),
                chat,
                ports.clock.clone(),
                relay,
            ),
        }
    }
}
