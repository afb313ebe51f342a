//! The contract of `ApprovalRepository`: storing the aggregate exactly, optimistic
//! concurrency, events written atomically with the state, keyset listing, the expiry and reminder queries.

use std::collections::BTreeSet;
use std::sync::Arc;

use application::ports::{ListQuery, RepositoryError};
use application::use_cases::{Decide, DecideError, DecideInput, Decided};
use chrono::Duration;
use domain::{
    ApprovalId, ApprovalRequest, CallbackUrl, ChatDestination, Comment, DecideOutcome,
    DecisionError, Description, Metadata, NewApproval, Policy, RemindAfter, Reminder,
    RequiredApprovals, Status, Title, Ttl, Verdict,
};
use serde_json::json;
use tokio::sync::Barrier;

use super::Store;
use super::fixtures::{
    Fixture, assert_only_rows_of, assert_rows_are_the_events, drain, event_types_of, identity,
    join_all, new_approval, save_changes, start_time,
};

/// A request with every optional field set, so a round trip proves each one is stored.
fn fully_specified() -> NewApproval {
    let requester = identity("ci-pipeline");
    let allowed: BTreeSet<_> = ["alice", "bob", "slack:U2CERLKJA"]
        .into_iter()
        .map(identity)
        .collect();
    NewApproval {
        title: Title::parse("Deploy model v7 to production").unwrap(),
        description: Description::parse("Accuracy +2.1%.\nRollback: `deploy v6`.").unwrap(),
        destination: ChatDestination::parse("C0123456789").unwrap(),
        metadata: Metadata::parse(json!({
            "model": "v7",
            "replicas": 3,
            "ratio": 0.25,
            "tags": ["ml", "prod"],
            "owner": { "team": "platform", "oncall": null },
        }))
        .unwrap(),
        callback_url: Some(CallbackUrl::parse("https://ci.example.com/hooks/42?x=1").unwrap()),
        // Self-approval on: the non-default value, so a store that ignored it would show.
        policy: Policy::new(
            RequiredApprovals::new(2).unwrap(),
            allowed,
            true,
            &requester,
        )
        .unwrap()
        .with_remind_after(Some(RemindAfter::from_seconds(30 * 60).unwrap())),
        requester,
        ttl: Ttl::from_seconds(2 * 60 * 60).unwrap(),
    }
}

