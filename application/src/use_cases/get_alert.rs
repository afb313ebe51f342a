//! Read one alert.

use std::sync::Arc;

use domain::{Alert, AlertId};

use crate::ports::{AlertRepository, RepositoryError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GetAlertError {
    #[error("no alert has this id")]
    NotFound,
    #[error(transparent)]
    Store(RepositoryError),
}

#[derive(Clone)]
pub struct GetAlert {
    alerts: Arc<dyn AlertRepository>,
}

impl GetAlert {
    pub fn new(alerts: Arc<dyn AlertRepository>) -> Self {
        Self { alerts }
    }

    /// # Errors
    /// `NotFound` for an unknown id, `Store` when the repository fails.
    pub async fn execute(&self, id: AlertId) -> Result<Alert, GetAlertError> {
        self.alerts
            .get(id)
            .await
            .map_err(GetAlertError::Store)?
            .ok_or(GetAlertError::NotFound)
    }
}
