//! The contract of `IdempotencyStore`: a key is acquired once, replays its response once
//! completed, and is reported in flight or mismatched otherwise — per client, until it
//! expires.

use std::sync::Arc;

use application::ports::{Claim, IdempotencyKey, StoredResponse};
use chrono::{DateTime, Duration, Utc};
use domain::Identity;
use tokio::sync::Barrier;

use super::Store;
use super::fixtures::{identity, start_time};

const LOCK: Duration = Duration::seconds(30);
const RETENTION: Duration = Duration::hours(24);

fn key(raw: &str) -> IdempotencyKey {
    IdempotencyKey::parse(raw).unwrap()
}

/// Claims `raw` for `client` at `now` with the usual lock and retention.
async fn claim(
    store: &Store,
    client: &Identity,
    raw: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Claim {
    store
        .idempotency
        .claim(
            client,
            &key(raw),
            fingerprint,
            now,
            now + LOCK,
            now + RETENTION,
        )
        .await
        .unwrap()
}

fn created() -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("location".into(), "/v1/approvals/0190a0".into()),
        ],
        // Not valid UTF-8 on purpose: bodies are bytes.
        body: vec![b'{', 0xff, 0x00, b'}'],
    }
}

pub async fn the_first_claim_of_a_key_acquires_it(store: &Store) {
    let ci = identity("ci-pipeline");
    assert_eq!(
        claim(store, &ci, "k-1", "POST /v1/approvals #1", start_time()).await,
        Claim::Acquired
    );
}

pub async fn a_completed_key_replays_its_response(store: &Store) {
    let (ci, now) = (identity("ci-pipeline"), start_time());
    claim(store, &ci, "k-1", "fp", now).await;
    store
        .idempotency
        .complete(&ci, &key("k-1"), &created())
        .await
        .unwrap();

    assert_eq!(
        claim(store, &ci, "k-1", "fp", now).await,
        Claim::Completed(created())
    );
    // Also long after the lock, until the record expires.
    let later = now + RETENTION - Duration::seconds(1);
    assert_eq!(
        claim(store, &ci, "k-1", "fp", later).await,
        Claim::Completed(created())
    );
}

pub async fn a_key_in_flight_is_reported_in_flight(store: &Store) {
    let (ci, now) = (identity("ci-pipeline"), start_time());
    claim(store, &ci, "k-1", "fp", now).await;
    assert_eq!(claim(store, &ci, "k-1", "fp", now).await, Claim::InFlight);
    let almost = now + LOCK - Duration::microseconds(1);
    assert_eq!(
        claim(store, &ci, "k-1", "fp", almost).await,
        Claim::InFlight
    );
}

pub async fn another_request_under_the_same_key_is_a_mismatch(store: &Store) {
    let (ci, now) = (identity("ci-pipeline"), start_time());
    claim(store, &ci, "k-1", "fp-one", now).await;
    assert_eq!(
        claim(store, &ci, "k-1", "fp-two", now).await,
        Claim::Mismatch
    );
    // A lock that ran out does not hand the key to a different request either.
    assert_eq!(
        claim(store, &ci, "k-1", "fp-two", now + LOCK).await,
        Claim::Mismatch
    );
    store
        .idempotency
        .complete(&ci, &key("k-1"), &created())
        .await
        .unwrap();
    assert_eq!(
        claim(store, &ci, "k-1", "fp-two", now).await,
        Claim::Mismatch
    );
}

pub async fn an_abandoned_key_is_taken_over_when_its_lock_runs_out(store: &Store) {
    let (ci, now) = (identity("ci-pipeline"), start_time());
    claim(store, &ci, "k-1", "fp", now).await;
    // The first holder died without completing or releasing the key.
    let after_lock = now + LOCK;
    assert_eq!(
        claim(store, &ci, "k-1", "fp", after_lock).await,
        Claim::Acquired
    );
    // The new holder has a fresh lock.
    assert_eq!(
        claim(store, &ci, "k-1", "fp", after_lock).await,
        Claim::InFlight
    );
}

