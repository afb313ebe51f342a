//! `ApiKeyStore` on SQLite: names and hashes, both unique, and each key's webhook secrets in
//! the same row.

use application::ports::{
    ApiKeyHash, ApiKeyRecord, ApiKeyStore, RepositoryError, WebhookSecret, WebhookSecrets,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Identity;
use sql_support::{api_key_record, webhook_secrets};

use crate::SqliteStore;
use crate::errors::translate;
use crate::time::{from_micros, to_micros};

#[async_trait]
impl ApiKeyStore for SqliteStore {
    #[tracing::instrument(name = "sqlite.api_keys.insert", skip_all, fields(name = %record.name), level = "debug")]
    async fn insert(
        &self,
        record: &ApiKeyRecord,
        webhook_secret: &WebhookSecret,
    ) -> Result<(), RepositoryError> {
        // Both the primary key (name) and the unique hash turn a repeat into `Duplicate`.
        sqlx::query(
            "INSERT INTO api_keys (name, hash, created_at, webhook_secret) VALUES (?, ?, ?, ?)",
        )
        .bind(record.name.as_str())
        .bind(record.hash.as_str())
        .bind(to_micros(record.created_at))
        .bind(webhook_secret.expose())
        .execute(self.writer())
        .await
        .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(name = "sqlite.api_keys.find_by_hash", skip_all, level = "debug")]
    async fn find_by_hash(
        &self,
        hash: &ApiKeyHash,
    ) -> Result<Option<ApiKeyRecord>, RepositoryError> {
        let row: Option<(String, String, i64)> =
            sqlx::query_as("SELECT name, hash, created_at FROM api_keys WHERE hash = ?")
                .bind(hash.as_str())
                .fetch_optional(self.readers())
                .await
                .map_err(translate)?;
        row.map(|(name, hash, created_at)| api_key_record(&name, hash, from_micros(created_at)?))
            .transpose()
    }

    #[tracing::instrument(name = "sqlite.api_keys.webhook_secrets", skip_all, fields(%name), level = "debug")]
    async fn webhook_secrets(
        &self,
        name: &Identity,
    ) -> Result<Option<WebhookSecrets>, RepositoryError> {
        let row: Option<(Option<String>, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT webhook_secret, previous_webhook_secret, previous_webhook_secret_until
             FROM api_keys WHERE name = ?",
        )
        .bind(name.as_str())
        .fetch_optional(self.readers())
        .await
        .map_err(translate)?;
        let Some((current, previous, until)) = row else {
            return Ok(None);
        };
        let until = until.map(from_micros).transpose()?;
        webhook_secrets(current.as_deref(), previous.as_deref().zip(until))
    }

    #[tracing::instrument(name = "sqlite.api_keys.rotate_webhook_secret", skip_all, fields(%name), level = "debug")]
    async fn rotate_webhook_secret(
        &self,
        name: &Identity,
        secret: &WebhookSecret,
        previous_until: DateTime<Utc>,
    ) -> Result<bool, RepositoryError> {
        // One statement: the right-hand sides read the row as it was, so the current secret
        // becomes the previous one in the same write that replaces it.
        let updated = sqlx::query(
            "UPDATE api_keys
             SET previous_webhook_secret = webhook_secret,
                 previous_webhook_secret_until =
                     CASE WHEN webhook_secret IS NULL THEN NULL ELSE ? END,
                 webhook_secret = ?
             WHERE name = ?",
        )
        .bind(to_micros(previous_until))
        .bind(secret.expose())
        .bind(name.as_str())
        .execute(self.writer())
        .await
        .map_err(translate)?;
        Ok(updated.rows_affected() == 1)
    }
}
