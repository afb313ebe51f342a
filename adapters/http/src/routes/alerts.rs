//! `/v1/alerts`: raise, read, acknowledge, resolve.
//!
//! Each handler's `#[utoipa::path]` is its OpenAPI entry, and the `…Problems` type after it
//! lists the problem types it can answer with beyond those of every `/v1` route. Write
//! handlers define their answer once, as in `approvals.rs`.

mod dto;
mod errors;

use std::sync::Arc;

use application::use_cases::{AlertAction, Raised};
use axum::Json;
use axum::extract::State;
use domain::{Alert, AlertId, Identity, TransitionOutcome};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::extract::{JsonBody, PathId, PathIdentifier};
use crate::idempotency::HeldKey;
use crate::openapi::{IdempotencyKeyHeader, V1, V1_POST, problems};
use crate::problem::{Problem, ProblemType};
use crate::reply::Reply;
use crate::state::AppState;

use dto::{AlertResponse, RaiseAlertBody, RaisedAlertResponse};
pub(crate) use errors::PROBLEM_TYPES;
use errors::{ALERT_NOT_FOUND, ALERT_RESOLVED};

/// The routes of alerts, with their tag in the OpenAPI document.
pub(super) fn routes() -> OpenApiRouter<Arc<AppState>> {
    #[derive(OpenApi)]
    #[openapi(tags((
        name = "alerts",
        description = "Tell people something is wrong, once per problem; acknowledge and resolve it."
    )))]
    struct Tag;

    OpenApiRouter::with_openapi(Tag::openapi())
        .routes(routes!(raise))
        .routes(routes!(get))
        .routes(routes!(acknowledge))
        .routes(routes!(resolve))
}

impl PathIdentifier for AlertId {
    const WHAT: &'static str = "the alert id";

    fn from_uuid(id: Uuid) -> Self {
        Self::from_uuid(id)
    }
}

/// Raise an alert, or count a repeat of the unresolved one with the same dedup key.
///
/// A new alert is posted to its chat destination and answered with 201 and a `Location`
/// header; the caller becomes its `raised_by`. A repeat takes the latest severity, summary
/// and details, updates the alert's chat message, and is answered with 200; `outcome` says
/// which happened. A retry without an `Idempotency-Key` counts as one more repeat.
#[utoipa::path(
    post,
    path = "/v1/alerts",
    tag = "alerts",
    operation_id = "raise_alert",
    security(("api_key" = [])),
    params(IdempotencyKeyHeader),
    request_body = RaiseAlertBody,
    responses(
        (
            status = CREATED,
            description = "A new alert is open and its chat message is on its way",
            body = RaisedAlertResponse,
            headers(("Location" = String, description = "Where the alert can be fetched")),
        ),
        (
            status = OK,
            description = "An unresolved alert with this dedup key counted a repeat; its chat \
                           message is being updated",
            body = RaisedAlertResponse,
        ),
        RaiseProblems,
    ),
)]
pub(super) async fn raise(
    State(app): State<Arc<AppState>>,
    Authenticated(raised_by): Authenticated,
    held: HeldKey,
    JsonBody(body): JsonBody<RaiseAlertBody>,
) -> Result<Reply, Problem> {
    let reply = |(alert, raised): &(Alert, Raised)| {
        let body = RaisedAlertResponse::new(alert, *raised);
        match raised {
            Raised::Opened => {
                Reply::created(app.location(&format!("/v1/alerts/{}", alert.id())), &body)
            }
            Raised::Repeated { .. } => Reply::ok(&body),
        }
    };
    let result = app
        .use_cases
        .raise_alert
        .execute(
            raised_by,
            body.into(),
            held.answer(&|result: &(Alert, Raised)| reply(result).stored()),
        )
        .await?;
    Ok(reply(&result))
}

problems!(
    RaiseProblems,
    [
        V1,
        V1_POST,
        &[
            ProblemType::MALFORMED_BODY,
            ProblemType::UNSUPPORTED_MEDIA_TYPE,
            ProblemType::VALIDATION,
            ProblemType::PLATFORM_NOT_CONNECTED,
            ProblemType::CONCURRENT_UPDATE,
        ],
    ]
);