/// One line per outcome, for a failure message that fits on a screen.
fn summary(results: &[Result<Decided, DecideError>]) -> String {
    results
        .iter()
        .map(|result| match result {
            Ok(decided) => format!("recorded, now {}", decided.approval.status()),
            Err(e) => format!("refused: {e}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

async fn get(store: &Store, id: ApprovalId) -> Option<ApprovalRequest> {
    store.approvals.get(id).await.unwrap()
}

async fn list(
    store: &Store,
    status: Option<Status>,
    after: Option<ApprovalId>,
    limit: u32,
) -> Vec<ApprovalId> {
    store
        .approvals
        .list(&ListQuery {
            status,
            after,
            limit,
        })
        .await
        .unwrap()
        .iter()
        .map(ApprovalRequest::id)
        .collect()
}

pub async fn round_trips_every_field(store: &Store) {
    let fixture = Fixture::default();
    let mut approval = fixture.create(store, fully_specified()).await;
    assert_eq!(get(store, approval.id()).await.as_ref(), Some(&approval));

    fixture.clock.advance(Duration::minutes(5));
    let comment = Comment::parse("Looks good.\nShip it.").unwrap();
    approval
        .decide(
            identity("alice"),
            Verdict::Approve,
            Some(comment),
            fixture.now(),
        )
        .unwrap();
    save_changes(store.approvals.as_ref(), &mut approval).await;
    assert_eq!(get(store, approval.id()).await.as_ref(), Some(&approval));

    // Past the expiry warning (90 minutes into two hours): the reminder state is stored too.
    fixture.clock.advance(Duration::minutes(90));
    assert_eq!(approval.remind(fixture.now()), Ok(Reminder::ExpiryWarning));
    save_changes(store.approvals.as_ref(), &mut approval).await;
    let stored = get(store, approval.id()).await.unwrap();
    assert_eq!(stored, approval);
    assert!(stored.expiry_warned());
    assert_eq!(stored.reminded_at(), Some(fixture.now()));
    assert_eq!(
        stored.policy().remind_after(),
        RemindAfter::from_seconds(30 * 60).ok()
    );

    fixture.clock.advance(Duration::minutes(5));
    fixture
        .decide(store, &mut approval, "slack:U2CERLKJA", Verdict::Approve)
        .await;
    let stored = get(store, approval.id()).await.unwrap();
    assert_eq!(stored, approval);
    // Spelled out, so a failure names the field rather than two long debug dumps.
    assert_eq!(stored.status(), Status::Approved);
    assert_eq!(stored.version(), 4);
    assert_eq!(stored.decisions().len(), 2);
    assert_eq!(stored.resolved_at(), Some(fixture.now()));
}

pub async fn get_returns_none_for_an_unknown_id(store: &Store) {
    let fixture = Fixture::default();
    fixture.create_pending(store).await;
    let unknown = fixture.open(new_approval(1)).id();
    assert_eq!(get(store, unknown).await, None);
}

pub async fn inserting_an_existing_id_is_a_duplicate(store: &Store) {
    let fixture = Fixture::default();
    let original = fixture.create_pending(store).await;
    let mut impostor = ApprovalRequest::open(original.id(), fully_specified(), fixture.now());
    let events = impostor.take_events();

    let result = store.approvals.save(&impostor, &events, None).await;

    assert_eq!(result, Err(RepositoryError::Duplicate));
    assert_eq!(get(store, original.id()).await, Some(original));
}

pub async fn saving_a_stale_version_is_a_conflict(store: &Store) {
    let fixture = Fixture::default();
    let stored = fixture.create(store, new_approval(2)).await;
    let mut first = stored.clone();
    let mut second = stored;
    fixture
        .decide(store, &mut first, "alice", Verdict::Approve)
        .await;

    second
        .decide(identity("bob"), Verdict::Approve, None, fixture.now())
        .unwrap();
    let events = second.take_events();
    let result = store.approvals.save(&second, &events, None).await;

    assert_eq!(result, Err(RepositoryError::Conflict));
    assert_eq!(get(store, first.id()).await, Some(first));
}

pub async fn updating_a_request_that_was_never_stored_is_a_conflict(store: &Store) {
    let fixture = Fixture::default();
    let mut approval = fixture.open(new_approval(1));
    approval.take_events();
    approval
        .decide(identity("alice"), Verdict::Approve, None, fixture.now())
        .unwrap();
    let events = approval.take_events();

    let result = store.approvals.save(&approval, &events, None).await;

    assert_eq!(result, Err(RepositoryError::Conflict));
    assert_eq!(get(store, approval.id()).await, None);
}

pub async fn a_failed_save_writes_no_outbox_rows(store: &Store) {
    let fixture = Fixture::default();
    let stored = fixture.create_pending(store).await;

    // A conflicting update that would have raised two events…
    let mut stale = stored.clone();
    let mut winner = stored.clone();
    fixture
        .decide(store, &mut winner, "alice", Verdict::Reject)
        .await;
    stale
        .decide(identity("bob"), Verdict::Approve, None, fixture.now())
        .unwrap();
    let events = stale.take_events();
    assert_eq!(events.len(), 2);
    assert_eq!(
        store.approvals.save(&stale, &events, None).await,
        Err(RepositoryError::Conflict)
    );
    // …and a duplicate insert that would have raised one.
    let mut duplicate = ApprovalRequest::open(stored.id(), new_approval(1), fixture.now());
    let events = duplicate.take_events();
    assert_eq!(
        store.approvals.save(&duplicate, &events, None).await,
        Err(RepositoryError::Duplicate)
    );

    assert_only_rows_of(
        store,
        fixture.now(),
        stored.id().as_uuid(),
        &[
            "approval.requested",
            "approval.decision_recorded",
            "approval.rejected",
        ],
    )
    .await;
}

pub async fn each_event_becomes_one_outbox_row_in_order(store: &Store) {
    let fixture = Fixture::default();
    let mut approval = fixture.open(new_approval(1));
    let mut events = approval.take_events();
    store
        .approvals
        .save(&approval, &events, None)
        .await
        .unwrap();
    fixture.clock.advance(Duration::seconds(90));
    approval
        .decide(identity("alice"), Verdict::Approve, None, fixture.now())
        .unwrap();
    let decision_events = approval.take_events();
    store
        .approvals
        .save(&approval, &decision_events, None)
        .await
        .unwrap();
    events.extend(decision_events);

    let messages = drain(store, fixture.now()).await;

    assert_rows_are_the_events(&messages, "approval", approval.id().as_uuid(), &events);
}

pub async fn list_returns_newest_first(store: &Store) {
    let fixture = Fixture::default();
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(fixture.create_pending(store).await.id());
    }
    created.reverse();
    assert_eq!(list(store, None, None, 10).await, created);
}

pub async fn list_filters_by_status(store: &Store) {
    let fixture = Fixture::default();
    let pending_old = fixture.create_pending(store).await.id();
    let mut approved = fixture.create_pending(store).await;
    fixture
        .decide(store, &mut approved, "alice", Verdict::Approve)
        .await;
    let pending_new = fixture.create_pending(store).await.id();
    let mut rejected = fixture.create_pending(store).await;
    fixture
        .decide(store, &mut rejected, "bob", Verdict::Reject)
        .await;

    assert_eq!(
        list(store, Some(Status::Pending), None, 10).await,
        [pending_new, pending_old]
    );
    assert_eq!(
        list(store, Some(Status::Approved), None, 10).await,
        [approved.id()]
    );
    assert_eq!(
        list(store, Some(Status::Rejected), None, 10).await,
        [rejected.id()]
    );
    assert_eq!(list(store, Some(Status::Cancelled), None, 10).await, []);
    // The filter and the cursor combine.
    assert_eq!(
        list(store, Some(Status::Pending), Some(pending_new), 10).await,
        [pending_old]
    );
}

pub async fn list_respects_the_limit(store: &Store) {
    let fixture = Fixture::default();
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(fixture.create_pending(store).await.id());
    }
    assert_eq!(list(store, None, None, 2).await, [created[4], created[3]]);
    assert_eq!(list(store, None, None, 0).await, []);
}

pub async fn list_pages_stay_stable_when_requests_are_added_between_pages(store: &Store) {
    let fixture = Fixture::default();
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(fixture.create_pending(store).await.id());
    }

    let first = list(store, None, None, 2).await;
    assert_eq!(first, [created[4], created[3]]);
    // Newer requests arrive while the client reads: they belong before page one, so they
    // must not shift the later pages.
    fixture.create_pending(store).await;
    fixture.create_pending(store).await;
    let second = list(store, None, first.last().copied(), 2).await;
    assert_eq!(second, [created[2], created[1]]);
    let third = list(store, None, second.last().copied(), 2).await;
    assert_eq!(third, [created[0]]);
    assert_eq!(list(store, None, third.last().copied(), 2).await, []);
}

pub async fn overdue_returns_pending_requests_past_their_expiry_oldest_first(store: &Store) {
    let fixture = Fixture::default();
    let with_ttl = |hours: i64| NewApproval {
        ttl: Ttl::from_seconds(hours * 60 * 60).unwrap(),
        ..new_approval(1)
    };
    let due_at_two = fixture.create(store, with_ttl(2)).await.id();
    let due_at_one = fixture.create(store, with_ttl(1)).await.id();
    let not_due = fixture.create(store, with_ttl(3)).await.id();
    let mut settled = fixture.create(store, with_ttl(1)).await;
    fixture
        .decide(store, &mut settled, "alice", Verdict::Approve)
        .await;
    // Same deadline as `due_at_one`: the id breaks the tie.
    let also_due_at_one = fixture.create(store, with_ttl(1)).await.id();

    let now = fixture.now() + Duration::hours(2);
    let overdue = store.approvals.overdue(now, 10).await.unwrap();
    assert_eq!(overdue, [due_at_one, also_due_at_one, due_at_two]);
    assert!(!overdue.contains(&not_due) && !overdue.contains(&settled.id()));
    assert_eq!(store.approvals.overdue(now, 1).await.unwrap(), [due_at_one]);
    let before_any = fixture.now() + Duration::minutes(59);
    assert_eq!(store.approvals.overdue(before_any, 10).await.unwrap(), []);
}

/// A request opened now that reminds every `every_minutes` and expires after `ttl_hours`.
fn reminding(every_minutes: i64, ttl_hours: i64) -> NewApproval {
    let base = new_approval(1);
    NewApproval {
        policy: base
            .policy
            .clone()
            .with_remind_after(Some(RemindAfter::from_seconds(every_minutes * 60).unwrap())),
        ttl: Ttl::from_seconds(ttl_hours * 60 * 60).unwrap(),
        ..base
    }
}

pub async fn reminders_due_returns_pending_requests_with_a_reminder_due_earliest_first(
    store: &Store,
) {
    let fixture = Fixture::default();
    let due_at_20 = fixture.create(store, reminding(20, 24)).await.id();
    let due_at_10 = fixture.create(store, reminding(10, 24)).await.id();
    let not_due = fixture.create(store, reminding(60, 24)).await.id();
    let never = fixture.create_pending(store).await.id();
    let mut settled = fixture.create(store, reminding(10, 24)).await;
    fixture
        .decide(store, &mut settled, "alice", Verdict::Approve)
        .await;
    // Reminded at 15 minutes: its next reminder is at 25, after `now`.
    let mut reminded = fixture.create(store, reminding(10, 24)).await;
    fixture.clock.advance(Duration::minutes(15));
    reminded.remind(fixture.now()).unwrap();
    let events = reminded.take_events();
    store
        .approvals
        .save(&reminded, &events, None)
        .await
        .unwrap();

    let now = fixture.now() + Duration::minutes(5);
    let due = store.approvals.reminders_due(now, 10).await.unwrap();
    assert_eq!(due, [due_at_10, due_at_20]);
    for id in [not_due, never, settled.id(), reminded.id()] {
        assert!(!due.contains(&id), "{id} is not due");
    }
    assert_eq!(
        store.approvals.reminders_due(now, 1).await.unwrap(),
        [due_at_10]
    );
    let before_any = start_time() + Duration::minutes(9);
    assert_eq!(
        store.approvals.reminders_due(before_any, 10).await.unwrap(),
        []
    );
}

pub async fn next_deadline_is_the_earliest_expiry_or_reminder_of_a_pending_request(store: &Store) {
    let fixture = Fixture::default();
    assert_eq!(store.approvals.next_deadline().await.unwrap(), None);
    let with_ttl = |hours: i64| NewApproval {
        ttl: Ttl::from_seconds(hours * 60 * 60).unwrap(),
        ..new_approval(1)
    };
    fixture.create(store, with_ttl(3)).await;
    assert_eq!(
        store.approvals.next_deadline().await.unwrap(),
        Some(start_time() + Duration::hours(3))
    );
    // A reminder comes before any expiry.
    fixture.create(store, reminding(45, 24)).await;
    assert_eq!(
        store.approvals.next_deadline().await.unwrap(),
        Some(start_time() + Duration::minutes(45))
    );
    // A settled request's deadlines no longer count.
    let mut settled = fixture.create(store, with_ttl(1)).await;
    assert_eq!(
        store.approvals.next_deadline().await.unwrap(),
        Some(start_time() + Duration::minutes(45))
    );
    fixture
        .decide(store, &mut settled, "alice", Verdict::Approve)
        .await;
    let mut soon = fixture.create(store, reminding(10, 24)).await;
    assert_eq!(
        store.approvals.next_deadline().await.unwrap(),
        Some(start_time() + Duration::minutes(10))
    );
    fixture
        .decide(store, &mut soon, "alice", Verdict::Reject)
        .await;
    assert_eq!(
        store.approvals.next_deadline().await.unwrap(),
        Some(start_time() + Duration::minutes(45))
    );
}

/// The race the optimistic concurrency exists for: many approvers click at once on a request
/// that needs one approval. Exactly one decision may be recorded, and exactly one `Approved`
/// event may reach the outbox, no matter how the saves interleave.
pub async fn concurrent_decisions_record_exactly_one(store: &Store) {
    const APPROVERS: usize = 16;
    const ROUNDS: usize = 10;
    let fixture = Fixture::default();
    let decide = Decide::new(store.approvals.clone(), fixture.clock.clone());

    let mut requests = Vec::new();
    for round in 0..ROUNDS {
        let approval = fixture.create_pending(store).await;
        let start = Arc::new(Barrier::new(APPROVERS));
        let tasks: Vec<_> = (0..APPROVERS)
            .map(|n| {
                let (decide, start) = (decide.clone(), start.clone());
                let input = DecideInput {
                    approval_id: approval.id(),
                    approver: identity(&format!("approver-{n}")),
                    verdict: Verdict::Approve,
                    comment: None,
                };
                tokio::spawn(async move {
                    start.wait().await;
                    decide.execute(input, None).await
                })
            })
            .collect();
        let results = join_all(tasks).await;

        let winners: Vec<_> = results
            .iter()
            .filter_map(|result| match result {
                Ok(Decided {
                    outcome:
                        DecideOutcome::Recorded {
                            status: Status::Approved,
                        },
                    approval,
                }) => Some(approval.decisions()[0].approver.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {}", summary(&results));
        for result in &results {
            match result {
                Ok(_) => {}
                Err(DecideError::Refused(DecisionError::NotPending { status, decided_by })) => {
                    assert_eq!(*status, Status::Approved, "round {round}");
                    assert_eq!(decided_by, &winners, "round {round}");
                }
                Err(other) => panic!("round {round}: unexpected {other:?}"),
            }
        }
        let stored = get(store, approval.id()).await.unwrap();
        assert_eq!(stored.status(), Status::Approved);
        assert_eq!(stored.version(), 2);
        assert_eq!(stored.decisions().len(), 1);
        assert_eq!(stored.decisions()[0].approver, winners[0]);
        requests.push(approval.id());
    }

    let messages = drain(store, fixture.now()).await;
    for id in requests {
        assert_eq!(
            event_types_of(&messages, id.as_uuid()),
            [
                "approval.requested",
                "approval.decision_recorded",
                "approval.approved"
            ]
        );
    }
}
