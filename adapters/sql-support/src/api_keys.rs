//! The stored form of an API key and of its webhook secrets.

use application::ports::{
    ApiKeyHash, ApiKeyRecord, RepositoryError, WebhookSecret, WebhookSecrets,
};
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

/// Rebuilds a client's webhook secrets from the `webhook_secret` columns of its row;
/// `None` when it has no current secret.
///
/// # Errors
/// `Corrupt` when a stored secret is not of the `whsec_` form.
pub fn webhook_secrets(
    current: Option<&str>,
    previous: Option<(&str, DateTime<Utc>)>,
) -> Result<Option<WebhookSecrets>, RepositoryError> {
    let parse = |text| WebhookSecret::parse(text).map_err(|e| corrupt("webhook secret", e));
    let Some(current) = current else {
        return Ok(None);
    };
    Ok(Some(WebhookSecrets {
        current: parse(current)?,
        previous: previous
            .map(|(text, until)| parse(text).map(|secret| (secret, until)))
            .transpose()?,
    }))
}
