//! The flat baseline: hexagate's create, get and decide written the way one would without the
//! hexagon — a handler per route with its SQL inline, no ports, no domain types, no
//! middleware stack. It is what the benchmark divides by, so it does the same *work* as
//! hexagate for each request, and deliberately nothing more:
//!
//! * it authenticates every request by looking up the SHA-256 of its bearer key, as hexagate
//!   does;
//! * a create inserts the full approval row and one outbox row in one transaction, into the
//!   same tables with the same indexes (the schemas in [`postgres`] and [`sqlite`] copy
//!   hexagate's migrations, comments aside);
//! * a decide updates the row and inserts an outbox row in one transaction;
//! * answers carry the same JSON fields.
//!
//! What it leaves out is what the comparison is about: validation beyond "present and not
//! too long", problem+json errors, idempotency, request ids, tracing, metrics, timeouts and
//! the in-flight limit. Queries are runtime-checked `sqlx::query` strings, as a first
//! version of a service usually has them.

mod postgres;
mod sqlite;

use axum::Json;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

use crate::Error;

/// Where the flat service listens, what it stores in, and the API keys it accepts.
#[derive(Debug, clap::Args)]
pub struct FlatArgs {
    /// `postgres://…` or `sqlite:PATH`; the schema is created when missing.
    #[arg(long)]
    pub database_url: String,
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub addr: String,
    /// An accepted API key as `NAME=KEY`; repeat for several. Stored hashed, like hexagate's.
    #[arg(long = "api-key", value_name = "NAME=KEY")]
    pub api_keys: Vec<String>,
    /// Size of the connection pool (hexagate's default is 10).
    #[arg(long, default_value_t = 10)]
    pub max_connections: u32,
}

/// Creates the schema, stores the API keys and serves until the process is killed.
///
/// # Errors
/// When the database cannot be opened or prepared, a key is malformed, or the address is
/// taken.
pub async fn serve(args: FlatArgs) -> Result<(), Error> {
    let keys = args
        .api_keys
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(name, key)| (name.to_owned(), key_hash(key)))
                .ok_or_else(|| format!("--api-key {pair:?} is not NAME=KEY"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let router = if args.database_url.starts_with("sqlite:") {
        sqlite::router(&args.database_url, &keys).await?
    } else {
        postgres::router(&args.database_url, args.max_connections, &keys).await?
    };
    let listener = TcpListener::bind(&args.addr).await?;
    axum::serve(listener, router).await?;
    Ok(())
}

/// The body of `POST /v1/approvals`, reduced to what the baseline stores.
#[derive(Debug, serde::Deserialize)]
struct NewApproval {
    title: String,
    description: Option<String>,
    destination: String,
    metadata: Option<serde_json::Map<String, Value>>,
}

impl NewApproval {
    /// The checks a first version has: present and not too long.
    fn check(&self) -> Result<(), Failure> {
        let fits = |text: &str, max: usize| !text.trim().is_empty() && text.chars().count() <= max;
        if fits(&self.title, 200) && fits(&self.destination, 200) {
            Ok(())
        } else {
            Err(Failure::Invalid)
        }
    }
}

/// The body of `POST /v1/approvals/{id}/decisions`.
#[derive(Debug, serde::Deserialize)]
struct NewDecision {
    verdict: String,
    comment: Option<String>,
}

impl NewDecision {
    /// The status the request moves to, or `Invalid` for an unknown verdict.
    fn status(&self) -> Result<&'static str, Failure> {
        match self.verdict.as_str() {
            "approve" => Ok("approved"),
            "reject" => Ok("rejected"),
            _ => Err(Failure::Invalid),
        }
    }
}

/// Everything a flat handler can answer besides success.
#[derive(Debug)]
enum Failure {
    Unauthorized,
    NotFound,
    /// Not pending any more, or decided by its own requester.
    Conflict,
    Invalid,
    Database(sqlx::Error),
}

impl From<sqlx::Error> for Failure {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict => StatusCode::CONFLICT,
            Self::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Database(error) => {
                eprintln!("flat: database error: {error}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        status.into_response()
    }
}

/// Hex SHA-256 of an API key: the form hexagate stores, so the lookup costs the same.
fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The hash of the request's bearer key, for the lookup.
fn bearer_hash(headers: &HeaderMap) -> Result<String, Failure> {
    headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(key_hash)
        .ok_or(Failure::Unauthorized)
}

/// One approval as hexagate's API shows it, from its stored columns.
struct ApprovalJson<'a> {
    id: uuid::Uuid,
    title: &'a str,
    description: &'a str,
    requester: &'a str,
    destination: &'a str,
    metadata: Value,
    status: &'a str,
    decisions: Value,
    created_at: chrono::DateTime<chrono::Utc>,
    expires_at: chrono::DateTime<chrono::Utc>,
    resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    version: i64,
}

impl ApprovalJson<'_> {
    fn into_value(self) -> Value {
        json!({
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "requester": self.requester,
            "destination": self.destination,
            "metadata": self.metadata,
            "callback_url": null,
            "policy": {"required_approvals": 1, "allowed_approvers": [], "allow_self_approval": false},
            "status": self.status,
            "decisions": self.decisions,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "resolved_at": self.resolved_at,
            "version": self.version,
        })
    }
}

/// `201` with the new approval and where to fetch it.
fn created(approval: Value) -> Response {
    let location = format!(
        "/v1/approvals/{}",
        approval["id"].as_str().unwrap_or_default()
    );
    (
        StatusCode::CREATED,
        [(axum::http::header::LOCATION, location)],
        Json(approval),
    )
        .into_response()
}

/// How long a new request stays open: hexagate's default.
const EXPIRES_IN: chrono::Duration = chrono::Duration::hours(24);
