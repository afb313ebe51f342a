//! How the errors every use case shares become problem responses: invalid fields, a chat
//! platform that is not connected, and the store's errors.
//!
//! Each use case has its own error enum, so each gets its own `From` impl, beside its routes
//! (`routes/<aggregate>/errors.rs`), and the compiler flags a new variant that has no mapping
//! yet. 5xx problems never carry internal text: the cause is logged here, inside the
//! request's span, and the client gets a generic detail.

use application::ports::{PlatformNotConnected, RepositoryError};
use domain::{ValidationError, Violation};

use crate::problem::{Problem, ProblemType};

impl From<ValidationError> for Problem {
    fn from(error: ValidationError) -> Self {
        // A rule over several fields is not a field's shape, which the OpenAPI schema
        // states and a 400 reports, but a refusal of the request as a whole: a 422.
        let problem_type = match error.violation {
            Violation::Unsatisfiable(_) => ProblemType::UNSATISFIABLE_POLICY,
            _ => ProblemType::VALIDATION,
        };
        Problem::new(problem_type, error.to_string()).with("field", error.field)
    }
}

impl From<PlatformNotConnected> for Problem {
    fn from(error: PlatformNotConnected) -> Self {
        Problem::new(
            ProblemType::PLATFORM_NOT_CONNECTED,
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
                    ProblemType::UNAVAILABLE,
                    "the data store is unavailable; try again later",
                )
            }
            RepositoryError::Conflict => Problem::new(
                ProblemType::CONCURRENT_UPDATE,
                "the data kept changing concurrently; try again",
            ),
            // This request stalled past its lock and a retry took its key over; the retry's
            // answer is the one a further retry gets.
            RepositoryError::ClaimLost => Problem::new(
                ProblemType::IDEMPOTENCY_KEY_IN_FLIGHT,
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
