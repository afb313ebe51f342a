//! Turn a presented API key into the identity of its owner.

use std::sync::Arc;

use domain::Identity;

use crate::ports::{ApiKeyHash, ApiKeyStore, RepositoryError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthenticateError {
    #[error("unknown API key")]
    UnknownKey,
    #[error(transparent)]
    Store(RepositoryError),
}

#[derive(Clone)]
pub struct Authenticate {
    keys: Arc<dyn ApiKeyStore>,
}

impl Authenticate {
    pub fn new(keys: Arc<dyn ApiKeyStore>) -> Self {
        Self { keys }
    }

    /// Looks the key up by its hash. The lookup compares hashes, never the key, so timing
    /// reveals nothing about stored keys: an attacker would have to invert SHA-256 first.
    ///
    /// # Errors
    /// `UnknownKey`, or `Store` when the key store fails.
    pub async fn execute(&self, presented: &str) -> Result<Identity, AuthenticateError> {
        self.keys
            .find_by_hash(&ApiKeyHash::of(presented))
            .await
            .map_err(AuthenticateError::Store)?
            .map(|record| record.name)
            .ok_or(AuthenticateError::UnknownKey)
    }
}
