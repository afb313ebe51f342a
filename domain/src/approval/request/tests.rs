use std::collections::BTreeSet;

use chrono::{Duration, TimeZone};
use proptest::prelude::*;

use super::*;
use crate::RequiredApprovals;

fn id(s: &str) -> Identity {
    Identity::parse(s).unwrap()
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
}

fn request_with(required: i64, allowed: &[&str], self_approval: bool) -> ApprovalRequest {
    let requester = id("ci");
    let policy = Policy::new(
        RequiredApprovals::new(required).unwrap(),
        allowed.iter().map(|a| id(a)).collect::<BTreeSet<_>>(),
        self_approval,
        &requester,
    )
    .unwrap();
    let mut request = ApprovalRequest::open(
        ApprovalId::from_uuid(uuid::Uuid::nil()),
        NewApproval {
            title: Title::parse("Deploy model v7 to prod?").unwrap(),
            description: Description::default(),
            requester,
            destination: ChatDestination::parse("C0123456789").unwrap(),
            metadata: Metadata::default(),
            callback_url: None,
            policy,
            ttl: Ttl::default(),
        },
        t0(),
    );
    request.take_events();
    request
}

fn pending() -> ApprovalRequest {
    request_with(1, &[], false)
}

#[test]
fn opening_raises_requested_and_takes_version_one() {
    let mut request = ApprovalRequest::open(
        ApprovalId::from_uuid(uuid::Uuid::nil()),
        NewApproval {
            title: Title::parse("t").unwrap(),
            description: Description::default(),
            requester: id("ci"),
            destination: ChatDestination::parse("C1").unwrap(),
            metadata: Metadata::default(),
            callback_url: None,
            policy: Policy::new(
                RequiredApprovals::default(),
                BTreeSet::new(),
                false,
                &id("ci"),
            )
            .unwrap(),
            ttl: Ttl::default(),
        },
        t0(),
    );
    assert_eq!(request.status(), Status::Pending);
    assert_eq!(request.expires_at(), t0() + Duration::hours(24));
    assert_eq!(request.version(), 0);
    let events = request.take_events();
    assert!(matches!(
        events.as_slice(),
        [ApprovalEvent::Requested { .. }]
    ));
    assert_eq!(request.version(), 1);
    assert!(request.take_events().is_empty());
    assert_eq!(request.version(), 1, "an empty take is not a change");
}

#[test]
fn one_approval_approves_by_default() {
    let mut request = pending();
    let outcome = request.decide(id("alice"), Verdict::Approve, None, t0());
    assert_eq!(
        outcome,
        Ok(DecideOutcome::Recorded {
            status: Status::Approved
        })
    );
    assert_eq!(request.resolved_at(), Some(t0()));
    let events = request.take_events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].event_type(), "approval.decision_recorded");
    assert_eq!(events[1].event_type(), "approval.approved");
}

#[test]
fn requester_cannot_approve_own_request() {
    let mut request = pending();
    assert_eq!(
        request.decide(id("ci"), Verdict::Approve, None, t0()),
        Err(DecisionError::SelfApproval)
    );
    assert!(request.take_events().is_empty());
}

#[test]
fn self_approval_is_allowed_when_the_policy_says_so() {
    let mut request = request_with(1, &[], true);
    assert!(
        request
            .decide(id("ci"), Verdict::Approve, None, t0())
            .is_ok()
    );
    assert_eq!(request.status(), Status::Approved);
}

#[test]
fn approver_outside_the_allow_list_is_refused() {
    let mut request = request_with(1, &["alice"], false);
    assert_eq!(
        request.decide(id("mallory"), Verdict::Approve, None, t0()),
        Err(DecisionError::NotAllowed {
            approver: id("mallory")
        })
    );
    assert!(
        request
            .decide(id("alice"), Verdict::Approve, None, t0())
            .is_ok()
    );
}

