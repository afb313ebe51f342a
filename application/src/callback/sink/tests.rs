//! The callback sink against mocks: what is sent (once, signed by whom, with which body) is
//! the point, and what is not sent at all.

use chrono::{TimeZone, Utc};
use domain::{CallbackUrl, Identity};
use uuid::Uuid;

use super::*;
use crate::callback::{CallbackEvent, MockCallbackSubject};
use crate::ports::{
    MockApiKeyStore, MockCallbackSender, MockClock, RepositoryError, WebhookSecret, WebhookSecrets,
};

static TURNED: &[&str] = &["widget.turned"];

fn event(event_type: &str) -> OutboxMessage {
    OutboxMessage {
        id: 42,
        sink: CALLBACK_SINK.into(),
        aggregate_type: "widget".into(),
        aggregate_id: Uuid::from_u128(7),
        event_type: event_type.into(),
        payload: serde_json::json!({}),
        attempts: 0,
        created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        trying_since: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
    }
}

fn widget(recipient: Option<Recipient>) -> MockCallbackSubject {
    let mut subject = MockCallbackSubject::new();
    subject.expect_kind().return_const("widget");
    subject.expect_events().return_const(TURNED);
    subject
        .expect_recipient()
        .returning(move |_| Ok(recipient.clone()));
    subject
}

fn requester() -> Recipient {
    Recipient::Requester(CallbackEvent {
        url: CallbackUrl::parse("https://ci.example.com/hook").unwrap(),
        requester: Identity::parse("ci").unwrap(),
        data: serde_json::json!({"turns": 3}),
    })
}

fn keys(secrets: Option<WebhookSecrets>) -> MockApiKeyStore {
    let mut keys = MockApiKeyStore::new();
    keys.expect_webhook_secrets()
        .returning(move |_| Ok(secrets.clone()));
    keys
}

fn secrets() -> WebhookSecrets {
    WebhookSecrets {
        current: WebhookSecret::from_random("current"),
        previous: None,
    }
}

fn sink(
    subject: MockCallbackSubject,
    keys: MockApiKeyStore,
    sender: MockCallbackSender,
) -> CallbackSink {
    let mut clock = MockClock::new();
    clock
        .expect_now()
        .return_const(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 5).unwrap());
    CallbackSink::new(
        CallbackSubjects::new().with(subject),
        Arc::new(keys),
        Arc::new(sender),
        Arc::new(clock),
    )
}

#[tokio::test]
async fn a_settling_event_is_sent_once_with_its_type_time_and_data() {
    let mut sender = MockCallbackSender::new();
    sender
        .expect_send()
        .withf(|callback| {
            let body: serde_json::Value = serde_json::from_slice(&callback.body).unwrap();
            callback.id == "msg_00000000000000000000000000000007_42"
                && callback.url.as_str() == "https://ci.example.com/hook"
                && callback.timestamp == Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 5).unwrap()
                && callback.secrets.len() == 1
                && body
                    == serde_json::json!({
                        "type": "widget.turned",
                        "timestamp": "2026-01-01T00:00:00Z",
                        "data": {"turns": 3},
                    })
        })
        .times(1)
        .returning(|_| Ok(()));
    let result = sink(widget(Some(requester())), keys(Some(secrets())), sender)
        .deliver(&event("widget.turned"))
        .await;
    assert_eq!(result, Ok(()));
}

#[tokio::test]
async fn nothing_is_sent_without_a_callback_url_or_for_another_event() {
    let mut sender = MockCallbackSender::new();
    sender.expect_send().never();
    let sink = sink(widget(Some(Recipient::Nobody)), keys(None), sender);
    assert_eq!(sink.deliver(&event("widget.turned")).await, Ok(()));
    assert_eq!(sink.deliver(&event("widget.polished")).await, Ok(()));
}

#[tokio::test]
async fn a_requester_without_a_secret_or_a_missing_aggregate_is_permanent() {
    let mut sender = MockCallbackSender::new();
    sender.expect_send().never();
    let unsigned = sink(widget(Some(requester())), keys(None), sender);
    assert!(matches!(
        unsigned.deliver(&event("widget.turned")).await,
        Err(SinkError::Permanent { .. })
    ));

    let mut sender = MockCallbackSender::new();
    sender.expect_send().never();
    let gone = sink(widget(None), keys(Some(secrets())), sender);
    assert!(matches!(
        gone.deliver(&event("widget.turned")).await,
        Err(SinkError::Permanent { .. })
    ));
}

#[tokio::test]
async fn a_store_outage_is_retried() {
    let mut keys = MockApiKeyStore::new();
    keys.expect_webhook_secrets()
        .returning(|_| Err(RepositoryError::Unavailable("down".into())));
    let mut sender = MockCallbackSender::new();
    sender.expect_send().never();
    let result = sink(widget(Some(requester())), keys, sender)
        .deliver(&event("widget.turned"))
        .await;
    assert!(matches!(result, Err(SinkError::Retryable { .. })));
}
