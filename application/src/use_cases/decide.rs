//! Decide an approval request — the one use case every inbound adapter (REST, Slack buttons,
//! slash commands) calls, so the rules are enforced in one place.

use std::sync::Arc;

use domain::{
    ApprovalId, ApprovalRequest, Comment, DecideOutcome, DecisionError, Identity, ValidationError,
    Verdict,
};

use super::answer::{Answer, receipt};
use super::retry::{Attempt, MAX_CONFLICT_RETRIES, retry_lost_races};
use crate::ports::{ApprovalRepository, Clock, RepositoryError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecideInput {
    pub approval_id: ApprovalId,
    pub approver: Identity,
    pub verdict: Verdict,
    pub comment: Option<String>,
}

/// The request after the decision, and whether the decision changed anything.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub approval: ApprovalRequest,
    pub outcome: DecideOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error("no approval request has this id")]
    NotFound,
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Refused(#[from] DecisionError),
    #[error("the request kept changing concurrently; try again")]
    Conflict,
    #[error(transparent)]
    Store(RepositoryError),
}

#[derive(Clone)]
pub struct Decide {
    approvals: Arc<dyn ApprovalRepository>,
    clock: Arc<dyn Clock>,
}

impl Decide {
    pub fn new(approvals: Arc<dyn ApprovalRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { approvals, clock }
    }

