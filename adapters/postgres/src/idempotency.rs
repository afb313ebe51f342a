//! `IdempotencyStore` on PostgreSQL: one row per (client, key), claimed with one upsert, and
//! the receipt a save writes inside its own transaction.

use application::ports::{
    Claim, IdempotencyStore, KeyClaim, Receipt, RepositoryError, StoredResponse,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sql_support::{IdempotencyHolder, receipt_stored, response_headers};
use sqlx::{PgConnection, PgExecutor};

use crate::PostgresStore;
use crate::errors::translate;

/// How often a claim looks again when the record that blocked it vanished before it could be
/// read (released or purged meanwhile). Losing that race three times in a row means the key
/// is hotly contested, and "in flight" is the honest answer.
const CLAIM_ATTEMPTS: usize = 3;

#[async_trait]
impl IdempotencyStore for PostgresStore {
    #[tracing::instrument(name = "postgres.idempotency.claim", skip_all, fields(scope = %claim.scope), level = "debug")]
    async fn claim(
        &self,
        claim: &KeyClaim,
        fingerprint: &str,
        now: DateTime<Utc>,
        locked_until: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<Claim, RepositoryError> {
        for _ in 0..CLAIM_ATTEMPTS {
            // Insert a new record, or take over an expired one or an abandoned one (same
            // request, lock run out, no response) under this claim's token. `ON CONFLICT`
            // makes it atomic: of two concurrent claims of a new key, the second waits for
            // the first's row, re-checks the `WHERE` against it, finds it held, and returns
            // no row.
            let acquired = sqlx::query_scalar!(
                r#"INSERT INTO idempotency_keys
                       (scope, key, claim_token, fingerprint, locked_until, expires_at)
                   VALUES ($1, $2, $7, $3, $5, $6)
                   ON CONFLICT (scope, key) DO UPDATE
                   SET claim_token = excluded.claim_token,
                       fingerprint = excluded.fingerprint,
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
                claim.scope.as_str(),
                claim.key.as_str(),
                fingerprint,
                now,
                locked_until,
                expires_at,
                claim.token,
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
                "SELECT fingerprint, locked_until, response_status, response_headers, response_body
                 FROM idempotency_keys
                 WHERE scope = $1 AND key = $2",
                claim.scope.as_str(),
                claim.key.as_str(),
            )
            .fetch_optional(&self.pool)
            .await
            .map_err(translate)?;
            // No record: it was released or purged after blocking us, so try again.
            if let Some(row) = holder {
                let holder = IdempotencyHolder {
                    fingerprint: row.fingerprint,
                    response_status: row.response_status,
                    response_headers: row.response_headers,
                    response_body: row.response_body,
                };
                return holder.claim(fingerprint, row.locked_until);
            }
        }
        Ok(Claim::InFlight { locked_until })
    }

    #[tracing::instrument(name = "postgres.idempotency.complete", skip_all, fields(scope = %claim.scope), level = "debug")]
    async fn complete(
        &self,
        claim: &KeyClaim,
        response: &StoredResponse,
    ) -> Result<(), RepositoryError> {
        // Nothing answered means the key is answered already or held by another claim;
        // either way the answer to replay is not this one.
        answer(&self.pool, claim, response).await.map(drop)
    }

    #[tracing::instrument(name = "postgres.idempotency.release", skip_all, fields(scope = %claim.scope), level = "debug")]
    async fn release(&self, claim: &KeyClaim) -> Result<(), RepositoryError> {
        // A completed record stays: its response must keep replaying. Another claim's
        // record stays: its request is still running.
        sqlx::query!(
            "DELETE FROM idempotency_keys
             WHERE scope = $1 AND key = $2 AND claim_token = $3 AND response_status IS NULL",
            claim.scope.as_str(),
            claim.key.as_str(),
            claim.token,
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

/// Stores a receipt's answer on `conn`, a save's transaction; see
/// [`SaveStatements::store_receipt`](sql_support::SaveStatements::store_receipt).
///
/// Going first makes the key's row the first lock the save's transaction takes. Every other
/// statement that writes such rows (claims, `complete`, `release`, the purge) locks no other
/// table, so none can deadlock with a save.
pub(crate) async fn store_receipt(
    conn: &mut PgConnection,
    receipt: &Receipt,
) -> Result<(), RepositoryError> {
    receipt_stored(answer(conn, &receipt.claim, &receipt.response).await?)
}

/// Stores `response` on the record `claim` holds, if it has no answer yet; true if it did.
/// Under READ COMMITTED a concurrent takeover of the row makes this statement wait, then
/// re-check the token against the new row version and update nothing.
async fn answer(
    executor: impl PgExecutor<'_>,
    claim: &KeyClaim,
    response: &StoredResponse,
) -> Result<bool, RepositoryError> {
    let headers = response_headers(response)?;
    let answered = sqlx::query!(
        "UPDATE idempotency_keys
         SET response_status = $4, response_headers = $5, response_body = $6
         WHERE scope = $1 AND key = $2 AND claim_token = $3 AND response_status IS NULL",
        claim.scope.as_str(),
        claim.key.as_str(),
        claim.token,
        i32::from(response.status),
        headers,
        response.body,
    )
    .execute(executor)
    .await
    .map_err(translate)?
    .rows_affected();
    Ok(answered == 1)
}
