//! The approval routes' problem types, and how the approval use cases' errors become
//! problems. Shared causes (a store outage, a field that breaks a rule) are mapped once, in
//! `errors.rs`; what is here names approval requests.

use application::use_cases::{
    CancelApprovalError, CreateApprovalError, DecideError, GetApprovalError, ListApprovalsError,
};
use axum::http::StatusCode;
use chrono::SecondsFormat;
use domain::{CancelError, DecisionError};

use super::dto::{StatusJson, VerdictJson};
use crate::problem::{Problem, ProblemType, Spec};

/// Only the requester may cancel a request.
pub(crate) const NOT_REQUESTER: ProblemType = ProblemType::new(&Spec::new(
    concat!(env!("PROBLEM_BASE_URL"), "not-requester"),
    StatusCode::FORBIDDEN,
    "Only the requester may do this",
));
/// The request's allow-list does not name this approver.
pub(crate) const APPROVER_NOT_ALLOWED: ProblemType = ProblemType::new(&Spec::new(
    concat!(env!("PROBLEM_BASE_URL"), "approver-not-allowed"),
    StatusCode::FORBIDDEN,
    "Approver not allowed",
));
/// No approval request has this id.
pub(crate) const APPROVAL_NOT_FOUND: ProblemType = ProblemType::new(&Spec::new(
    concat!(env!("PROBLEM_BASE_URL"), "approval-not-found"),
    StatusCode::NOT_FOUND,
    "Approval request not found",
));
/// The request has already settled. Carries `approval_status` (and `decided_by` for
/// decisions).
pub(crate) const NOT_PENDING: ProblemType = ProblemType::new(&Spec::new(
    concat!(env!("PROBLEM_BASE_URL"), "not-pending"),
    StatusCode::CONFLICT,
    "Approval request already settled",
));
/// The requester may not decide their own request (four-eyes principle).
pub(crate) const SELF_APPROVAL: ProblemType = ProblemType::new(&Spec::new(
    concat!(env!("PROBLEM_BASE_URL"), "self-approval"),
    StatusCode::UNPROCESSABLE_ENTITY,
    "Self-approval not allowed",
));
/// The request passed its expiry time. Carries `expired_at`.
pub(crate) const APPROVAL_EXPIRED: ProblemType = ProblemType::new(&Spec::new(
    concat!(env!("PROBLEM_BASE_URL"), "approval-expired"),
    StatusCode::UNPROCESSABLE_ENTITY,
    "Approval request expired",
));
/// An approver tried to change their verdict. Carries `previous_verdict`.
pub(crate) const CONFLICTING_VERDICT: ProblemType = ProblemType::new(&Spec::new(
    concat!(env!("PROBLEM_BASE_URL"), "conflicting-verdict"),
    StatusCode::UNPROCESSABLE_ENTITY,
    "Verdict cannot be changed",
));

/// The callback URL is well formed but may not be called back: not `https`, or its host
/// resolves to a loopback, private, link-local, metadata or other non-public address.
pub(crate) const CALLBACK_URL_REFUSED: ProblemType = ProblemType::new(&Spec::new(
    concat!(env!("PROBLEM_BASE_URL"), "callback-url-refused"),
    StatusCode::UNPROCESSABLE_ENTITY,
    "Callback URL refused",
));

/// The `wait` of a long-poll is not a duration of at most 60 s (`30s`, `1m`, `45`).
pub(crate) const INVALID_WAIT: ProblemType = ProblemType::new(&Spec::new(
    concat!(env!("PROBLEM_BASE_URL"), "invalid-wait"),
    StatusCode::BAD_REQUEST,
    "Invalid wait",
));

/// Every problem type of the approval routes, for the document and its tests.
pub(crate) const PROBLEM_TYPES: &[ProblemType] = &[
    NOT_REQUESTER,
    APPROVER_NOT_ALLOWED,
    APPROVAL_NOT_FOUND,
    NOT_PENDING,
    SELF_APPROVAL,
    APPROVAL_EXPIRED,
    CONFLICTING_VERDICT,
    CALLBACK_URL_REFUSED,
    INVALID_WAIT,
];

impl From<CreateApprovalError> for Problem {
    fn from(error: CreateApprovalError) -> Self {
        match error {
            CreateApprovalError::Invalid(e) => e.into(),
            CreateApprovalError::PlatformNotConnected(e) => e.into(),
            CreateApprovalError::CallbackUrlRefused(e) => {
                Problem::new(CALLBACK_URL_REFUSED, e.to_string())
            }
            CreateApprovalError::Store(e) => e.into(),
        }
    }
}

impl From<GetApprovalError> for Problem {
    fn from(error: GetApprovalError) -> Self {
        match error {
            GetApprovalError::NotFound => not_found(),
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
            DecideError::NotFound => not_found(),
            DecideError::Invalid(e) => e.into(),
            DecideError::Refused(e) => e.into(),
            DecideError::Conflict => concurrent_update(),
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
                Problem::new(NOT_PENDING, detail)
                    .with("approval_status", StatusJson::from(status).as_str())
                    .with("decided_by", decided_by)
            }
            DecisionError::Expired { expired_at } => Problem::new(APPROVAL_EXPIRED, detail).with(
                "expired_at",
                // The same form as every timestamp in the API's JSON bodies.
                expired_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            ),
            DecisionError::SelfApproval => Problem::new(SELF_APPROVAL, detail),
            DecisionError::NotAllowed { .. } => Problem::new(APPROVER_NOT_ALLOWED, detail),
            DecisionError::ConflictingVerdict { previous, .. } => {
                Problem::new(CONFLICTING_VERDICT, detail)
                    .with("previous_verdict", VerdictJson::from(previous).as_str())
            }
        }
    }
}

impl From<CancelApprovalError> for Problem {
    fn from(error: CancelApprovalError) -> Self {
        match error {
            CancelApprovalError::NotFound => not_found(),
            CancelApprovalError::Refused(e) => e.into(),
            CancelApprovalError::Conflict => concurrent_update(),
            CancelApprovalError::Store(e) => e.into(),
        }
    }
}

impl From<CancelError> for Problem {
    fn from(error: CancelError) -> Self {
        let detail = error.to_string();
        match error {
            CancelError::NotPending { status } => Problem::new(NOT_PENDING, detail)
                .with("approval_status", StatusJson::from(status).as_str()),
            CancelError::NotRequester => Problem::new(NOT_REQUESTER, detail),
        }
    }
}

fn not_found() -> Problem {
    Problem::new(APPROVAL_NOT_FOUND, "no approval request has this id")
}

fn concurrent_update() -> Problem {
    Problem::new(
        ProblemType::CONCURRENT_UPDATE,
        "the approval request kept changing concurrently; try again",
    )
}
