//! The stored form of an API key.

use application::ports::{ApiKeyHash, ApiKeyRecord, RepositoryError};
use chrono::{DateTime, Utc};
use domain::Identity;

use crate::errors::corrupt;

/// Rebuilds a key record from the columns of its `api_keys` row.
///
/// # Errors
/// `Corrupt` when the stored name is not a valid identity.
pub fn api_key_record(
    name: &str,
    hash: String,
    created_at: DateTime<Utc>,
) -> Result<ApiKeyRecord, RepositoryError> {
    Ok(ApiKeyRecord {
        name: Identity::parse(name).map_err(|e| corrupt("API key name", e))?,
        hash: ApiKeyHash::from_stored(hash),
        created_at,
    })
}
