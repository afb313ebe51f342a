//! The alert message as a neutral model. How Slack shows it is checked in the Slack adapter's
//! tests, against what Slack receives.

use chrono::TimeZone;
use domain::{AlertId, ChatDestination, DedupKey, Description, NewAlert, Title};

use super::*;

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 9, minute, 0).unwrap()
}

fn who(raw: &str) -> Identity {
    Identity::parse(raw).unwrap()
}

fn new_alert(severity: Severity, summary: &str) -> NewAlert {
    NewAlert {
        severity,
        summary: Title::parse(summary).unwrap(),
        details: Description::parse("/var/lib/postgres").unwrap(),
        destination: ChatDestination::parse("C1").unwrap(),
        dedup_key: DedupKey::parse("disk:db-1").unwrap(),
        raised_by: who("monitor"),
    }
}

fn open() -> Alert {
    let mut alert = Alert::raise(
        AlertId::from_uuid(uuid::Uuid::from_u128(0xa1)),
        new_alert(Severity::Critical, "db-1 disk 97%"),
        at(0),
    );
    alert.take_events();
    alert
}

fn ids(message: &ChatMessage) -> Vec<&str> {
    message.actions.iter().map(|a| a.id).collect()
}

#[test]
fn an_open_alert_offers_acknowledge_and_resolve_and_names_its_severity() {
    let message = alert_message(&open());
    assert_eq!(message.subject.kind, "alert");
    assert_eq!(message.tone, Tone::Danger);
    assert_eq!(message.status, "critical, open");
    assert_eq!(
        message.notification.to_string(),
        "Critical alert: db-1 disk 97%"
    );
    assert_eq!(message.headline.to_string(), "🔴 Critical · db-1 disk 97%");
    assert_eq!(ids(&message), ["acknowledge", "resolve"]);
    assert_eq!(
        message.actions[1].rest.as_ref().unwrap().path,
        format!("/v1/alerts/{}/resolve", uuid::Uuid::from_u128(0xa1))
    );
}

#[test]
fn a_repeat_shows_the_count_and_the_latest_severity() {
    let mut alert = open();
    alert
        .repeat(new_alert(Severity::Warning, "db-1 disk 93%"), at(40))
        .unwrap();
    alert.take_events();
    let message = alert_message(&alert);
    assert_eq!(message.tone, Tone::Warning);
    assert_eq!(message.subject.version, 2);
    let facts: Vec<_> = message
        .facts
        .iter()
        .map(|f| format!("{}: {}", f.label, f.value))
        .collect();
    assert_eq!(
        facts,
        [
            "Raised by: monitor · 2026-01-01T09:00:00+00:00",
            "Raised: 2 times, last 2026-01-01T09:40:00+00:00",
            "Key: `disk:db-1`",
        ]
    );
}

#[test]
fn an_acknowledged_alert_keeps_only_resolve_and_a_resolved_one_nothing() {
    let mut alert = open();
    alert.acknowledge(who("slack:U0ALICE"), at(5)).unwrap();
    alert.take_events();
    let acknowledged = alert_message(&alert);
    assert_eq!(ids(&acknowledged), ["resolve"]);
    assert_eq!(
        acknowledged.outcome[0].to_string(),
        "👀 Acknowledged by slack:U0ALICE · 2026-01-01T09:05:00+00:00"
    );

    alert.resolve(who("slack:U0BOB"), at(30));
    alert.take_events();
    let resolved = alert_message(&alert);
    assert!(resolved.actions.is_empty());
    assert_eq!(resolved.tone, Tone::Success);
    assert_eq!(resolved.outcome.len(), 2);
    assert!(
        resolved.outcome[1]
            .to_string()
            .starts_with("✅ Resolved by slack:U0BOB")
    );
}
