//! The flat baseline on PostgreSQL: three handlers, their SQL inline.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{Executor, Row};
use uuid::Uuid;

use super::{ApprovalJson, EXPIRES_IN, Failure, NewApproval, NewDecision, bearer_hash, created};
use crate::Error;

/// hexagate's tables and indexes for what the baseline touches (its migrations 0001–0003).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS approvals (
    id uuid PRIMARY KEY, title text NOT NULL, description text NOT NULL,
    requester text NOT NULL, destination text NOT NULL, metadata jsonb NOT NULL,
    callback_url text, required_approvals smallint NOT NULL, allowed_approvers text[] NOT NULL,
    allow_self_approval boolean NOT NULL, status text NOT NULL, decisions jsonb NOT NULL,
    created_at timestamptz NOT NULL, expires_at timestamptz NOT NULL, resolved_at timestamptz,
    version bigint NOT NULL,
    CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
    CHECK ((status = 'pending') = (resolved_at IS NULL)),
    CHECK (version >= 1));
CREATE INDEX IF NOT EXISTS approvals_by_status ON approvals (status, id);
CREATE INDEX IF NOT EXISTS approvals_pending_by_expiry ON approvals (expires_at, id)
    WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, aggregate_type text NOT NULL,
    aggregate_id uuid NOT NULL, event_type text NOT NULL, payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending', attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL, locked_until timestamptz, last_error text,
    created_at timestamptz NOT NULL, finished_at timestamptz,
    CHECK (status IN ('pending', 'delivered', 'dead')),
    CHECK ((status = 'pending') = (finished_at IS NULL)));
CREATE INDEX IF NOT EXISTS outbox_pending_by_aggregate ON outbox (aggregate_id, id)
    WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS outbox_pending_by_due_time ON outbox (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS outbox_dead ON outbox (id) WHERE status = 'dead';
CREATE TABLE IF NOT EXISTS api_keys (
    name text PRIMARY KEY, hash text NOT NULL UNIQUE, created_at timestamptz NOT NULL);
";

/// The columns an answer shows, for `concat!` (sqlx takes only `'static` SQL unasserted).
macro_rules! columns {
    () => {
        "id, title, description, requester, destination, metadata, status, decisions, \
         created_at, expires_at, resolved_at, version"
    };
}

/// Opens the pool, creates the schema, stores `keys` (name, hash) and routes the handlers.
pub(super) async fn router(
    url: &str,
    max_connections: u32,
    keys: &[(String, String)],
) -> Result<Router, Error> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .connect(url)
        .await?;
    pool.execute(SCHEMA).await?;
    for (name, hash) in keys {
        sqlx::query(
            "INSERT INTO api_keys (name, hash, created_at) VALUES ($1, $2, now())
             ON CONFLICT (name) DO UPDATE SET hash = excluded.hash",
        )
        .bind(name)
        .bind(hash)
        .execute(&pool)
        .await?;
    }
    Ok(Router::new()
        .route("/v1/approvals", post(create))
        .route("/v1/approvals/{id}", get(fetch))
        .route("/v1/approvals/{id}/decisions", post(decide))
        .with_state(Arc::new(pool)))
}

async fn caller(pool: &PgPool, headers: &HeaderMap) -> Result<String, Failure> {
    sqlx::query_scalar("SELECT name FROM api_keys WHERE hash = $1")
        .bind(bearer_hash(headers)?)
        .fetch_optional(pool)
        .await?
        .ok_or(Failure::Unauthorized)
}

async fn create(
    State(pool): State<Arc<PgPool>>,
    headers: HeaderMap,
    Json(body): Json<NewApproval>,
) -> Result<Response, Failure> {
    let requester = caller(&pool, &headers).await?;
    body.check()?;
    let now = Utc::now();
    let approval = ApprovalJson {
        id: Uuid::now_v7(),
        title: &body.title,
        description: body.description.as_deref().unwrap_or_default(),
        requester: &requester,
        destination: &body.destination,
        metadata: Value::Object(body.metadata.clone().unwrap_or_default()),
        status: "pending",
        decisions: json!([]),
        created_at: now,
        expires_at: now + EXPIRES_IN,
        resolved_at: None,
        version: 1,
    };
    let (id, metadata) = (approval.id, approval.metadata.clone());
    let approval = approval.into_value();

    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO approvals (id, title, description, requester, destination, metadata,
             callback_url, required_approvals, allowed_approvers, allow_self_approval, status,
             decisions, created_at, expires_at, resolved_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, NULL, 1, '{}', false, 'pending', '[]', $7, $8, NULL, 1)",
    )
    .bind(id)
    .bind(&body.title)
    .bind(body.description.as_deref().unwrap_or_default())
    .bind(&requester)
    .bind(&body.destination)
    .bind(metadata)
    .bind(now)
    .bind(now + EXPIRES_IN)
    .execute(&mut *tx)
    .await?;
    insert_outbox(&mut tx, id, "approval_requested", &approval, now).await?;
    tx.commit().await?;
    Ok(created(approval))
}

async fn fetch(
    State(pool): State<Arc<PgPool>>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Result<Response, Failure> {
    caller(&pool, &headers).await?;
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM approvals WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&*pool)
    .await?
    .ok_or(Failure::NotFound)?;
    Ok(Json(approval_json(&row)?).into_response())
}

async fn decide(
    State(pool): State<Arc<PgPool>>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Json(body): Json<NewDecision>,
) -> Result<Response, Failure> {
    let approver = caller(&pool, &headers).await?;
    let status = body.status()?;
    let now = Utc::now();
    let decision = json!({
        "approver": approver, "verdict": body.verdict, "comment": body.comment, "decided_at": now,
    });
    // One statement checks and changes: still pending, not the requester's own.
    let mut tx = pool.begin().await?;
    let row = sqlx::query(concat!(
        "UPDATE approvals
         SET status = $2, decisions = decisions || jsonb_build_array($3::jsonb),
             resolved_at = $4, version = version + 1
         WHERE id = $1 AND status = 'pending' AND requester <> $5
         RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(status)
    .bind(&decision)
    .bind(now)
    .bind(&approver)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Failure::Conflict)?;
    let approval = approval_json(&row)?;
    insert_outbox(&mut tx, id, "approval_decided", &approval, now).await?;
    tx.commit().await?;
    Ok(Json(approval).into_response())
}

async fn insert_outbox(
    tx: &mut sqlx::PgConnection,
    id: Uuid,
    event_type: &str,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    sqlx::query(
        "INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload,
                             next_attempt_at, created_at)
         VALUES ('approval', $1, $2, $3, $4, $4)",
    )
    .bind(id)
    .bind(event_type)
    .bind(payload)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(())
}

fn approval_json(row: &PgRow) -> Result<Value, sqlx::Error> {
    Ok(ApprovalJson {
        id: row.try_get("id")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        requester: row.try_get("requester")?,
        destination: row.try_get("destination")?,
        metadata: row.try_get("metadata")?,
        status: row.try_get("status")?,
        decisions: row.try_get("decisions")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        resolved_at: row.try_get("resolved_at")?,
        version: row.try_get("version")?,
    }
    .into_value())
}