#[test]
fn n_distinct_approvals_are_needed() {
    let mut request = request_with(2, &[], false);
    assert_eq!(
        request.decide(id("alice"), Verdict::Approve, None, t0()),
        Ok(DecideOutcome::Recorded {
            status: Status::Pending
        })
    );
    assert_eq!(
        request.decide(id("bob"), Verdict::Approve, None, t0()),
        Ok(DecideOutcome::Recorded {
            status: Status::Approved
        })
    );
}

#[test]
fn one_reject_rejects_at_once() {
    let mut request = request_with(3, &[], false);
    request
        .decide(id("alice"), Verdict::Approve, None, t0())
        .unwrap();
    let comment = Comment::parse("not on a Friday").ok();
    assert_eq!(
        request.decide(id("bob"), Verdict::Reject, comment, t0()),
        Ok(DecideOutcome::Recorded {
            status: Status::Rejected
        })
    );
    let events = request.take_events();
    assert!(matches!(events.last(), Some(ApprovalEvent::Rejected { by, .. }) if *by == id("bob")));
}

#[test]
fn repeating_the_same_verdict_is_a_no_op() {
    let mut request = request_with(2, &[], false);
    request
        .decide(id("alice"), Verdict::Approve, None, t0())
        .unwrap();
    request.take_events();
    assert_eq!(
        request.decide(id("alice"), Verdict::Approve, None, t0()),
        Ok(DecideOutcome::Unchanged)
    );
    assert!(request.take_events().is_empty());
    assert_eq!(request.decisions().len(), 1);
}

#[test]
fn repeating_the_same_verdict_after_settling_is_still_a_no_op() {
    let mut request = pending();
    request
        .decide(id("alice"), Verdict::Approve, None, t0())
        .unwrap();
    assert_eq!(
        request.decide(id("alice"), Verdict::Approve, None, t0()),
        Ok(DecideOutcome::Unchanged)
    );
}

#[test]
fn changing_a_verdict_is_refused() {
    let mut request = request_with(2, &[], false);
    request
        .decide(id("alice"), Verdict::Approve, None, t0())
        .unwrap();
    assert_eq!(
        request.decide(id("alice"), Verdict::Reject, None, t0()),
        Err(DecisionError::ConflictingVerdict {
            approver: id("alice"),
            previous: Verdict::Approve
        })
    );
}

#[test]
fn a_settled_request_names_who_decided_it() {
    let mut request = pending();
    request
        .decide(id("alice"), Verdict::Approve, None, t0())
        .unwrap();
    assert_eq!(
        request.decide(id("bob"), Verdict::Approve, None, t0()),
        Err(DecisionError::NotPending {
            status: Status::Approved,
            decided_by: vec![id("alice")]
        })
    );
}

#[test]
fn decisions_on_a_cancelled_request_are_refused() {
    let mut request = pending();
    request.cancel(&id("ci"), t0()).unwrap();
    assert!(matches!(
        request.decide(id("alice"), Verdict::Approve, None, t0()),
        Err(DecisionError::NotPending {
            status: Status::Cancelled,
            ..
        })
    ));
}

#[test]
fn decisions_after_expiry_time_are_refused_before_the_sweeper_runs() {
    let mut request = pending();
    let late = request.expires_at();
    assert_eq!(
        request.decide(id("alice"), Verdict::Approve, None, late),
        Err(DecisionError::Expired { expired_at: late })
    );
    assert_eq!(request.status(), Status::Pending);
}

#[test]
fn only_the_requester_may_cancel() {
    let mut request = pending();
    assert_eq!(
        request.cancel(&id("alice"), t0()),
        Err(CancelError::NotRequester)
    );
    assert_eq!(request.cancel(&id("ci"), t0()), Ok(()));
    assert_eq!(request.status(), Status::Cancelled);
    assert_eq!(
        request.cancel(&id("ci"), t0()),
        Err(CancelError::NotPending {
            status: Status::Cancelled
        })
    );
}