    /// Records one approver's verdict, exactly once.
    ///
    /// When two decisions race, the repository lets one save win and the other gets
    /// `Conflict`; the loser reloads and decides again against the new state — which then
    /// either records it too (a second approval) or refuses it (already settled). That is how
    /// "exactly one decision" holds across processes without locks.
    ///
    /// A change is saved with the `answer` of an idempotent request; a repeated verdict
    /// changes nothing and saves nothing, so its answer is the caller's to store.
    ///
    /// # Errors
    /// `NotFound`, `Invalid` (comment), `Refused` (a domain rule), `Conflict` after
    /// repeated lost races, `Store`.
    #[tracing::instrument(skip_all, fields(approval_id = %input.approval_id, approver = %input.approver, verdict = input.verdict.as_str()))]
    pub async fn execute(
        &self,
        input: DecideInput,
        answer: Option<Answer<'_, Decided>>,
    ) -> Result<Decided, DecideError> {
        let comment = input.comment.as_deref().map(Comment::parse).transpose()?;
        // Borrowed once, so that every attempt's future can copy them in.
        let (input, comment, answer) = (&input, comment.as_ref(), answer.as_ref());
        let attempt = || async move {
            let mut approval = self
                .approvals
                .get(input.approval_id)
                .await
                .map_err(DecideError::Store)?
                .ok_or(DecideError::NotFound)?;
            let outcome = approval.decide(
                input.approver.clone(),
                input.verdict,
                comment.cloned(),
                self.clock.now(),
            )?;
            if outcome == DecideOutcome::Unchanged {
                return Ok(Attempt::Done(Decided { approval, outcome }));
            }
            let events = approval.take_events();
            let decided = Decided { approval, outcome };
            match self
                .approvals
                .save(&decided.approval, &events, receipt(answer, &decided))
                .await
            {
                Ok(()) => {
                    tracing::info!(status = %decided.approval.status(), "decision recorded");
                    Ok(Attempt::Done(decided))
                }
                Err(RepositoryError::Conflict) => Ok(Attempt::Lost),
                Err(e) => Err(DecideError::Store(e)),
            }
        };
        retry_lost_races(MAX_CONFLICT_RETRIES, DecideError::Conflict, attempt).await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::{TimeZone, Utc};
    use domain::{
        ChatDestination, Description, Metadata, NewApproval, Policy, RequiredApprovals, Status,
        Title, Ttl,
    };

    use super::*;
    use crate::ports::{MockApprovalRepository, MockClock, StoredResponse};
    use crate::use_cases::answer::{self, tests::answered};

    fn id(s: &str) -> Identity {
        Identity::parse(s).unwrap()
    }

    fn stored(required: i64) -> ApprovalRequest {
        let mut approval = ApprovalRequest::open(
            ApprovalId::from_uuid(uuid::Uuid::nil()),
            NewApproval {
                title: Title::parse("t").unwrap(),
                description: Description::default(),
                requester: id("ci"),
                destination: ChatDestination::parse("C1").unwrap(),
                metadata: Metadata::default(),
                callback_url: None,
                policy: Policy::new(
                    RequiredApprovals::new(required).unwrap(),
                    BTreeSet::new(),
                    false,
                    &id("ci"),
                )
                .unwrap(),
                ttl: Ttl::default(),
            },
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        );
        approval.take_events();
        approval
    }

    /// A stored request needing `required` approvals, which `approver` has approved.
    fn approved_by(required: i64, approver: &str) -> ApprovalRequest {
        let mut approval = stored(required);
        approval
            .decide(
                id(approver),
                Verdict::Approve,
                None,
                Utc.with_ymd_and_hms(2026, 1, 1, 0, 30, 0).unwrap(),
            )
            .unwrap();
        approval.take_events();
        approval
    }

    fn clock() -> Arc<MockClock> {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(Utc.with_ymd_and_hms(2026, 1, 1, 1, 0, 0).unwrap());
        Arc::new(clock)
    }

    fn input(approver: &str) -> DecideInput {
        DecideInput {
            approval_id: ApprovalId::from_uuid(uuid::Uuid::nil()),
            approver: id(approver),
            verdict: Verdict::Approve,
            comment: None,
        }
    }

    #[tokio::test]
    async fn retries_after_losing_a_race_and_decides_against_the_new_state() {
        let mut repo = MockApprovalRepository::new();
        let mut seq = mockall::Sequence::new();
        // First load: nobody has decided yet. The save loses to bob.
        repo.expect_get()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(Some(stored(1))));
        repo.expect_save()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Err(RepositoryError::Conflict));
        // Second load: bob's approval settled it.
        repo.expect_get()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(Some(approved_by(1, "bob"))));
        let err = Decide::new(Arc::new(repo), clock())
            .execute(input("alice"), None)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            DecideError::Refused(DecisionError::NotPending {
                status: Status::Approved,
                decided_by: vec![id("bob")],
            })
        );
    }

    #[tokio::test]
    async fn each_attempt_saves_an_answer_rendered_from_its_own_result() {
        let mut repo = MockApprovalRepository::new();
        let mut seq = mockall::Sequence::new();
        // Two approvals needed. First load: nobody has decided; the save loses to bob.
        repo.expect_get()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(Some(stored(2))));
        repo.expect_save()
            .withf(|_, _, receipt| answered(receipt) == "pending")
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Err(RepositoryError::Conflict));
        // Second load: bob approved, so alice's approval now settles it.
        repo.expect_get()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(Some(approved_by(2, "bob"))));
        repo.expect_save()
            .withf(|_, _, receipt| answered(receipt) == "approved")
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Ok(()));
        let claim = answer::tests::claim();
        let respond = |decided: &Decided| StoredResponse {
            status: 200,
            headers: vec![],
            body: decided.approval.status().to_string().into_bytes(),
        };

        let decided = Decide::new(Arc::new(repo), clock())
            .execute(input("alice"), Some(Answer::new(&claim, &respond)))
            .await
            .unwrap();

        assert_eq!(decided.approval.status(), Status::Approved);
    }

    #[tokio::test]
    async fn a_repeated_verdict_saves_nothing() {
        let mut repo = MockApprovalRepository::new();
        repo.expect_get()
            .returning(|_| Ok(Some(approved_by(2, "alice"))));
        repo.expect_save().never();
        let decided = Decide::new(Arc::new(repo), clock())
            .execute(input("alice"), None)
            .await
            .unwrap();
        assert_eq!(decided.outcome, DecideOutcome::Unchanged);
    }

    #[tokio::test]
    async fn gives_up_with_conflict_after_repeated_lost_races() {
        let mut repo = MockApprovalRepository::new();
        repo.expect_get()
            .times(MAX_CONFLICT_RETRIES)
            .returning(|_| Ok(Some(stored(3))));
        repo.expect_save()
            .times(MAX_CONFLICT_RETRIES)
            .returning(|_, _, _| Err(RepositoryError::Conflict));
        let err = Decide::new(Arc::new(repo), clock())
            .execute(input("alice"), None)
            .await
            .unwrap_err();
        assert_eq!(err, DecideError::Conflict);
    }

    #[tokio::test]
    async fn unknown_id_is_not_found() {
        let mut repo = MockApprovalRepository::new();
        repo.expect_get().returning(|_| Ok(None));
        let err = Decide::new(Arc::new(repo), clock())
            .execute(input("alice"), None)
            .await
            .unwrap_err();
        assert_eq!(err, DecideError::NotFound);
    }
}
