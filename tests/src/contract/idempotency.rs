//! The contract of `IdempotencyStore`, and of the receipts the repositories' `save` stores
//! with a change: a key is acquired once, replays its answer once it has one, and is
//! reported in flight or mismatched otherwise — per client, until it expires. Only the claim
//! that holds a key writes to it, so a request whose key was taken over cannot change
//! anything.

use std::sync::Arc;

use application::ports::{
    ApprovalRepository, Claim, IdempotencyKey, IdempotencyStore, KeyClaim, ListQuery, Receipt,
    RepositoryError, StoredResponse,
};
use chrono::{DateTime, Duration, Utc};
use domain::Identity;
use tokio::sync::Barrier;
use uuid::Uuid;

use super::Store;
use super::fixtures::{Fixture, drain, event_types_of, identity, new_approval, start_time};

const LOCK: Duration = Duration::seconds(30);
const RETENTION: Duration = Duration::hours(24);

/// A claim on `raw` by `client` with a fresh token, as a new request makes it.
fn claim_of(client: &Identity, raw: &str) -> KeyClaim {
    KeyClaim {
        scope: client.clone(),
        key: IdempotencyKey::parse(raw).unwrap(),
        token: Uuid::now_v7(),
    }
}

/// Claims `claim`'s key at `now` with the usual lock and retention.
async fn claim(store: &Store, claim: &KeyClaim, fingerprint: &str, now: DateTime<Utc>) -> Claim {
    claim_in(&*store.idempotency, claim, fingerprint, now).await
}

