//! The alert routes' problem types, and how the alert use cases' errors become problems.
//! Shared causes (a store outage, a field that breaks a rule) are mapped once, in
//! `errors.rs`; what is here names alerts.

use application::use_cases::{GetAlertError, RaiseAlertError, SettleAlertError};
use axum::http::StatusCode;
use domain::AlertError;

use crate::problem::{Problem, ProblemType, Spec};

/// No alert has this id.
pub(crate) const ALERT_NOT_FOUND: ProblemType = ProblemType::new(&Spec::new(
    concat!(env!("PROBLEM_BASE_URL"), "alert-not-found"),
    StatusCode::NOT_FOUND,
    "Alert not found",
));
/// The alert is resolved, so it can no longer be acknowledged. A new raise with its dedup
/// key opens a new alert.
pub(crate) const ALERT_RESOLVED: ProblemType = ProblemType::new(&Spec::new(
    concat!(env!("PROBLEM_BASE_URL"), "alert-resolved"),
    StatusCode::CONFLICT,
    "Alert already resolved",
));

/// Every problem type of the alert routes, for the document and its tests.
pub(crate) const PROBLEM_TYPES: &[ProblemType] = &[ALERT_NOT_FOUND, ALERT_RESOLVED];

impl From<RaiseAlertError> for Problem {
    fn from(error: RaiseAlertError) -> Self {
        match error {
            RaiseAlertError::Invalid(e) => e.into(),
            RaiseAlertError::PlatformNotConnected(e) => e.into(),
            RaiseAlertError::Conflict => concurrent_update(),
            RaiseAlertError::Store(e) => e.into(),
        }
    }
}

impl From<GetAlertError> for Problem {
    fn from(error: GetAlertError) -> Self {
        match error {
            GetAlertError::NotFound => not_found(),
            GetAlertError::Store(e) => e.into(),
        }
    }
}

impl From<SettleAlertError> for Problem {
    fn from(error: SettleAlertError) -> Self {
        match error {
            SettleAlertError::NotFound => not_found(),
            SettleAlertError::Refused(e) => e.into(),
            SettleAlertError::Conflict => concurrent_update(),
            SettleAlertError::Store(e) => e.into(),
        }
    }
}

impl From<AlertError> for Problem {
    fn from(error: AlertError) -> Self {
        let detail = error.to_string();
        match error {
            AlertError::AlreadyResolved => Problem::new(ALERT_RESOLVED, detail),
        }
    }
}

fn not_found() -> Problem {
    Problem::new(ALERT_NOT_FOUND, "no alert has this id")
}

fn concurrent_update() -> Problem {
    Problem::new(
        ProblemType::CONCURRENT_UPDATE,
        "the alert kept changing concurrently; try again",
    )
}
