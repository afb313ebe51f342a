//! Create an API key for a REST client, with its webhook signing secret. The key is shown
//! once and stored only as a hash; the secret is stored, since every callback is signed
//! with it.

use std::sync::Arc;

use domain::{Identity, ValidationError};
use secrecy::SecretString;

use crate::ports::{
    ApiKeyHash, ApiKeyRecord, ApiKeyStore, Clock, IdGenerator, RepositoryError, WebhookSecret,
};

/// A freshly created key. `key` is the only copy of the secret there will ever be.
#[derive(Debug)]
pub struct CreatedApiKey {
    pub name: Identity,
    pub key: SecretString,
    /// Signs the callbacks of this client's requests; its receivers verify with it.
    pub webhook_secret: WebhookSecret,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateApiKeyError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("an API key named {0} already exists")]
    Duplicate(Identity),
    #[error(transparent)]
    Store(RepositoryError),
}

#[derive(Clone)]
pub struct CreateApiKey {
    keys: Arc<dyn ApiKeyStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl CreateApiKey {
    pub fn new(
        keys: Arc<dyn ApiKeyStore>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self { keys, clock, ids }
    }

    /// # Errors
    /// `Invalid` for a bad name, `Duplicate` when the name is taken, `Store`.
    pub async fn execute(&self, name: &str) -> Result<CreatedApiKey, CreateApiKeyError> {
        let name = Identity::parse(name).map_err(|e| ValidationError { field: "name", ..e })?;
        let key = self.ids.new_secret();
        let record = ApiKeyRecord {
            name: name.clone(),
            hash: ApiKeyHash::of(&key),
            created_at: self.clock.now(),
        };
        let webhook_secret = WebhookSecret::from_random(&self.ids.new_secret());
        match self.keys.insert(&record, &webhook_secret).await {
            Ok(()) => Ok(CreatedApiKey {
                name,
                key: SecretString::from(key),
                webhook_secret,
            }),
            Err(RepositoryError::Duplicate) => Err(CreateApiKeyError::Duplicate(name)),
            Err(e) => Err(CreateApiKeyError::Store(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use secrecy::ExposeSecret;

    use super::*;
    use crate::ports::{MockApiKeyStore, MockClock, MockIdGenerator};

    #[tokio::test]
    async fn stores_only_the_hash_of_the_key_it_returns() {
        let mut ids = MockIdGenerator::new();
        ids.expect_new_secret().return_const("s3cret".to_owned());
        let mut clock = MockClock::new();
        clock.expect_now().returning(Utc::now);
        let mut keys = MockApiKeyStore::new();
        keys.expect_insert()
            .withf(|record, secret| {
                record.hash == ApiKeyHash::of("s3cret")
                    && record.name.as_str() == "ci"
                    && secret.expose() == WebhookSecret::from_random("s3cret").expose()
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let created = CreateApiKey::new(Arc::new(keys), Arc::new(clock), Arc::new(ids))
            .execute("ci")
            .await
            .unwrap();
        assert_eq!(created.key.expose_secret(), "s3cret");
        assert!(created.webhook_secret.expose().starts_with("whsec_"));
        let debug = format!("{created:?}");
        assert!(!debug.contains("s3cret"), "Debug must redact the key");
        assert!(
            !debug.contains(created.webhook_secret.expose()),
            "Debug must redact the webhook secret"
        );
    }
}
