//! `ApiKeyStore` on SQLite: names and hashes, both unique.

use application::ports::{ApiKeyHash, ApiKeyRecord, ApiKeyStore, RepositoryError};
use async_trait::async_trait;
use sql_support::api_key_record;

use crate::SqliteStore;
use crate::errors::translate;
use crate::time::{from_micros, to_micros};

#[async_trait]
impl ApiKeyStore for SqliteStore {
    #[tracing::instrument(name = "sqlite.api_keys.insert", skip_all, fields(name = %record.name), level = "debug")]
    async fn insert(&self, record: &ApiKeyRecord) -> Result<(), RepositoryError> {
        // Both the primary key (name) and the unique hash turn a repeat into `Duplicate`.
        sqlx::query("INSERT INTO api_keys (name, hash, created_at) VALUES (?, ?, ?)")
            .bind(record.name.as_str())
            .bind(record.hash.as_str())
            .bind(to_micros(record.created_at))
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
}
