//! The contract of `AlertRepository`: storing the aggregate exactly, the dedup invariant (at
//! most one unresolved alert per key), optimistic concurrency, and events written atomically
//! with the state.

use std::collections::BTreeSet;
use std::sync::Arc;

use application::ports::{AlertRepository, Claim, IdGenerator, RepositoryError};
use application::use_cases::{RaiseAlert, RaiseAlertError, RaiseAlertInput, Raised};
use chrono::Duration;
use domain::{
    Alert, AlertId, AlertStatus, ChatDestination, DedupKey, Description, NewAlert, Severity, Title,
};
use tokio::sync::Barrier;

use super::Store;
use super::fixtures::{
    Fixture, assert_only_rows_of, assert_rows_are_the_events, drain, event_types_of, identity,
    join_all,
};
use super::idempotency::{answer, receipt, request};

/// A minimal valid alert by `monitor` with this dedup key.
pub fn new_alert(dedup_key: &str) -> NewAlert {
    NewAlert {
        severity: Severity::Warning,
        summary: Title::parse("db-1 disk 91% full").unwrap(),
        details: Description::default(),
        destination: ChatDestination::parse("C0123456789").unwrap(),
        dedup_key: DedupKey::parse(dedup_key).unwrap(),
        raised_by: identity("monitor"),
    }
}

impl Fixture {
    /// Raises the alert `new` now, with the next id, without storing it. Its `Raised` event is
    /// still pending.
    pub fn open_alert(&self, new: NewAlert) -> Alert {
        Alert::raise(AlertId::from_uuid(self.ids.new_id()), new, self.now())
    }
}

