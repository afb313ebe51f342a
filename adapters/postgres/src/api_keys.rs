//! `ApiKeyStore` on PostgreSQL: names and hashes, both unique.

use application::ports::{ApiKeyHash, ApiKeyRecord, ApiKeyStore, RepositoryError};
use async_trait::async_trait;
use sql_support::api_key_record;

use crate::PostgresStore;
use crate::errors::translate;

#[async_trait]
impl ApiKeyStore for PostgresStore {
    #[tracing::instrument(name = "postgres.api_keys.insert", skip_all, fields(name = %record.name), level = "debug")]
    async fn insert(&self, record: &ApiKeyRecord) -> Result<(), RepositoryError> {
        // Both the primary key (name) and the unique hash turn a repeat into `Duplicate`.
        sqlx::query!(
            "INSERT INTO api_keys (name, hash, created_at) VALUES ($1, $2, $3)",
            record.name.as_str(),
            record.hash.as_str(),
            record.created_at
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
}
