//! The flat baseline on SQLite: the same three handlers, in SQLite's types (ids as 16-byte
//! blobs, times as microseconds, JSON as text) and with hexagate's connection settings: WAL,
//! a 5 s busy timeout, four connections, writes in `BEGIN IMMEDIATE` transactions.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Executor, Row};
use uuid::Uuid;

use super::{ApprovalJson, EXPIRES_IN, Failure, NewApproval, NewDecision, bearer_hash, created};
use crate::Error;

/// hexagate's SQLite tables and indexes for what the baseline touches (migrations 0001–0003).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS approvals (
    id BLOB NOT NULL PRIMARY KEY, title TEXT NOT NULL, description TEXT NOT NULL,
    requester TEXT NOT NULL, destination TEXT NOT NULL, metadata TEXT NOT NULL,
    callback_url TEXT, required_approvals INTEGER NOT NULL, allowed_approvers TEXT NOT NULL,
    allow_self_approval INTEGER NOT NULL, status TEXT NOT NULL, decisions TEXT NOT NULL,
    created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, resolved_at INTEGER,
    version INTEGER NOT NULL,
    CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
    CHECK ((status = 'pending') = (resolved_at IS NULL)),
    CHECK (version >= 1),
    CHECK (allow_self_approval IN (0, 1))) STRICT;
CREATE INDEX IF NOT EXISTS approvals_by_status ON approvals (status, id);
CREATE INDEX IF NOT EXISTS approvals_pending_by_expiry ON approvals (expires_at, id)
    WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, aggregate_type TEXT NOT NULL,
    aggregate_id BLOB NOT NULL, event_type TEXT NOT NULL, payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL, locked_until INTEGER, last_error TEXT,
    created_at INTEGER NOT NULL, finished_at INTEGER,
    CHECK (status IN ('pending', 'delivered', 'dead')),
    CHECK ((status = 'pending') = (finished_at IS NULL))) STRICT;
CREATE INDEX IF NOT EXISTS outbox_pending_by_aggregate ON outbox (aggregate_id, id)
    WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS outbox_pending_by_due_time ON outbox (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS outbox_dead ON outbox (id) WHERE status = 'dead';
CREATE TABLE IF NOT EXISTS api_keys (
    name TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL) STRICT;
";

/// The columns an answer shows, for `concat!` (sqlx takes only `'static` SQL unasserted).
macro_rules! columns {
    () => {
        "id, title, description, requester, destination, metadata, status, decisions, \
         created_at, expires_at, resolved_at, version"
    };
}

/// Opens the file, creates the schema, stores `keys` (name, hash) and routes the handlers.
pub(super) async fn router(url: &str, keys: &[(String, String)]) -> Result<Router, Error> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        .journal_mode(SqliteJournalMode::Wal);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await?;
    pool.execute(SCHEMA).await?;
    for (name, hash) in keys {
        sqlx::query("INSERT OR REPLACE INTO api_keys (name, hash, created_at) VALUES (?, ?, ?)")
            .bind(name)
            .bind(hash)
            .bind(Utc::now().timestamp_micros())
            .execute(&pool)
            .await?;
    }
    Ok(Router::new()
        .route("/v1/approvals", post(create))
        .route("/v1/approvals/{id}", get(fetch))
        .route("/v1/approvals/{id}/decisions", post(decide))
        .with_state(Arc::new(pool)))
}

async fn caller(pool: &SqlitePool, headers: &HeaderMap) -> Result<String, Failure> {
    sqlx::query_scalar("SELECT name FROM api_keys WHERE hash = ?")
        .bind(bearer_hash(headers)?)
        .fetch_optional(pool)
        .await?
        .ok_or(Failure::Unauthorized)
}