/// [`claim`], on the port alone, for tasks that outlive the borrowed `Store`.
async fn claim_in(
    idempotency: &dyn IdempotencyStore,
    claim: &KeyClaim,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Claim {
    idempotency
        .claim(claim, fingerprint, now, now + LOCK, now + RETENTION)
        .await
        .unwrap()
}

/// A new request by `client` for `raw`: claims it under a fresh token at `now`.
pub(super) async fn request(
    store: &Store,
    client: &Identity,
    raw: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> (KeyClaim, Claim) {
    let new = claim_of(client, raw);
    let claimed = claim(store, &new, fingerprint, now).await;
    (new, claimed)
}

fn created() -> StoredResponse {
    answer(201, "/v1/approvals/0190a0")
}

/// A response whose bytes say where it came from. Not valid UTF-8 on purpose: bodies are
/// bytes.
pub(super) fn answer(status: u16, location: &str) -> StoredResponse {
    StoredResponse {
        status,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("location".into(), location.into()),
        ],
        body: [b"{".as_slice(), location.as_bytes(), &[0xff, 0x00], b"}"].concat(),
    }
}

async fn complete(store: &Store, claim: &KeyClaim, response: &StoredResponse) {
    store.idempotency.complete(claim, response).await.unwrap();
}

pub async fn the_first_claim_of_a_key_acquires_it(store: &Store) {
    let ci = identity("ci-pipeline");
    let (_, claimed) = request(store, &ci, "k-1", "POST /v1/approvals #1", start_time()).await;
    assert_eq!(claimed, Claim::Acquired);
}

pub async fn a_completed_key_replays_its_response(store: &Store) {
    let (ci, now) = (identity("ci-pipeline"), start_time());
    let (first, _) = request(store, &ci, "k-1", "fp", now).await;
    complete(store, &first, &created()).await;

    let (_, retry) = request(store, &ci, "k-1", "fp", now).await;
    assert_eq!(retry, Claim::Completed(created()));
    // Also long after the lock, until the record expires.
    let later = now + RETENTION - Duration::seconds(1);
    let (_, late_retry) = request(store, &ci, "k-1", "fp", later).await;
    assert_eq!(late_retry, Claim::Completed(created()));
}

pub async fn a_key_in_flight_is_reported_in_flight(store: &Store) {
    let (ci, now) = (identity("ci-pipeline"), start_time());
    request(store, &ci, "k-1", "fp", now).await;
    assert_eq!(
        request(store, &ci, "k-1", "fp", now).await.1,
        Claim::InFlight {
            locked_until: now + LOCK
        }
    );
    let almost = now + LOCK - Duration::microseconds(1);
    assert_eq!(
        request(store, &ci, "k-1", "fp", almost).await.1,
        Claim::InFlight {
            locked_until: now + LOCK
        }
    );
}

pub async fn another_request_under_the_same_key_is_a_mismatch(store: &Store) {
    let (ci, now) = (identity("ci-pipeline"), start_time());
    let (first, _) = request(store, &ci, "k-1", "fp-one", now).await;
    assert_eq!(
        request(store, &ci, "k-1", "fp-two", now).await.1,
        Claim::Mismatch
    );
    // A lock that ran out does not hand the key to a different request either.
    assert_eq!(
        request(store, &ci, "k-1", "fp-two", now + LOCK).await.1,
        Claim::Mismatch
    );
    complete(store, &first, &created()).await;
    assert_eq!(
        request(store, &ci, "k-1", "fp-two", now).await.1,
        Claim::Mismatch
    );
}

pub async fn an_abandoned_key_is_taken_over_when_its_lock_runs_out(store: &Store) {
    let (ci, now) = (identity("ci-pipeline"), start_time());
    request(store, &ci, "k-1", "fp", now).await;
    // The first holder died without completing or releasing the key.
    let after_lock = now + LOCK;
    assert_eq!(
        request(store, &ci, "k-1", "fp", after_lock).await.1,
        Claim::Acquired
    );
    // The new holder has a fresh lock.
    assert_eq!(
        request(store, &ci, "k-1", "fp", after_lock).await.1,
        Claim::InFlight {
            locked_until: after_lock + LOCK
        }
    );
}

pub async fn keys_are_scoped_to_their_client(store: &Store) {
    let now = start_time();
    let (ci, deploy) = (identity("ci-pipeline"), identity("deploy-bot"));
    let (by_ci, claimed) = request(store, &ci, "k-1", "fp-ci", now).await;
    assert_eq!(claimed, Claim::Acquired);
    assert_eq!(
        request(store, &deploy, "k-1", "fp-deploy", now).await.1,
        Claim::Acquired
    );
    complete(store, &by_ci, &created()).await;
    assert_eq!(
        request(store, &deploy, "k-1", "fp-deploy", now).await.1,
        Claim::InFlight {
            locked_until: now + LOCK
        }
    );
}

pub async fn a_released_key_can_be_claimed_again_but_a_completed_one_stays(store: &Store) {
    let (ci, now) = (identity("ci-pipeline"), start_time());
    let (first, _) = request(store, &ci, "k-1", "fp-one", now).await;
    store.idempotency.release(&first).await.unwrap();
    // Released keys are forgotten entirely, so even another request may use it now.
    let (second, claimed) = request(store, &ci, "k-1", "fp-two", now).await;
    assert_eq!(claimed, Claim::Acquired);

    complete(store, &second, &created()).await;
    store.idempotency.release(&second).await.unwrap();
    assert_eq!(
        request(store, &ci, "k-1", "fp-two", now).await.1,
        Claim::Completed(created())
    );
}

pub async fn an_expired_key_starts_afresh(store: &Store) {
    let (ci, now) = (identity("ci-pipeline"), start_time());
    let (first, _) = request(store, &ci, "k-1", "fp-one", now).await;
    complete(store, &first, &created()).await;

    let expired = now + RETENTION;
    assert_eq!(
        request(store, &ci, "k-1", "fp-two", expired).await.1,
        Claim::Acquired
    );
    assert_eq!(
        request(store, &ci, "k-1", "fp-two", expired).await.1,
        Claim::InFlight {
            locked_until: expired + LOCK
        }
    );
}

pub async fn purge_removes_only_expired_records(store: &Store) {
    let ci = identity("ci-pipeline");
    let early = start_time();
    let late = early + Duration::hours(1);
    request(store, &ci, "early-1", "fp", early).await;
    let (early_2, _) = request(store, &ci, "early-2", "fp", early).await;
    complete(store, &early_2, &created()).await;
    request(store, &ci, "late", "fp", late).await;

    let purged = store
        .idempotency
        .purge_expired(early + RETENTION)
        .await
        .unwrap();

    assert_eq!(purged, 2);
    // A purged key is new again; the other one is still remembered.
    let now = early + RETENTION;
    assert_eq!(
        request(store, &ci, "early-2", "fp-new", now).await.1,
        Claim::Acquired
    );
    assert_eq!(
        request(store, &ci, "late", "fp-new", now).await.1,
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
            let claim = claim_of(&identity("ci-pipeline"), "k-race");
            tokio::spawn(async move {
                start.wait().await;
                idempotency
                    .claim(&claim, "fp", now, now + LOCK, now + RETENTION)
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
            .all(|c| matches!(c, Claim::Acquired | Claim::InFlight { .. })),
        "{claims:?}"
    );
}

pub async fn a_taken_over_claim_can_neither_complete_nor_release_the_key(store: &Store) {
    let (ci, now) = (identity("ci-pipeline"), start_time());
    let (stalled, _) = request(store, &ci, "k-1", "fp", now).await;
    let (retry, claimed) = request(store, &ci, "k-1", "fp", now + LOCK).await;
    assert_eq!(claimed, Claim::Acquired);

    complete(store, &stalled, &answer(201, "/stalled")).await;
    store.idempotency.release(&stalled).await.unwrap();

    // The retry still holds the key, unanswered, and its answer is the one that counts.
    let during = now + LOCK + Duration::seconds(1);
    assert_eq!(
        request(store, &ci, "k-1", "fp", during).await.1,
        Claim::InFlight {
            locked_until: now + LOCK + LOCK
        }
    );
    complete(store, &retry, &answer(201, "/retry")).await;
    assert_eq!(
        request(store, &ci, "k-1", "fp", during).await.1,
        Claim::Completed(answer(201, "/retry"))
    );
}

pub async fn a_key_keeps_its_first_answer(store: &Store) {
    let (ci, now) = (identity("ci-pipeline"), start_time());
    let (first, _) = request(store, &ci, "k-1", "fp", now).await;
    complete(store, &first, &answer(201, "/first")).await;
    complete(store, &first, &answer(201, "/second")).await;
    assert_eq!(
        request(store, &ci, "k-1", "fp", now).await.1,
        Claim::Completed(answer(201, "/first"))
    );
}

/// The receipt is what makes a change and its answer one: after the save, the key replays
/// the answer — without `complete` ever being called.
pub async fn a_save_with_a_receipt_answers_the_key_with_the_change(store: &Store) {
    let fixture = Fixture::default();
    let ci = identity("ci-pipeline");
    let (held, _) = request(store, &ci, "k-approval", "fp", fixture.now()).await;
    let mut approval = fixture.open(new_approval(1));
    let events = approval.take_events();

    store
        .approvals
        .save(&approval, &events, Some(receipt(&held, "/v1/approvals/1")))
        .await
        .unwrap();

    assert_eq!(
        request(store, &ci, "k-approval", "fp", fixture.now())
            .await
            .1,
        Claim::Completed(answer(201, "/v1/approvals/1"))
    );
    assert!(store.approvals.get(approval.id()).await.unwrap().is_some());
}

pub async fn a_failed_save_leaves_its_key_unanswered(store: &Store) {
    let fixture = Fixture::default();
    let ci = identity("ci-pipeline");
    let existing = fixture.create_pending(store).await;
    let (held, _) = request(store, &ci, "k-1", "fp", fixture.now()).await;

    // A second insert of the same id is a `Duplicate`, and the answer goes with it.
    let result = store
        .approvals
        .save(&existing, &[], Some(receipt(&held, "/v1/approvals/dup")))
        .await;

    assert_eq!(result, Err(RepositoryError::Duplicate));
    assert_eq!(
        request(store, &ci, "k-1", "fp", fixture.now()).await.1,
        Claim::InFlight {
            locked_until: fixture.now() + LOCK
        }
    );
}

/// A request stalls past its lock and a retry takes its key over. When the stalled request
/// wakes up and saves, its whole save is refused: neither its change, nor its events, nor
/// its answer is written, and the retry's change is the one that happens.
pub async fn a_save_by_a_taken_over_claim_writes_nothing(store: &Store) {
    let fixture = Fixture::default();
    let ci = identity("ci-pipeline");
    let (stalled, _) = request(store, &ci, "k-1", "fp", fixture.now()).await;
    let (retry, claimed) = request(store, &ci, "k-1", "fp", fixture.now() + LOCK).await;
    assert_eq!(claimed, Claim::Acquired);
    let mut late = fixture.open(new_approval(1));
    let late_events = late.take_events();

    let result = store
        .approvals
        .save(
            &late,
            &late_events,
            Some(receipt(&stalled, "/v1/approvals/late")),
        )
        .await;

    assert_eq!(result, Err(RepositoryError::ClaimLost));
    assert_eq!(store.approvals.get(late.id()).await.unwrap(), None);
    assert_eq!(
        event_types_of(&drain(store, fixture.now()).await, late.id().as_uuid()),
        Vec::<&str>::new()
    );

    let mut current = fixture.open(new_approval(1));
    let events = current.take_events();
    store
        .approvals
        .save(
            &current,
            &events,
            Some(receipt(&retry, "/v1/approvals/retry")),
        )
        .await
        .unwrap();
    assert_eq!(
        request(store, &ci, "k-1", "fp", fixture.now() + LOCK)
            .await
            .1,
        Claim::Completed(answer(201, "/v1/approvals/retry"))
    );
}

pub async fn a_key_answered_by_a_save_cannot_be_answered_again(store: &Store) {
    let fixture = Fixture::default();
    let ci = identity("ci-pipeline");
    let (held, _) = request(store, &ci, "k-1", "fp", fixture.now()).await;
    let mut first = fixture.open(new_approval(1));
    let events = first.take_events();
    store
        .approvals
        .save(&first, &events, Some(receipt(&held, "/v1/approvals/first")))
        .await
        .unwrap();

    // The same claim again, by a save and by `complete`: neither replaces the answer, and
    // the second change is refused outright.
    let mut second = fixture.open(new_approval(1));
    let events = second.take_events();
    let result = store
        .approvals
        .save(
            &second,
            &events,
            Some(receipt(&held, "/v1/approvals/second")),
        )
        .await;
    complete(store, &held, &answer(200, "/v1/approvals/third")).await;

    assert_eq!(result, Err(RepositoryError::ClaimLost));
    assert_eq!(store.approvals.get(second.id()).await.unwrap(), None);
    assert_eq!(
        request(store, &ci, "k-1", "fp", fixture.now()).await.1,
        Claim::Completed(answer(201, "/v1/approvals/first"))
    );
}

/// Identical requests arrive at once, each running the whole flow a request runs: claim the
/// key and, if acquired, create the approval and save it with its answer. Exactly one
/// approval may come of it, and every later retry replays its answer.
pub async fn concurrent_identical_requests_execute_once(store: &Store) {
    const REQUESTS: usize = 16;
    let fixture = Arc::new(Fixture::default());
    let start = Arc::new(Barrier::new(REQUESTS));
    let tasks: Vec<_> = (0..REQUESTS)
        .map(|n| {
            let (idempotency, approvals) = (store.idempotency.clone(), store.approvals.clone());
            let (fixture, start) = (fixture.clone(), start.clone());
            tokio::spawn(async move {
                let held = claim_of(&identity("ci-pipeline"), "k-race");
                start.wait().await;
                match claim_in(&*idempotency, &held, "fp", fixture.now()).await {
                    Claim::Acquired => {
                        let location = format!("/v1/approvals/{n}");
                        create_with_receipt(&*approvals, &fixture, &held, &location)
                            .await
                            .unwrap();
                        Some(location)
                    }
                    Claim::InFlight { .. } | Claim::Completed(_) => None,
                    Claim::Mismatch => panic!("the same request is never a mismatch"),
                }
            })
        })
        .collect();
    let mut executed = Vec::new();
    for task in tasks {
        executed.extend(task.await.unwrap());
    }

    assert_eq!(executed.len(), 1, "{executed:?}");
    let everything = ListQuery {
        status: None,
        after: None,
        limit: 100,
    };
    assert_eq!(store.approvals.list(&everything).await.unwrap().len(), 1);
    let (_, retry) = request(
        store,
        &identity("ci-pipeline"),
        "k-race",
        "fp",
        fixture.now(),
    )
    .await;
    assert_eq!(retry, Claim::Completed(answer(201, &executed[0])));
}

/// The race the fencing token exists for: a stalled request saves at the very moment its
/// retry takes the key over. Whatever the interleaving, exactly one of them runs.
pub async fn a_stalled_save_racing_its_takeover_lets_exactly_one_run(store: &Store) {
    const ROUNDS: usize = 20;
    let fixture = Arc::new(Fixture::default());
    let ci = identity("ci-pipeline");
    for round in 0..ROUNDS {
        let key = format!("k-{round}");
        let (stalled, _) = request(store, &ci, &key, "fp", fixture.now()).await;
        let retry = claim_of(&ci, &key);
        let start = Arc::new(Barrier::new(2));

        let save = tokio::spawn({
            let (approvals, fixture, start) =
                (store.approvals.clone(), fixture.clone(), start.clone());
            async move {
                start.wait().await;
                create_with_receipt(&*approvals, &fixture, &stalled, "/stalled").await
            }
        });
        let takeover = tokio::spawn({
            let (idempotency, fixture, start) =
                (store.idempotency.clone(), fixture.clone(), start.clone());
            let retry = retry.clone();
            async move {
                start.wait().await;
                claim_in(&*idempotency, &retry, "fp", fixture.now() + LOCK).await
            }
        });
        let saved = save.await.unwrap();
        let took_over = takeover.await.unwrap();

        let everything = ListQuery {
            status: None,
            after: None,
            limit: 100,
        };
        let stored = store.approvals.list(&everything).await.unwrap().len();
        match (&saved, &took_over) {
            // The save committed first: the retry replays its answer.
            (Ok(()), Claim::Completed(response)) => {
                assert_eq!(response, &answer(201, "/stalled"), "round {round}");
                assert_eq!(stored, round + 1, "round {round}");
            }
            // The takeover committed first: the stalled save wrote nothing.
            (Err(RepositoryError::ClaimLost), Claim::Acquired) => {
                assert_eq!(stored, round, "round {round}");
            }
            other => panic!("round {round}: both or neither ran: {other:?}"),
        }
        // Settle the round, so the next one starts from a known count.
        if took_over == Claim::Acquired {
            create_with_receipt(&*store.approvals, &fixture, &retry, "/retry")
                .await
                .unwrap();
        }
    }
}

/// Opens a request and saves it with a receipt for `claim` naming `location`, as a create
/// holding that claim does.
async fn create_with_receipt(
    approvals: &dyn ApprovalRepository,
    fixture: &Fixture,
    claim: &KeyClaim,
    location: &str,
) -> Result<(), RepositoryError> {
    let mut approval = fixture.open(new_approval(1));
    let events = approval.take_events();
    approvals
        .save(&approval, &events, Some(receipt(claim, location)))
        .await
}

/// A receipt for `claim` whose response names `location`.
pub(super) fn receipt(claim: &KeyClaim, location: &str) -> Receipt {
    Receipt {
        claim: claim.clone(),
        response: answer(201, location),
    }
}
