//! `IdempotencyStore` on SQLite: one row per (client, key), claimed under the write lock, and
//! the receipt a save writes inside its own transaction.

use application::ports::{
    Claim, IdempotencyStore, KeyClaim, Receipt, RepositoryError, StoredResponse,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sql_support::{IdempotencyHolder, receipt_stored, response_headers};
use sqlx::{SqliteConnection, SqliteExecutor};

use crate::SqliteStore;
use crate::errors::translate;
use crate::time::{from_micros, to_micros};

/// The columns a claim that did not acquire the key needs to answer.
#[derive(sqlx::FromRow)]
struct Holder {
    #[sqlx(flatten)]
    holder: IdempotencyHolder,
    locked_until: i64,
}

#[async_trait]
impl IdempotencyStore for SqliteStore {
    #[tracing::instrument(name = "sqlite.idempotency.claim", skip_all, fields(scope = %claim.scope), level = "debug")]
    async fn claim(
        &self,
        claim: &KeyClaim,
        fingerprint: &str,
        now: DateTime<Utc>,
        locked_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<Claim, RepositoryError> {
        // Both statements run under the write lock, so the record cannot change between
        // failing to take it and reading who holds it.
        let mut tx = self.begin_write().await?;
        // Insert a new record, or take over an expired one or an abandoned one (same
        // request, lock run out, no response) under this claim's token.
        let acquired: Option<i64> = sqlx::query_scalar(
            "INSERT INTO idempotency_keys
                 (scope, key, claim_token, fingerprint, locked_until, expires_at)
             VALUES (?1, ?2, ?7, ?3, ?5, ?6)
             ON CONFLICT (scope, key) DO UPDATE
             SET claim_token = excluded.claim_token,
                 fingerprint = excluded.fingerprint,
                 locked_until = excluded.locked_until,
                 expires_at = excluded.expires_at,
                 response_status = NULL,
                 response_headers = NULL,
                 response_body = NULL
             WHERE idempotency_keys.expires_at <= ?4
                OR (idempotency_keys.response_status IS NULL
                    AND idempotency_keys.locked_until <= ?4
                    AND idempotency_keys.fingerprint = excluded.fingerprint)
             RETURNING 1",
        )
        .bind(claim.scope.as_str())
        .bind(claim.key.as_str())
        .bind(fingerprint)
        .bind(to_micros(now))
        .bind(to_micros(locked_until))
        .bind(to_micros(expires_at))
        .bind(claim.token)
        .fetch_optional(&mut *tx)
        .await
        .map_err(translate)?;
        if acquired.is_some() {
            tx.commit().await.map_err(translate)?;
            return Ok(Claim::Acquired);
        }
        let row: Holder = sqlx::query_as(
            "SELECT fingerprint, locked_until, response_status, response_headers, response_body
             FROM idempotency_keys
             WHERE scope = ? AND key = ?",
        )
        .bind(claim.scope.as_str())
        .bind(claim.key.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(translate)?;
        // Nothing was written; dropping the transaction ends it.
        drop(tx);
        row.holder
            .claim(fingerprint, from_micros(row.locked_until)?)
    }

    #[tracing::instrument(name = "sqlite.idempotency.complete", skip_all, fields(scope = %claim.scope), level = "debug")]
    async fn complete(
        &self,
        claim: &KeyClaim,
        response: &StoredResponse,
    ) -> Result<(), RepositoryError> {
        // Nothing answered means the key is answered already or held by another claim;
        // either way the answer to replay is not this one.
        answer(self.writer(), claim, response).await.map(drop)
    }

    #[tracing::instrument(name = "sqlite.idempotency.release", skip_all, fields(scope = %claim.scope), level = "debug")]
    async fn release(&self, claim: &KeyClaim) -> Result<(), RepositoryError> {
        // A completed record stays: its response must keep replaying. Another claim's
        // record stays: its request is still running.
        sqlx::query(
            "DELETE FROM idempotency_keys
             WHERE scope = ? AND key = ? AND claim_token = ? AND response_status IS NULL",
        )
        .bind(claim.scope.as_str())
        .bind(claim.key.as_str())
        .bind(claim.token)
        .execute(self.writer())
        .await
        .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(name = "sqlite.idempotency.purge_expired", skip_all, level = "debug")]
    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let purged = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= ?")
            .bind(to_micros(now))
            .execute(self.writer())
            .await
            .map_err(translate)?;
        Ok(purged.rows_affected())
    }
}

/// Stores a receipt's answer on `conn`, a save's write transaction; see
/// [`SaveStatements::store_receipt`](sql_support::SaveStatements::store_receipt).
pub(crate) async fn store_receipt(
    conn: &mut SqliteConnection,
    receipt: &Receipt,
) -> Result<(), RepositoryError> {
    receipt_stored(answer(conn, &receipt.claim, &receipt.response).await?)
}

/// Stores `response` on the record `claim` holds, if it has no answer yet; true if it did.
async fn answer(
    executor: impl SqliteExecutor<'_>,
    claim: &KeyClaim,
    response: &StoredResponse,
) -> Result<bool, RepositoryError> {
    let headers = response_headers(response)?;
    let answered = sqlx::query(
        "UPDATE idempotency_keys
         SET response_status = ?4, response_headers = ?5, response_body = ?6
         WHERE scope = ?1 AND key = ?2 AND claim_token = ?3 AND response_status IS NULL",
    )
    .bind(claim.scope.as_str())
    .bind(claim.key.as_str())
    .bind(claim.token)
    .bind(i64::from(response.status))
    .bind(headers)
    .bind(&response.body)
    .execute(executor)
    .await
    .map_err(translate)?
    .rows_affected();
    Ok(answered == 1)
}
