//! Rotate an API client's webhook signing secret, with a grace period in which the old one
//! still signs, so its receivers can switch without missing a callback.

use std::sync::Arc;
use std::time::Duration;

use domain::{Identity, ValidationError};

use crate::ports::{ApiKeyStore, Clock, IdGenerator, RepositoryError, WebhookSecret};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RotateWebhookSecretError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("no API key is named {0}")]
    NotFound(Identity),
    #[error(transparent)]
    Store(#[from] RepositoryError),
}

#[derive(Clone)]
pub struct RotateWebhookSecret {
    keys: Arc<dyn ApiKeyStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl RotateWebhookSecret {
    pub fn new(
        keys: Arc<dyn ApiKeyStore>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self { keys, clock, ids }
    }

    /// Gives the client `name` a new secret and returns it. Its current secret keeps
    /// signing, as a second signature of every callback, for `grace`; a secret replaced by
    /// an earlier rotation stops at once.
    ///
    /// # Errors
    /// `Invalid` for a bad name, `NotFound` when no key has it, `Store`.
    pub async fn execute(
        &self,
        name: &str,
        grace: Duration,
    ) -> Result<WebhookSecret, RotateWebhookSecretError> {
        let name = Identity::parse(name).map_err(|e| ValidationError { field: "name", ..e })?;
        let secret = WebhookSecret::from_random(&self.ids.new_secret());
        let grace = chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX);
        let now = self.clock.now();
        let until = now.checked_add_signed(grace).unwrap_or(now);
        if self
            .keys
            .rotate_webhook_secret(&name, &secret, until)
            .await?
        {
            tracing::info!(%name, %until, "webhook secret rotated");
            Ok(secret)
        } else {
            Err(RotateWebhookSecretError::NotFound(name))
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::ports::{MockApiKeyStore, MockClock, MockIdGenerator};

    fn use_case(keys: MockApiKeyStore) -> RotateWebhookSecret {
        let mut ids = MockIdGenerator::new();
        ids.expect_new_secret().return_const("fresh".to_owned());
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        RotateWebhookSecret::new(Arc::new(keys), Arc::new(clock), Arc::new(ids))
    }

    #[tokio::test]
    async fn the_new_secret_is_stored_and_the_old_one_signs_for_the_grace() {
        let mut keys = MockApiKeyStore::new();
        keys.expect_rotate_webhook_secret()
            .withf(|name, secret, until| {
                name.as_str() == "ci"
                    && secret.expose() == WebhookSecret::from_random("fresh").expose()
                    && *until == Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap()
            })
            .times(1)
            .returning(|_, _, _| Ok(true));
        let secret = use_case(keys)
            .execute("ci", Duration::from_secs(24 * 60 * 60))
            .await
            .unwrap();
        assert!(secret.expose().starts_with("whsec_"));
    }

    #[tokio::test]
    async fn an_unknown_client_is_not_found() {
        let mut keys = MockApiKeyStore::new();
        keys.expect_rotate_webhook_secret()
            .returning(|_, _, _| Ok(false));
        let result = use_case(keys).execute("nobody", Duration::ZERO).await;
        assert!(matches!(result, Err(RotateWebhookSecretError::NotFound(_))));
    }
}
