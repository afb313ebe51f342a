//! How every use case error becomes a problem response: the error → status/type table.
//!
//! Each use case has its own error enum, so each gets its own `From` impl and the compiler
//! flags a new variant that has no mapping yet. 5xx problems never carry internal text: the
//! cause is logged here, inside the request's span, and the client gets a generic detail.

use application::ports::{PlatformNotConnected, RepositoryError};
use application::use_cases::{
    CancelApprovalError, CreateApprovalError, DecideError, GetAlertError, GetApprovalError,
    ListApprovalsError, RaiseAlertError, SettleAlertError,
};
use chrono::SecondsFormat;
use domain::{AlertError, CancelError, DecisionError, ValidationError, Violation};

use crate::dto::{StatusJson, VerdictJson};
use crate::problem::{Problem, ProblemType};

impl From<ValidationError> for Problem {
    fn from(error: ValidationError) -> Self {
        // A rule over several fields is not a field's shape, which the OpenAPI schema
        // states and a 400 reports, but a refusal of the request as a whole: a 422.
        let problem_type = match error.violation {
            Violation::Unsatisfiable(_) => ProblemType::UnsatisfiablePolicy,
            _ => ProblemType::Validation,
        };
        Problem::new(problem_type, error.to_string()).with("field", error.field)
    }
}

impl From<PlatformNotConnected> for Problem {
    fn from(error: PlatformNotConnected) -> Self {
        Problem::new(
            ProblemType::PlatformNotConnected,
            format!(
                "{error}; connect it (see the README) or choose a destination on a connected \
                 platform"
            ),
        )
        .with("field", "destination")
        .with("platform", error.platform)
    }
}

impl From<RepositoryError> for Problem {
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::Unavailable(reason) => {
                tracing::error!(%reason, "store unavailable");
                Problem::new(
                    ProblemType::Unavailable,
                    "the data store is unavailable; try again later",
                )
            }
            RepositoryError::Conflict => Problem::new(
                ProblemType::ConcurrentUpdate,
                "the data kept changing concurrently; try again",
            ),
            // This request stalled past its lock and a retry took its key over; the retry's
            // answer is the one a further retry gets.
            RepositoryError::ClaimLost => Problem::new(
                ProblemType::IdempotencyKeyInFlight,
                "a retry with this Idempotency-Key took over while this request was stalled; \
                 retry shortly to get its result",
            ),
            // Neither can happen for a correct request: an id collision or a corrupt row is
            // the service's fault, so the client learns only that.
            RepositoryError::Duplicate | RepositoryError::Corrupt(_) => {
                tracing::error!(%error, "store failed");
                Problem::internal()
            }
        }
    }
}

impl From<CreateApprovalError> for Problem {
    fn from(error: CreateApprovalError) -> Self {
        match error {
            CreateApprovalError::Invalid(e) => e.into(),
            CreateApprovalError::PlatformNotConnected(e) => e.into(),
            CreateApprovalError::Store(e) => e.into(),
        }
    }
}

impl From<GetApprovalError> for Problem {
    fn from(error: GetApprovalError) -> Self {
        match error {
            GetApprovalError::NotFound => approval_not_found(),
            GetApprovalError::Store(e) => e.into(),
        }
    }
}

impl From<ListApprovalsError> for Problem {
    fn from(error: ListApprovalsError) -> Self {
        match error {
            ListApprovalsError::Invalid(e) => e.into(),
            ListApprovalsError::Store(e) => e.into(),
        }
    }
}

impl From<DecideError> for Problem {
    fn from(error: DecideError) -> Self {
        match error {
            DecideError::NotFound => approval_not_found(),
            DecideError::Invalid(e) => e.into(),
            DecideError::Refused(e) => e.into(),
            DecideError::Conflict => approval_concurrent_update(),
            DecideError::Store(e) => e.into(),
        }
    }
}

impl From<DecisionError> for Problem {
    fn from(error: DecisionError) -> Self {
        let detail = error.to_string();
        match error {
            DecisionError::NotPending { status, decided_by } => {
                let decided_by: Vec<&str> = decided_by.iter().map(|id| id.as_str()).collect();
                Problem::new(ProblemType::NotPending, detail)
                    .with("approval_status", StatusJson::from(status).as_str())
                    .with("decided_by", decided_by)
            }
            DecisionError::Expired { expired_at } => {
                Problem::new(ProblemType::ApprovalExpired, detail).with(
                    "expired_at",
                    // The same form as every timestamp in the API's JSON bodies.
                    expired_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                )
            }
            DecisionError::SelfApproval => Problem::new(ProblemType::SelfApproval, detail),
            DecisionError::NotAllowed { .. } => {
                Problem::new(ProblemType::ApproverNotAllowed, detail)
            }
            DecisionError::ConflictingVerdict { previous, .. } => {
                Problem::new(ProblemType::ConflictingVerdict, detail)
                    .with("previous_verdict", VerdictJson::from(previous).as_str())
            }
        }
    }
}

impl From<CancelApprovalError> for Problem {
    fn from(error: CancelApprovalError) -> Self {
        match error {
            CancelApprovalError::NotFound => approval_not_found(),
            CancelApprovalError::Refused(e) => e.into(),
            CancelApprovalError::Conflict => approval_concurrent_update(),
            CancelApprovalError::Store(e) => e.into(),
        }
    }
}

impl From<CancelError> for Problem {
    fn from(error: CancelError) -> Self {
        let detail = error.to_string();
        match error {
            CancelError::NotPending { status } => Problem::new(ProblemType::NotPending, detail)
                .with("approval_status", StatusJson::from(status).as_str()),
            CancelError::NotRequester => Problem::new(ProblemType::NotRequester, detail),
        }
    }
}

impl From<RaiseAlertError> for Problem {
    fn from(error: RaiseAlertError) -> Self {
        match error {
            RaiseAlertError::Invalid(e) => e.into(),
            RaiseAlertError::PlatformNotConnected(e) => e.into(),
            RaiseAlertError::Conflict => alert_concurrent_update(),
            RaiseAlertError::Store(e) => e.into(),
        }
    }
}

impl From<GetAlertError> for Problem {
    fn from(error: GetAlertError) -> Self {
        match error {
            GetAlertError::NotFound => alert_not_found(),
            GetAlertError::Store(e) => e.into(),
        }
    }
}

impl From<SettleAlertError> for Problem {
    fn from(error: SettleAlertError) -> Self {
        match error {
            SettleAlertError::NotFound => alert_not_found(),
            SettleAlertError::Refused(e) => e.into(),
            SettleAlertError::Conflict => alert_concurrent_update(),
            SettleAlertError::Store(e) => e.into(),
        }
    }
}

impl From<AlertError> for Problem {
    fn from(error: AlertError) -> Self {
        let detail = error.to_string();
        match error {
            AlertError::AlreadyResolved => Problem::new(ProblemType::AlertResolved, detail),
        }
    }
}

fn approval_not_found() -> Problem {
    Problem::new(
        ProblemType::ApprovalNotFound,
        "no approval request has this id",
    )
}

fn approval_concurrent_update() -> Problem {
    Problem::new(
        ProblemType::ConcurrentUpdate,
        "the approval request kept changing concurrently; try again",
    )
}

fn alert_not_found() -> Problem {
    Problem::new(ProblemType::AlertNotFound, "no alert has this id")
}

fn alert_concurrent_update() -> Problem {
    Problem::new(
        ProblemType::ConcurrentUpdate,
        "the alert kept changing concurrently; try again",
    )
}