#[test]
fn expiry_needs_an_overdue_pending_request() {
    let mut request = pending();
    let due = request.expires_at();
    assert_eq!(
        request.expire(t0()),
        Err(ExpireError::NotDue { expires_at: due })
    );
    assert_eq!(request.expire(due), Ok(()));
    assert_eq!(request.status(), Status::Expired);
    assert_eq!(
        request.expire(due),
        Err(ExpireError::NotPending {
            status: Status::Expired
        })
    );
}

#[test]
fn status_round_trips_through_text() {
    for status in Status::ALL {
        assert_eq!(status.as_str().parse::<Status>(), Ok(status));
    }
    assert!("done".parse::<Status>().is_err());
}

#[test]
fn events_serialize_with_a_type_tag() {
    let event = ApprovalEvent::Approved {
        approval_id: ApprovalId::from_uuid(uuid::Uuid::nil()),
        at: t0(),
    };
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(json["type"], "approved");
    assert_eq!(
        serde_json::from_value::<ApprovalEvent>(json).unwrap(),
        event
    );
}

#[derive(Debug, Clone)]
enum Command {
    Decide {
        approver: usize,
        verdict: Verdict,
        minutes: i64,
    },
    Cancel {
        by_requester: bool,
    },
    Expire {
        minutes: i64,
    },
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (
            0usize..5,
            prop_oneof![Just(Verdict::Approve), Just(Verdict::Reject)],
            0i64..2000
        )
            .prop_map(|(approver, verdict, minutes)| Command::Decide {
                approver,
                verdict,
                minutes
            }),
        any::<bool>().prop_map(|by_requester| Command::Cancel { by_requester }),
        (0i64..2000).prop_map(|minutes| Command::Expire { minutes }),
    ]
}

proptest! {
    /// Whatever sequence of commands arrives, the state machine keeps its invariants.
    #[test]
    fn state_machine_invariants_hold(required in 1i64..4, commands in prop::collection::vec(command(), 0..30)) {
        let approvers = ["ci", "alice", "bob", "carol", "dave"];
        let mut request = request_with(required, &[], false);
        let mut settled_as: Option<Status> = None;
        let mut version = request.version();
        for command in commands {
            let before = request.status();
            match command {
                Command::Decide { approver, verdict, minutes } => {
                    let _ = request.decide(id(approvers[approver]), verdict, None, t0() + Duration::minutes(minutes));
                }
                Command::Cancel { by_requester } => {
                    let by = if by_requester { "ci" } else { "alice" };
                    let _ = request.cancel(&id(by), t0());
                }
                Command::Expire { minutes } => {
                    let _ = request.expire(t0() + Duration::minutes(minutes));
                }
            }
            // Only Pending moves; a final status never changes again.
            if let Some(status) = settled_as {
                prop_assert_eq!(request.status(), status);
            }
            if before == Status::Pending && request.status() != Status::Pending {
                settled_as = Some(request.status());
                prop_assert!(request.resolved_at().is_some());
            }
            // Every change raises at least one event, and each take bumps the version once.
            let events = request.take_events();
            let changed = request.status() != before || !events.is_empty();
            if changed {
                prop_assert!(!events.is_empty());
                prop_assert_eq!(request.version(), version + 1);
            }
            version = request.version();
        }
        // Invariants on the final state.
        let mut approvers_seen = BTreeSet::new();
        for decision in request.decisions() {
            prop_assert!(approvers_seen.insert(decision.approver.clone()), "one decision per approver");
            prop_assert!(decision.approver != id("ci"), "four eyes");
        }
        let approvals = request.approvals();
        match request.status() {
            Status::Approved => prop_assert!(approvals >= usize::try_from(required).unwrap()),
            Status::Pending => prop_assert!(approvals < usize::try_from(required).unwrap()),
            Status::Rejected => prop_assert!(request.decisions().iter().any(|d| d.verdict == Verdict::Reject)),
            Status::Expired | Status::Cancelled => {}
        }
    }
}
