//! `ApiKeyStore` on PostgreSQL: names and hashes, both unique, and each key's webhook
//! secrets in the same row.

use application::ports::{
    ApiKeyHash, ApiKeyRecord, ApiKeyStore, RepositoryError, WebhookSecret, WebhookSecrets,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Identity;
use sql_support::{api_key_record, webhook_secrets};

use crate::PostgresStore;
use crate::errors::translate;

#[async_trait]
impl ApiKeyStore for PostgresStore {
    #[tracing::instrument(name = "postgres.api_keys.insert", skip_all, fields(name = %record.name), level = "debug")]
    async fn insert(
        &self,
        record: &ApiKeyRecord,
        webhook_secret: &WebhookSecret,
    ) -> Result<(), RepositoryError> {
        // Both the primary key (name) and the unique hash turn a repeat into `Duplicate`.
        sqlx::query!(
            "INSERT INTO api_keys (name, hash, created_at, webhook_secret) VALUES ($1, $2, $3, $4)",
            record.name.as_str(),
            record.hash.as_str(),
            record.created_at,
            webhook_secret.expose(),
        )
        .execute(&self.pool)
        .await
        .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(name = "postgres.api_keys.find_by_hash", skip_all, level = "debug")]
    async fn find_by_hash(
        &self,
        hash: &ApiKeyHash,
    ) -> Result<Option<ApiKeyRecord>, RepositoryError> {
        let Some(row) = sqlx::query!(
            "SELECT name, hash, created_at FROM api_keys WHERE hash = $1",
            hash.as_str()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(translate)?
        else {
            return Ok(None);
        };
        api_key_record(&row.name, row.hash, row.created_at).map(Some)
    }

    #[tracing::instrument(name = "postgres.api_keys.webhook_secrets", skip_all, fields(%name), level = "debug")]
    async fn webhook_secrets(
        &self,
        name: &Identity,
    ) -> Result<Option<WebhookSecrets>, RepositoryError> {
        let Some(row) = sqlx::query!(
            "SELECT webhook_secret, previous_webhook_secret, previous_webhook_secret_until
             FROM api_keys WHERE name = $1",
            name.as_str()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(translate)?
        else {
            return Ok(None);
        };
        let previous = row
            .previous_webhook_secret
            .as_deref()
            .zip(row.previous_webhook_secret_until);
        webhook_secrets(row.webhook_secret.as_deref(), previous)
    }

    #[tracing::instrument(name = "postgres.api_keys.rotate_webhook_secret", skip_all, fields(%name), level = "debug")]
    async fn rotate_webhook_secret(
        &self,
        name: &Identity,
        secret: &WebhookSecret,
        previous_until: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        // One statement: the right-hand sides read the row as it was, so the current secret
        // becomes the previous one in the same write that replaces it.
        let updated = sqlx::query!(
            "UPDATE api_keys
             SET previous_webhook_secret = webhook_secret,
                 previous_webhook_secret_until =
                     CASE WHEN webhook_secret IS NULL THEN NULL ELSE $3::timestamptz END,
                 webhook_secret = $2
             WHERE name = $1",
            name.as_str(),
            secret.expose(),
            previous_until,
        )
        .execute(&self.pool)
        .await
        .map_err(translate)?;
        Ok(updated.rows_affected() == 1)
    }
}
