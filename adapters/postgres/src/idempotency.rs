//! `IdempotencyStore` on PostgreSQL: one row per (client, key), claimed with one upsert.

use application::ports::{
    Claim, IdempotencyKey, IdempotencyStore, RepositoryError, StoredResponse,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::Identity;

use crate::PostgresStore;
use crate::errors::{corrupt, translate};

/// How often a claim looks again when the record that blocked it vanished before it could be
/// read (released or purged meanwhile). Losing that race three times in a row means the key
/// is hotly contested, and "in flight" is the honest answer.
const CLAIM_ATTEMPTS: usize = 3;

#[async_trait]
impl IdempotencyStore for PostgresStore {
    #[tracing::instrument(name = "postgres.idempotency.claim", skip_all, fields(scope = %scope), level = "debug")]
    async fn claim(
        &self,
        scope: &Identity,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: DateTime<Utc>,
        locked_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<Claim, RepositoryError> {
        for _ in 0..CLAIM_ATTEMPTS {
            // Insert a new record, or take over an expired one or an abandoned one (same
            // request, lock run out, no response). `ON CONFLICT` makes it atomic: of two
            // concurrent claims of a new key, the second waits for the first's row, re-checks
            // the `WHERE` against it, finds it held, and returns no row.
            let acquired = sqlx::query_scalar!(
                r#"INSERT INTO idempotency_keys (scope, key, fingerprint, locked_until, expires_at)
                   VALUES ($1, $2, $3, $5, $6)
                   ON CONFLICT (scope, key) DO UPDATE
                   SET fingerprint = excluded.fingerprint,
                       locked_until = excluded.locked_until,
                       expires_at = excluded.expires_at,
                       response_status = NULL,
                       response_headers = NULL,
                       response_body = NULL
                   WHERE idempotency_keys.expires_at <= $4
                      OR (idempotency_keys.response_status IS NULL
                          AND idempotency_keys.locked_until <= $4
                          AND idempotency_keys.fingerprint = excluded.fingerprint)
                   RETURNING true AS "acquired!""#,
                scope.as_str(),
                key.as_str(),
                fingerprint,
                now,
                locked_until,
                expires_at,
            )
            .fetch_optional(&self.pool)
            .await
            .map_err(translate)?;
            if acquired.is_some() {
                return Ok(Claim::Acquired);
            }
            // Someone else holds the key: read what they hold, in a fresh snapshot that sees
            // the row that blocked us.
            let holder = sqlx::query!(
                "SELECT fingerprint, response_status, response_headers, response_body
                 FROM idempotency_keys
                 WHERE scope = $1 AND key = $2",
                scope.as_str(),
                key.as_str(),
            )
            .fetch_optional(&self.pool)
            .await
            .map_err(translate)?;
            let Some(holder) = holder else {
                continue;
            };
            if holder.fingerprint != fingerprint {
                return Ok(Claim::Mismatch);
            }
            return match (
                holder.response_status,
                holder.response_headers,
                holder.response_body,
            ) {
                (Some(status), Some(headers), Some(body)) => {
                    Ok(Claim::Completed(stored_response(status, headers, body)?))
                }
                _ => Ok(Claim::InFlight),
            };
        }
        Ok(Claim::InFlight)
    }

    #[tracing::instrument(name = "postgres.idempotency.complete", skip_all, fields(scope = %scope), level = "debug")]
    async fn complete(
        &self,
        scope: &Identity,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> Result<(), RepositoryError> {
        let headers = serde_json::to_value(&response.headers)
            .map_err(|e| corrupt("serializing response headers", e))?;
        sqlx::query!(
            "UPDATE idempotency_keys
             SET response_status = $3, response_headers = $4, response_body = $5
             WHERE scope = $1 AND key = $2",
            scope.as_str(),
            key.as_str(),
            i32::from(response.status),
            headers,
            response.body,
        )
        .execute(&self.pool)
        .await
        .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(name = "postgres.idempotency.release", skip_all, fields(scope = %scope), level = "debug")]
    async fn release(&self, scope: &Identity, key: &IdempotencyKey) -> Result<(), RepositoryError> {
        // A completed record stays: its response must keep replaying.
        sqlx::query!(
            "DELETE FROM idempotency_keys
             WHERE scope = $1 AND key = $2 AND response_status IS NULL",
            scope.as_str(),
            key.as_str(),
        )
        .execute(&self.pool)
        .await
        .map_err(translate)?;
        Ok(())
    }

    #[tracing::instrument(name = "postgres.idempotency.purge_expired", skip_all, level = "debug")]
    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, RepositoryError> {
        let purged = sqlx::query!("DELETE FROM idempotency_keys WHERE expires_at <= $1", now)
            .execute(&self.pool)
            .await
            .map_err(translate)?;
        Ok(purged.rows_affected())
    }
}

/// Rebuilds a stored response from its columns.
fn stored_response(
    status: i32,
    headers: serde_json::Value,
    body: Vec<u8>,
) -> Result<StoredResponse, RepositoryError> {
    Ok(StoredResponse {
        status: u16::try_from(status).map_err(|e| corrupt("stored response status", e))?,
        headers: serde_json::from_value(headers)
            .map_err(|e| corrupt("stored response headers", e))?,
        body,
    })
}