async fn create(
    State(pool): State<Arc<SqlitePool>>,
    headers: HeaderMap,
    Json(body): Json<NewApproval>,
) -> Result<Response, Failure> {
    let requester = caller(&pool, &headers).await?;
    body.check()?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    let metadata = Value::Object(body.metadata.clone().unwrap_or_default());
    let approval = ApprovalJson {
        id,
        title: &body.title,
        description: body.description.as_deref().unwrap_or_default(),
        requester: &requester,
        destination: &body.destination,
        metadata: metadata.clone(),
        status: "pending",
        decisions: json!([]),
        created_at: now,
        expires_at: now + EXPIRES_IN,
        resolved_at: None,
        version: 1,
    }
    .into_value();

    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "INSERT INTO approvals (id, title, description, requester, destination, metadata,
             callback_url, required_approvals, allowed_approvers, allow_self_approval, status,
             decisions, created_at, expires_at, resolved_at, version)
         VALUES (?, ?, ?, ?, ?, ?, NULL, 1, '[]', 0, 'pending', '[]', ?, ?, NULL, 1)",
    )
    .bind(id.as_bytes().as_slice())
    .bind(&body.title)
    .bind(body.description.as_deref().unwrap_or_default())
    .bind(&requester)
    .bind(&body.destination)
    .bind(metadata.to_string())
    .bind(now.timestamp_micros())
    .bind((now + EXPIRES_IN).timestamp_micros())
    .execute(&mut *tx)
    .await?;
    insert_outbox(&mut tx, id, "approval_requested", &approval, now).await?;
    tx.commit().await?;
    Ok(created(approval))
}

async fn fetch(
    State(pool): State<Arc<SqlitePool>>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Result<Response, Failure> {
    caller(&pool, &headers).await?;
    let row = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM approvals WHERE id = ?"
    ))
    .bind(id.as_bytes().as_slice())
    .fetch_optional(&*pool)
    .await?
    .ok_or(Failure::NotFound)?;
    Ok(Json(approval_json(&row)?).into_response())
}

async fn decide(
    State(pool): State<Arc<SqlitePool>>,
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
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let row = sqlx::query(concat!(
        "UPDATE approvals
         SET status = ?2, decisions = json_insert(decisions, '$[#]', json(?3)),
             resolved_at = ?4, version = version + 1
         WHERE id = ?1 AND status = 'pending' AND requester <> ?5
         RETURNING ",
        columns!()
    ))
    .bind(id.as_bytes().as_slice())
    .bind(status)
    .bind(decision.to_string())
    .bind(now.timestamp_micros())
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
    tx: &mut SqliteConnection,
    id: Uuid,
    event_type: &str,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    sqlx::query(
        "INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload,
                             next_attempt_at, created_at)
         VALUES ('approval', ?1, ?2, ?3, ?4, ?4)",
    )
    .bind(id.as_bytes().as_slice())
    .bind(event_type)
    .bind(payload.to_string())
    .bind(now.timestamp_micros())
    .execute(tx)
    .await?;
    Ok(())
}

fn approval_json(row: &SqliteRow) -> Result<Value, sqlx::Error> {
    let decode = |column: &str, error: String| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: error.into(),
    };
    let time = |column: &str| -> Result<DateTime<Utc>, sqlx::Error> {
        let micros: i64 = row.try_get(column)?;
        DateTime::from_timestamp_micros(micros)
            .ok_or_else(|| decode(column, format!("{micros} µs is out of range")))
    };
    let json_text = |column: &str| -> Result<Value, sqlx::Error> {
        let text: &str = row.try_get(column)?;
        serde_json::from_str(text).map_err(|e| decode(column, e.to_string()))
    };
    let id: &[u8] = row.try_get("id")?;
    let resolved_at: Option<i64> = row.try_get("resolved_at")?;
    Ok(ApprovalJson {
        id: Uuid::from_slice(id).map_err(|e| decode("id", e.to_string()))?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        requester: row.try_get("requester")?,
        destination: row.try_get("destination")?,
        metadata: json_text("metadata")?,
        status: row.try_get("status")?,
        decisions: json_text("decisions")?,
        created_at: time("created_at")?,
        expires_at: time("expires_at")?,
        resolved_at: match resolved_at {
            Some(_) => Some(time("resolved_at")?),
            None => None,
        },
        version: row.try_get("version")?,
    }
    .into_value())
}