/// How a SQL store must answer for an alert row edited by hand into something no alert can
/// be: stores an alert through `alerts`, runs `edit_by_hand` with the SQL that gives it an
/// unknown severity, and checks that every query that reads it reports it `Corrupt`, naming
/// the severity.
pub async fn a_hand_edited_alert_row_is_reported_corrupt(
    alerts: &dyn AlertRepository,
    edit_by_hand: impl AsyncFnOnce(&'static str),
) {
    let mut alert = Fixture::default().open_alert(new_alert("disk-full:db-1"));
    let events = alert.take_events();
    alerts.save(&alert, &events, None).await.unwrap();

    edit_by_hand("UPDATE alerts SET severity = 'catastrophic'").await;

    let loaded = alerts.get(alert.id()).await;
    assert!(
        matches!(&loaded, Err(RepositoryError::Corrupt(m)) if m.contains("severity")),
        "{loaded:?}"
    );
    let found = alerts.find_unresolved(&alert.state().dedup_key).await;
    assert!(
        matches!(&found, Err(RepositoryError::Corrupt(m)) if m.contains("severity")),
        "{found:?}"
    );
}

/// An alert with every field set to a non-default value, so a round trip proves each one is
/// stored.
fn fully_specified() -> NewAlert {
    NewAlert {
        severity: Severity::Critical,
        summary: Title::parse("db-1: disk 97% full — writes fail soon").unwrap(),
        details: Description::parse("/var/lib/postgresql: 97%.\nGrowth: 2%/h. Runbook: `df -h`.")
            .unwrap(),
        destination: ChatDestination::parse("C0ALERTS42").unwrap(),
        dedup_key: DedupKey::parse("disk-full:db-1:/var/lib/postgresql").unwrap(),
        raised_by: identity("prometheus-alertmanager"),
    }
}

/// Stores the alert together with the events it raised since the last save.
async fn save(store: &Store, alert: &mut Alert) -> Result<(), RepositoryError> {
    let events = alert.take_events();
    store.alerts.save(alert, &events, None).await
}

/// Opens and stores an alert, with its `Raised` event.
async fn raise(fixture: &Fixture, store: &Store, new: NewAlert) -> Alert {
    let mut alert = fixture.open_alert(new);
    save(store, &mut alert).await.unwrap();
    alert
}

async fn get(store: &Store, id: AlertId) -> Option<Alert> {
    store.alerts.get(id).await.unwrap()
}

async fn find_unresolved(store: &Store, key: &str) -> Option<Alert> {
    let key = DedupKey::parse(key).unwrap();
    store.alerts.find_unresolved(&key).await.unwrap()
}

pub async fn round_trips_every_field(store: &Store) {
    let fixture = Fixture::default();
    let mut alert = raise(&fixture, store, fully_specified()).await;
    assert_eq!(get(store, alert.id()).await.as_ref(), Some(&alert));

    fixture.clock.advance(Duration::minutes(5));
    let latest = NewAlert {
        severity: Severity::Info,
        summary: Title::parse("db-1: disk 93% full").unwrap(),
        details: Description::parse("Cleanup freed 4 GiB.").unwrap(),
        ..fully_specified()
    };
    alert.repeat(latest, fixture.now()).unwrap();
    save(store, &mut alert).await.unwrap();
    assert_eq!(get(store, alert.id()).await.as_ref(), Some(&alert));

    fixture.clock.advance(Duration::minutes(5));
    alert
        .acknowledge(identity("slack:U2CERLKJA"), fixture.now())
        .unwrap();
    save(store, &mut alert).await.unwrap();
    assert_eq!(get(store, alert.id()).await.as_ref(), Some(&alert));

    fixture.clock.advance(Duration::minutes(5));
    alert.resolve(identity("alice"), fixture.now());
    save(store, &mut alert).await.unwrap();
    let stored = get(store, alert.id()).await.unwrap();
    assert_eq!(stored, alert);
    // Spelled out, so a failure names the field rather than two long debug dumps.
    let state = stored.state();
    assert_eq!(state.status, AlertStatus::Resolved);
    assert_eq!(state.version, 4);
    assert_eq!(state.count, 2);
    assert_eq!(state.severity, Severity::Info);
    assert_eq!(state.summary.as_str(), "db-1: disk 93% full");
    assert_eq!(state.last_raised_at, fixture.now() - Duration::minutes(10));
    assert_eq!(state.acknowledged_by, Some(identity("slack:U2CERLKJA")));
    assert_eq!(
        state.acknowledged_at,
        Some(fixture.now() - Duration::minutes(5))
    );
    assert_eq!(state.resolved_by, Some(identity("alice")));
    assert_eq!(state.resolved_at, Some(fixture.now()));
}

pub async fn get_returns_none_for_an_unknown_id(store: &Store) {
    let fixture = Fixture::default();
    raise(&fixture, store, new_alert("disk-full:db-1")).await;
    let unknown = fixture.open_alert(new_alert("disk-full:db-1")).id();
    assert_eq!(get(store, unknown).await, None);
}

pub async fn find_unresolved_finds_open_and_acknowledged_alerts_but_not_resolved_ones(
    store: &Store,
) {
    let fixture = Fixture::default();
    let open = raise(&fixture, store, new_alert("disk-full:db-1")).await;
    let mut acknowledged = raise(&fixture, store, new_alert("disk-full:db-2")).await;
    acknowledged
        .acknowledge(identity("alice"), fixture.now())
        .unwrap();
    save(store, &mut acknowledged).await.unwrap();
    let mut resolved = raise(&fixture, store, new_alert("disk-full:db-3")).await;
    resolved.resolve(identity("alice"), fixture.now());
    save(store, &mut resolved).await.unwrap();

    assert_eq!(find_unresolved(store, "disk-full:db-1").await, Some(open));
    assert_eq!(
        find_unresolved(store, "disk-full:db-2").await,
        Some(acknowledged)
    );
    assert_eq!(find_unresolved(store, "disk-full:db-3").await, None);
    // Keys match exactly: no prefix, no case folding.
    assert_eq!(find_unresolved(store, "disk-full:db").await, None);
    assert_eq!(find_unresolved(store, "DISK-FULL:DB-1").await, None);
}

pub async fn inserting_an_existing_id_is_a_duplicate(store: &Store) {
    let fixture = Fixture::default();
    let original = raise(&fixture, store, new_alert("disk-full:db-1")).await;
    let mut impostor = Alert::raise(original.id(), fully_specified(), fixture.now());

    let result = save(store, &mut impostor).await;

    assert_eq!(result, Err(RepositoryError::Duplicate));
    assert_eq!(get(store, original.id()).await, Some(original));
}

/// The dedup invariant, which two processes raising the same key at once rely on: only one
/// of their inserts can succeed. Acknowledged alerts are unresolved too.
pub async fn a_second_unresolved_alert_with_the_same_dedup_key_is_a_duplicate(store: &Store) {
    let fixture = Fixture::default();
    let mut first = raise(&fixture, store, new_alert("disk-full:db-1")).await;

    let mut second = fixture.open_alert(new_alert("disk-full:db-1"));
    assert_eq!(
        save(store, &mut second).await,
        Err(RepositoryError::Duplicate)
    );

    first.acknowledge(identity("alice"), fixture.now()).unwrap();
    save(store, &mut first).await.unwrap();
    let mut third = fixture.open_alert(new_alert("disk-full:db-1"));
    assert_eq!(
        save(store, &mut third).await,
        Err(RepositoryError::Duplicate)
    );

    assert_eq!(get(store, second.id()).await, None);
    assert_eq!(get(store, third.id()).await, None);
    assert_eq!(find_unresolved(store, "disk-full:db-1").await, Some(first));
}

pub async fn after_resolving_a_new_alert_with_the_same_key_can_be_inserted(store: &Store) {
    let fixture = Fixture::default();
    let mut first = raise(&fixture, store, new_alert("disk-full:db-1")).await;
    first.resolve(identity("alice"), fixture.now());
    save(store, &mut first).await.unwrap();

    fixture.clock.advance(Duration::hours(1));
    let second = raise(&fixture, store, new_alert("disk-full:db-1")).await;

    assert_eq!(
        find_unresolved(store, "disk-full:db-1").await,
        Some(second.clone())
    );
    assert_eq!(get(store, first.id()).await, Some(first));
    // The new alert holds the key now.
    let mut third = fixture.open_alert(new_alert("disk-full:db-1"));
    assert_eq!(
        save(store, &mut third).await,
        Err(RepositoryError::Duplicate)
    );
    assert_eq!(find_unresolved(store, "disk-full:db-1").await, Some(second));
}

pub async fn saving_a_stale_version_is_a_conflict(store: &Store) {
    let fixture = Fixture::default();
    let stored = raise(&fixture, store, new_alert("disk-full:db-1")).await;
    let mut first = stored.clone();
    let mut second = stored;
    first.acknowledge(identity("alice"), fixture.now()).unwrap();
    save(store, &mut first).await.unwrap();

    second.resolve(identity("bob"), fixture.now());
    let result = save(store, &mut second).await;

    assert_eq!(result, Err(RepositoryError::Conflict));
    assert_eq!(get(store, first.id()).await, Some(first));
}

pub async fn updating_an_alert_that_was_never_stored_is_a_conflict(store: &Store) {
    let fixture = Fixture::default();
    let mut alert = fixture.open_alert(new_alert("disk-full:db-1"));
    alert.take_events();
    alert.acknowledge(identity("alice"), fixture.now()).unwrap();

    let result = save(store, &mut alert).await;

    assert_eq!(result, Err(RepositoryError::Conflict));
    assert_eq!(get(store, alert.id()).await, None);
    assert_eq!(find_unresolved(store, "disk-full:db-1").await, None);
}

pub async fn a_failed_save_writes_no_outbox_rows(store: &Store) {
    let fixture = Fixture::default();
    let stored = raise(&fixture, store, new_alert("disk-full:db-1")).await;

    // A conflicting update that would have raised two events…
    let mut winner = stored.clone();
    winner
        .acknowledge(identity("alice"), fixture.now())
        .unwrap();
    save(store, &mut winner).await.unwrap();
    let mut stale = stored.clone();
    stale
        .repeat(new_alert("disk-full:db-1"), fixture.now())
        .unwrap();
    stale.resolve(identity("bob"), fixture.now());
    let events = stale.take_events();
    assert_eq!(events.len(), 2);
    assert_eq!(
        store.alerts.save(&stale, &events, None).await,
        Err(RepositoryError::Conflict)
    );
    // …an insert of an existing id, and one of a key that is taken, that would have raised
    // one each.
    let mut same_id = Alert::raise(stored.id(), new_alert("disk-full:db-2"), fixture.now());
    assert_eq!(
        save(store, &mut same_id).await,
        Err(RepositoryError::Duplicate)
    );
    let mut same_key = fixture.open_alert(new_alert("disk-full:db-1"));
    assert_eq!(
        save(store, &mut same_key).await,
        Err(RepositoryError::Duplicate)
    );

    assert_only_rows_of(
        store,
        fixture.now(),
        stored.id().as_uuid(),
        &["alert.raised", "alert.acknowledged"],
    )
    .await;
}

pub async fn each_event_becomes_one_outbox_row_in_order(store: &Store) {
    let fixture = Fixture::default();
    let mut alert = fixture.open_alert(new_alert("disk-full:db-1"));
    let mut events = alert.take_events();
    store.alerts.save(&alert, &events, None).await.unwrap();

    // Two events in one save, then one more.
    fixture.clock.advance(Duration::seconds(90));
    alert
        .repeat(new_alert("disk-full:db-1"), fixture.now())
        .unwrap();
    fixture.clock.advance(Duration::seconds(1));
    alert.acknowledge(identity("alice"), fixture.now()).unwrap();
    let batch = alert.take_events();
    store.alerts.save(&alert, &batch, None).await.unwrap();
    events.extend(batch);
    fixture.clock.advance(Duration::minutes(30));
    alert.resolve(identity("alice"), fixture.now());
    let batch = alert.take_events();
    store.alerts.save(&alert, &batch, None).await.unwrap();
    events.extend(batch);

    let messages = drain(store, fixture.now()).await;

    assert_rows_are_the_events(&messages, "alert", alert.id().as_uuid(), &events);
}

/// The race the dedup index exists for: a burst of monitors raise the same problem at once,
/// through the real `RaiseAlert`. Exactly one alert may open, every other raise must count a
/// repeat on it, and the outbox must hold one `alert.raised` followed by a repeat per loser,
/// counting up, no matter how the lookups and inserts interleave. Each round ends by
/// resolving the alert, so the next round races for the same, freed key.
pub async fn concurrent_raises_of_one_key_open_one_alert_and_count_every_raise(store: &Store) {
    const RAISERS: u32 = 16;
    const ROUNDS: usize = 5;
    const KEY: &str = "disk-full:db-1";
    let fixture = Fixture::default();
    let raise_alert = RaiseAlert::new(
        store.alerts.clone(),
        Arc::new(adapter_memory::EveryPlatform),
        fixture.clock.clone(),
        fixture.ids.clone(),
    );

    let mut alerts = Vec::new();
    for round in 0..ROUNDS {
        let start = Arc::new(Barrier::new(RAISERS as usize));
        let tasks: Vec<_> = (0..RAISERS)
            .map(|n| {
                let (raise_alert, start) = (raise_alert.clone(), start.clone());
                let input = RaiseAlertInput {
                    severity: "critical".into(),
                    summary: format!("db-1 disk full (monitor {n})"),
                    details: None,
                    destination: "C0123456789".into(),
                    dedup_key: KEY.into(),
                };
                tokio::spawn(async move {
                    start.wait().await;
                    raise_alert
                        .execute(identity(&format!("monitor-{n}")), input, None)
                        .await
                })
            })
            .collect();
        let results = join_all(tasks).await;

        let raised: Vec<_> = results
            .iter()
            .map(|result| match result {
                Ok((alert, raised)) => (alert.id(), *raised),
                Err(e) => panic!("round {round}: a raise failed: {e} ({})", summary(&results)),
            })
            .collect();
        let ids: BTreeSet<AlertId> = raised.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids.len(), 1, "round {round}: {}", summary(&results));
        let opened = raised.iter().filter(|(_, r)| *r == Raised::Opened).count();
        assert_eq!(opened, 1, "round {round}: {}", summary(&results));
        let mut counts: Vec<u32> = raised
            .iter()
            .filter_map(|(_, r)| match r {
                Raised::Repeated { count } => Some(*count),
                Raised::Opened => None,
            })
            .collect();
        counts.sort_unstable();
        assert_eq!(counts, (2..=RAISERS).collect::<Vec<_>>(), "round {round}");

        let mut stored = find_unresolved(store, KEY).await.unwrap();
        assert_eq!(Some(&stored.id()), ids.first(), "round {round}");
        assert_eq!(stored.state().count, RAISERS, "round {round}");
        assert_eq!(stored.version(), i64::from(RAISERS), "round {round}");
        stored.resolve(identity("alice"), fixture.now());
        save(store, &mut stored).await.unwrap();
        alerts.push(stored.id());
    }

    let messages = drain(store, fixture.now()).await;
    assert_eq!(messages.len(), ROUNDS * (RAISERS as usize + 1));
    let repeated = RAISERS as usize - 1;
    for id in alerts {
        let mut expected = vec!["alert.raised"];
        expected.extend(vec!["alert.repeated"; repeated]);
        expected.push("alert.resolved");
        assert_eq!(event_types_of(&messages, id.as_uuid()), expected);
        let counts: Vec<_> = messages
            .iter()
            .filter(|m| m.aggregate_id == id.as_uuid() && m.event_type == "alert.repeated")
            .map(|m| m.payload["count"].as_u64().unwrap())
            .collect();
        assert_eq!(counts, (2..=u64::from(RAISERS)).collect::<Vec<_>>());
    }
}

/// One word per outcome, for a failure message that fits on a screen.
fn summary(results: &[Result<(Alert, Raised), RaiseAlertError>]) -> String {
    results
        .iter()
        .map(|result| match result {
            Ok((_, Raised::Opened)) => "opened".to_owned(),
            Ok((_, Raised::Repeated { count })) => format!("repeat {count}"),
            Err(e) => format!("error: {e}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The receipt makes a raise and its answer one, as it does for every aggregate's save.
pub async fn a_save_with_a_receipt_answers_the_key_with_the_change(store: &Store) {
    let fixture = Fixture::default();
    let ci = identity("ci-pipeline");
    let (held, _) = request(store, &ci, "k-alert", "fp", fixture.now()).await;
    let mut alert = fixture.open_alert(new_alert("disk-full:db-1"));
    let events = alert.take_events();
    store
        .alerts
        .save(&alert, &events, Some(receipt(&held, "/v1/alerts/1")))
        .await
        .unwrap();
    assert_eq!(
        request(store, &ci, "k-alert", "fp", fixture.now()).await.1,
        Claim::Completed(answer(201, "/v1/alerts/1"))
    );
}
