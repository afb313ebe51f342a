//! Helpers for the alert routes' tests.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use domain::{
    Alert, AlertId, ChatDestination, DedupKey, Description, Identity, NewAlert, Severity, Title,
};
use serde_json::{Value, json};

use crate::support::{TestApp, start_time};

impl TestApp {
    /// Raises an alert through the API and returns its JSON; asserts that it opened a new one.
    pub async fn raise(&self, key: &str, body: Value) -> Value {
        let response = self.post("/v1/alerts", key, &body).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        response.json()
    }

    /// How many alerts the store holds. The alert port has no listing, but every alert is in
    /// the outbox: opening one saves its `alert.raised` event in the same write.
    pub fn alert_count(&self) -> usize {
        self.store
            .outbox_messages()
            .iter()
            .filter(|(message, _)| message.aggregate_type == "alert")
            .map(|(message, _)| AlertId::from_uuid(message.aggregate_id))
            .collect::<BTreeSet<_>>()
            .len()
    }
}

/// An open alert raised by `ci`, as a store would return it.
pub fn open_alert(id: AlertId) -> Alert {
    let mut alert = Alert::raise(
        id,
        NewAlert {
            severity: Severity::Warning,
            summary: Title::parse("disk 91% full on db-1").unwrap(),
            details: Description::default(),
            destination: ChatDestination::parse("C0123456789").unwrap(),
            dedup_key: DedupKey::parse("disk-full:db-1").unwrap(),
            raised_by: Identity::parse("ci").unwrap(),
        },
        start_time(),
    );
    alert.take_events();
    alert
}

/// The smallest valid raise body.
pub fn new_alert(dedup_key: &str) -> Value {
    json!({
        "severity": "warning",
        "summary": "disk 91% full on db-1",
        "destination": "C0123456789",
        "dedup_key": dedup_key,
    })
}