pub async fn keys_are_scoped_to_their_client(store: &Store) {
    let now = start_time();
    let (ci, deploy) = (identity("ci-pipeline"), identity("deploy-bot"));
    assert_eq!(
        claim(store, &ci, "k-1", "fp-ci", now).await,
        Claim::Acquired
    );
    assert_eq!(
        claim(store, &deploy, "k-1", "fp-deploy", now).await,
        Claim::Acquired
    );
    store
        .idempotency
        .complete(&ci, &key("k-1"), &created())
        .await
        .unwrap();
    assert_eq!(
        claim(store, &deploy, "k-1", "fp-deploy", now).await,
        Claim::InFlight
    );
}

pub async fn a_released_key_can_be_claimed_again_but_a_completed_one_stays(store: &Store) {
    let (ci, now) = (identity("ci-pipeline"), start_time());
    claim(store, &ci, "k-1", "fp-one", now).await;
    store.idempotency.release(&ci, &key("k-1")).await.unwrap();
    // Released keys are forgotten entirely, so even another request may use it now.
    assert_eq!(
        claim(store, &ci, "k-1", "fp-two", now).await,
        Claim::Acquired
    );

    store
        .idempotency
        .complete(&ci, &key("k-1"), &created())
        .await
        .unwrap();
    store.idempotency.release(&ci, &key("k-1")).await.unwrap();
    assert_eq!(
        claim(store, &ci, "k-1", "fp-two", now).await,
        Claim::Completed(created())
    );
}

pub async fn an_expired_key_starts_afresh(store: &Store) {
    let (ci, now) = (identity("ci-pipeline"), start_time());
    claim(store, &ci, "k-1", "fp-one", now).await;
    store
        .idempotency
        .complete(&ci, &key("k-1"), &created())
        .await
        .unwrap();

    let expired = now + RETENTION;
    assert_eq!(
        claim(store, &ci, "k-1", "fp-two", expired).await,
        Claim::Acquired
    );
    assert_eq!(
        claim(store, &ci, "k-1", "fp-two", expired).await,
        Claim::InFlight
    );
}

pub async fn purge_removes_only_expired_records(store: &Store) {
    let ci = identity("ci-pipeline");
    let early = start_time();
    let late = early + Duration::hours(1);
    claim(store, &ci, "early-1", "fp", early).await;
    claim(store, &ci, "early-2", "fp", early).await;
    store
        .idempotency
        .complete(&ci, &key("early-2"), &created())
        .await
        .unwrap();
    claim(store, &ci, "late", "fp", late).await;

    let purged = store
        .idempotency
        .purge_expired(early + RETENTION)
        .await
        .unwrap();

    assert_eq!(purged, 2);
    // A purged key is new again; the other one is still remembered.
    let now = early + RETENTION;
    assert_eq!(
        claim(store, &ci, "early-2", "fp-new", now).await,
        Claim::Acquired
    );
    assert_eq!(
        claim(store, &ci, "late", "fp-new", now).await,
        Claim::Mismatch
    );
}

/// Many retries of one request arrive at once with a new key: exactly one may run.
pub async fn concurrent_claims_of_a_new_key_acquire_it_once(store: &Store) {
    const CLAIMS: usize = 16;
    let start = Arc::new(Barrier::new(CLAIMS));
    let now = start_time();
    let tasks: Vec<_> = (0..CLAIMS)
        .map(|_| {
            let (idempotency, start) = (store.idempotency.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let (client, key) = (identity("ci-pipeline"), key("k-race"));
                idempotency
                    .claim(&client, &key, "fp", now, now + LOCK, now + RETENTION)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut claims = Vec::new();
    for task in tasks {
        claims.push(task.await.unwrap());
    }
    let acquired = claims.iter().filter(|c| **c == Claim::Acquired).count();
    assert_eq!(acquired, 1, "{claims:?}");
    assert!(
        claims
            .iter()
            .all(|c| matches!(c, Claim::Acquired | Claim::InFlight)),
        "{claims:?}"
    );
}
