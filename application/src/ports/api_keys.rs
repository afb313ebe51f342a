//! API keys: who may call the REST API, stored only as hashes.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Identity;
use sha2::{Digest, Sha256};

use super::RepositoryError;

/// The SHA-256 of an API key, hex-encoded. The key itself is never stored.
///
/// A fast hash is the right tool here: keys are 256-bit random secrets, not passwords, so
/// there is nothing to brute-force and no need for a slow, salted hash.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiKeyHash(String);

impl ApiKeyHash {
    /// Hashes a presented key.
    pub fn of(key: &str) -> Self {
        let digest = Sha256::digest(key.as_bytes());
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Wraps a hash read back from storage.
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKeyHash {
    // Hashes are not secrets, but there is no reason to spread them through logs either.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeyHash(..)")
    }
}

/// A stored key: its owner's identity (the key's name) and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub name: Identity,
    pub hash: ApiKeyHash,
    pub created_at: DateTime<Utc>,
}

/// Stores API keys by hash.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores a new key.
    ///
    /// # Errors
    /// - `Duplicate` when a key with this name (or, impossibly, this hash) exists.
    /// - `Unavailable` when the store cannot be reached.
    async fn insert(&self, record: &ApiKeyRecord) -> Result<(), RepositoryError>;

    /// Finds the key with this hash. An unknown hash is `Ok(None)`.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached; `Corrupt` for an invalid stored name.
    async fn find_by_hash(
        &self,
        hash: &ApiKeyHash,
    ) -> Result<Option<ApiKeyRecord>, RepositoryError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_hex() {
        // echo -n abc | sha256sum
        assert_eq!(
            ApiKeyHash::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn debug_does_not_print_the_hash() {
        assert_eq!(format!("{:?}", ApiKeyHash::of("abc")), "ApiKeyHash(..)");
    }
}