/// Fetch one alert.
#[utoipa::path(
    get,
    path = "/v1/alerts/{id}",
    tag = "alerts",
    operation_id = "get_alert",
    security(("api_key" = [])),
    params(("id" = uuid::Uuid, Path, description = "The alert's id")),
    responses((status = OK, description = "The alert", body = AlertResponse), GetProblems),
)]
pub(super) async fn get(
    State(app): State<Arc<AppState>>,
    _: Authenticated,
    PathId(id): PathId<AlertId>,
) -> Result<Json<AlertResponse>, Problem> {
    let alert = app.use_cases.get_alert.execute(id).await?;
    Ok(Json(AlertResponse::from(&alert)))
}

problems!(
    GetProblems,
    [V1, &[ProblemType::INVALID_PATH, ALERT_NOT_FOUND]]
);

/// Take ownership of an alert: the caller is recorded as `acknowledged_by`.
///
/// Acknowledging an acknowledged alert is a harmless 200 that changes nothing; a resolved
/// alert can no longer be acknowledged.
#[utoipa::path(
    post,
    path = "/v1/alerts/{id}/acknowledge",
    tag = "alerts",
    operation_id = "acknowledge_alert",
    security(("api_key" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "The alert's id"),
        IdempotencyKeyHeader,
    ),
    responses(
        (status = OK, description = "The alert is acknowledged", body = AlertResponse),
        AcknowledgeProblems,
    ),
)]
pub(super) async fn acknowledge(
    State(app): State<Arc<AppState>>,
    Authenticated(by): Authenticated,
    held: HeldKey,
    PathId(id): PathId<AlertId>,
) -> Result<Reply, Problem> {
    settle(&app, &held, id, AlertAction::Acknowledge, by).await
}

problems!(
    AcknowledgeProblems,
    [
        V1,
        V1_POST,
        &[
            ProblemType::INVALID_PATH,
            ALERT_NOT_FOUND,
            ALERT_RESOLVED,
            ProblemType::CONCURRENT_UPDATE,
        ],
    ]
);

/// Mark an alert's problem as gone: the caller is recorded as `resolved_by`, and the next
/// raise of its dedup key opens a new alert.
///
/// Resolving a resolved alert is a harmless 200 that changes nothing.
#[utoipa::path(
    post,
    path = "/v1/alerts/{id}/resolve",
    tag = "alerts",
    operation_id = "resolve_alert",
    security(("api_key" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "The alert's id"),
        IdempotencyKeyHeader,
    ),
    responses(
        (status = OK, description = "The alert is resolved", body = AlertResponse),
        ResolveProblems,
    ),
)]
pub(super) async fn resolve(
    State(app): State<Arc<AppState>>,
    Authenticated(by): Authenticated,
    held: HeldKey,
    PathId(id): PathId<AlertId>,
) -> Result<Reply, Problem> {
    settle(&app, &held, id, AlertAction::Resolve, by).await
}

problems!(
    ResolveProblems,
    [
        V1,
        V1_POST,
        &[
            ProblemType::INVALID_PATH,
            ALERT_NOT_FOUND,
            ProblemType::CONCURRENT_UPDATE,
        ],
    ]
);

/// Both settling routes answer the alert as it now is, changed or not: a repeat is a
/// success, so a client may retry without an `Idempotency-Key`.
async fn settle(
    app: &AppState,
    held: &HeldKey,
    id: AlertId,
    action: AlertAction,
    by: Identity,
) -> Result<Reply, Problem> {
    let reply = |(alert, _): &(Alert, TransitionOutcome)| Reply::ok(&AlertResponse::from(alert));
    let result = app
        .use_cases
        .settle_alert
        .execute(
            id,
            action,
            by,
            held.answer(&|result: &(Alert, TransitionOutcome)| reply(result).stored()),
        )
        .await?;
    Ok(reply(&result))
}
