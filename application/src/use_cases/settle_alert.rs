//! Acknowledge or resolve an alert — from a chat button, a slash command or the REST API.

use std::sync::Arc;

use domain::{Alert, AlertError, AlertId, Identity, TransitionOutcome};

use super::answer::{Answer, receipt};
use super::retry::{Attempt, MAX_CONFLICT_RETRIES, retry_lost_races};
use crate::ports::{AlertRepository, Clock, RepositoryError};

/// What to do with the alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertAction {
    Acknowledge,
    Resolve,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettleAlertError {
    #[error("no alert has this id")]
    NotFound,
    #[error(transparent)]
    Refused(#[from] AlertError),
    #[error("the alert kept changing concurrently; try again")]
    Conflict,
    #[error(transparent)]
    Store(RepositoryError),
}

#[derive(Clone)]
pub struct SettleAlert {
    alerts: Arc<dyn AlertRepository>,
    clock: Arc<dyn Clock>,
}

impl SettleAlert {
    pub fn new(alerts: Arc<dyn AlertRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { alerts, clock }
    }

    /// Applies the action, saving the `answer` of an idempotent request with the change;
    /// repeating it is a harmless `Unchanged` that saves nothing.
    ///
    /// # Errors
    /// `NotFound`, `Refused` (acknowledging a resolved alert), `Conflict` after repeated
    /// lost races, `Store`.
    #[tracing::instrument(skip_all, fields(alert_id = %id, by = %by, action = ?action))]
    pub async fn execute(
        &self,
        id: AlertId,
        action: AlertAction,
        by: Identity,
        answer: Option<Answer<'_, (Alert, TransitionOutcome)>>,
    ) -> Result<(Alert, TransitionOutcome), SettleAlertError> {
        // Borrowed once, so that every attempt's future can copy them in.
        let (by, answer) = (&by, answer.as_ref());
        let attempt = || async move {
            let mut alert = self
                .alerts
                .get(id)
                .await
                .map_err(SettleAlertError::Store)?
                .ok_or(SettleAlertError::NotFound)?;
            let now = self.clock.now();
            let outcome = match action {
                AlertAction::Acknowledge => alert.acknowledge(by.clone(), now)?,
                AlertAction::Resolve => alert.resolve(by.clone(), now),
            };
            if outcome == TransitionOutcome::Unchanged {
                return Ok(Attempt::Done((alert, outcome)));
            }
            let events = alert.take_events();
            let result = (alert, outcome);
            match self
                .alerts
                .save(&result.0, &events, receipt(answer, &result))
                .await
            {
                Ok(()) => Ok(Attempt::Done(result)),
                Err(RepositoryError::Conflict) => Ok(Attempt::Lost),
                Err(e) => Err(SettleAlertError::Store(e)),
            }
        };
        retry_lost_races(MAX_CONFLICT_RETRIES, SettleAlertError::Conflict, attempt).await
    }
}
