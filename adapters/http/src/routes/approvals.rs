//! `/v1/approvals`: create, read (or wait for the outcome: `?wait=`), list, decide, cancel.
//!
//! Each handler's `#[utoipa::path]` is its OpenAPI entry, and the `…Problems` type after it
//! lists the problem types it can answer with beyond those of every `/v1` route.
//!
//! A write handler defines its success answer once, as a `reply` closure over the use
//! case's result: the use case saves it with the change when the request holds an
//! `Idempotency-Key` (`held.answer`), and the handler sends it.

mod dto;
mod errors;

use std::sync::Arc;

use application::use_cases::{DecideInput, Decided, ListApprovalsInput};
use axum::Json;
use axum::extract::State;
use domain::{ApprovalId, ApprovalRequest};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::cursor;
use crate::extract::{JsonBody, PathId, PathIdentifier, QueryParams};
use crate::idempotency::HeldKey;
use crate::long_poll;
use crate::openapi::{IdempotencyKeyHeader, V1, V1_POST, problems};
use crate::problem::{Problem, ProblemType};
use crate::reply::Reply;
use crate::state::AppState;

use dto::{
    ApprovalPageResponse, ApprovalResponse, CreateApprovalBody, DecisionBody, GetParams, ListParams,
};
pub(crate) use errors::PROBLEM_TYPES;
use errors::{
    APPROVAL_EXPIRED, APPROVAL_NOT_FOUND, APPROVER_NOT_ALLOWED, CALLBACK_URL_REFUSED,
    CONFLICTING_VERDICT, INVALID_WAIT, NOT_PENDING, NOT_REQUESTER, SELF_APPROVAL,
};

/// The routes of approval requests, with their tag in the OpenAPI document.
pub(super) fn routes() -> OpenApiRouter<Arc<AppState>> {
    #[derive(OpenApi)]
    #[openapi(tags((
        name = "approvals",
        description = "Ask for a decision, follow it, take part in it."
    )))]
    struct Tag;

    OpenApiRouter::with_openapi(Tag::openapi())
        .routes(routes!(create, list))
        .routes(routes!(get))
        .routes(routes!(decide))
        .routes(routes!(cancel))
}

impl PathIdentifier for ApprovalId {
    const WHAT: &'static str = "the approval id";

    fn from_uuid(id: Uuid) -> Self {
        Self::from_uuid(id)
    }
}

/// Ask for a decision: opens an approval request and posts it to its chat destination.
///
/// The caller becomes the requester. Answers 201 with a `Location` header.
#[utoipa::path(
    post,
    path = "/v1/approvals",
    tag = "approvals",
    operation_id = "create_approval",
    security(("api_key" = [])),
    params(IdempotencyKeyHeader),
    request_body = CreateApprovalBody,
    responses(
        (
            status = CREATED,
            description = "The request is open and its chat message is on its way",
            body = ApprovalResponse,
            headers(("Location" = String, description = "Where the request can be fetched")),
        ),
        CreateProblems,
    ),
)]
pub(super) async fn create(
    State(app): State<Arc<AppState>>,
    Authenticated(requester): Authenticated,
    held: HeldKey,
    JsonBody(body): JsonBody<CreateApprovalBody>,
) -> Result<Reply, Problem> {
    let reply = |approval: &ApprovalRequest| {
        Reply::created(
            app.location(&format!("/v1/approvals/{}", approval.id())),
            &ApprovalResponse::from(approval),
        )
    };
    let approval = app
        .use_cases
        .create_approval
        .execute(
            requester,
            body.into(),
            held.answer(&|approval: &ApprovalRequest| reply(approval).stored()),
        )
        .await?;
    Ok(reply(&approval))
}

problems!(
    CreateProblems,
    [
        V1,
        V1_POST,
        &[
            ProblemType::MALFORMED_BODY,
            ProblemType::UNSUPPORTED_MEDIA_TYPE,
            ProblemType::VALIDATION,
            ProblemType::UNSATISFIABLE_POLICY,
            ProblemType::PLATFORM_NOT_CONNECTED,
            CALLBACK_URL_REFUSED,
        ],
    ]
);

/// Fetch one approval request with its decisions; with `wait`, once it settles.
///
/// With `wait` this is a long-poll: a pipeline waiting for a decision loops on it, and
/// hears the outcome within moments of the decision, without polling.
#[utoipa::path(
    get,
    path = "/v1/approvals/{id}",
    tag = "approvals",
    operation_id = "get_approval",
    security(("api_key" = [])),
    params(("id" = uuid::Uuid, Path, description = "The approval request's id"), GetParams),
    responses((status = OK, description = "The request", body = ApprovalResponse), GetProblems),
)]
pub(super) async fn get(
    State(app): State<Arc<AppState>>,
    _: Authenticated,
    PathId(id): PathId<ApprovalId>,
    QueryParams(params): QueryParams<GetParams>,
) -> Result<Json<ApprovalResponse>, Problem> {
    let wait = params
        .wait
        .as_deref()
        .map(long_poll::parse_wait)
        .transpose()
        .map_err(|error| Problem::new(INVALID_WAIT, error.to_string()))?;
    let approval = match wait {
        Some(wait) if !wait.is_zero() => {
            let shutdown = app.shutdown.clone();
            let give_up = async move {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = shutdown.cancelled() => {}
                }
            };
            app.use_cases.wait_for_outcome.execute(id, give_up).await?
        }
        _ => app.use_cases.get_approval.execute(id).await?,
    };
    Ok(Json(ApprovalResponse::from(&approval)))
}

problems!(
    GetProblems,
    [
        V1,
        &[
            ProblemType::INVALID_PATH,
            ProblemType::INVALID_QUERY,
            INVALID_WAIT,
            APPROVAL_NOT_FOUND,
        ],
    ]
);

/// List approval requests, newest first, one keyset page at a time.
///
/// Pass the `next_cursor` of a page as `cursor` to get the next one.
#[utoipa::path(
    get,
    path = "/v1/approvals",
    tag = "approvals",
    operation_id = "list_approvals",
    security(("api_key" = [])),
    params(ListParams),
    responses((status = OK, description = "One page", body = ApprovalPageResponse), ListProblems),
)]
pub(super) async fn list(
    State(app): State<Arc<AppState>>,
    _: Authenticated,
    QueryParams(params): QueryParams<ListParams>,
) -> Result<Json<ApprovalPageResponse>, Problem> {
    let after = params.cursor.as_deref().map(cursor::decode).transpose()?;
    let page = app
        .use_cases
        .list_approvals
        .execute(ListApprovalsInput {
            status: params.status.map(Into::into),
            limit: params.limit,
            after,
        })
        .await?;
    Ok(Json(ApprovalPageResponse::from(&page)))
}

problems!(
    ListProblems,
    [
        V1,
        &[
            ProblemType::INVALID_QUERY,
            ProblemType::INVALID_CURSOR,
            ProblemType::VALIDATION,
        ],
    ]
);

/// Approve or reject: the caller is the approver.
///
/// Repeating the same verdict is a harmless 200, so clients may retry even without an
/// `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/v1/approvals/{id}/decisions",
    tag = "approvals",
    operation_id = "decide",
    security(("api_key" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "The approval request's id"),
        IdempotencyKeyHeader,
    ),
    request_body = DecisionBody,
    responses(
        (status = OK, description = "The decision is recorded", body = ApprovalResponse),
        DecideProblems,
    ),
)]
pub(super) async fn decide(
    State(app): State<Arc<AppState>>,
    Authenticated(approver): Authenticated,
    held: HeldKey,
    PathId(approval_id): PathId<ApprovalId>,
    JsonBody(body): JsonBody<DecisionBody>,
) -> Result<Reply, Problem> {
    let reply = |decided: &Decided| Reply::ok(&ApprovalResponse::from(&decided.approval));
    let input = DecideInput {
        approval_id,
        approver,
        verdict: body.verdict.into(),
        comment: body.comment,
    };
    let decided = app
        .use_cases
        .decide
        .execute(
            input,
            held.answer(&|decided: &Decided| reply(decided).stored()),
        )
        .await?;
    Ok(reply(&decided))
}

problems!(
    DecideProblems,
    [
        V1,
        V1_POST,
        &[
            ProblemType::INVALID_PATH,
            ProblemType::MALFORMED_BODY,
            ProblemType::UNSUPPORTED_MEDIA_TYPE,
            ProblemType::VALIDATION,
            APPROVER_NOT_ALLOWED,
            APPROVAL_NOT_FOUND,
            NOT_PENDING,
            ProblemType::CONCURRENT_UPDATE,
            SELF_APPROVAL,
            APPROVAL_EXPIRED,
            CONFLICTING_VERDICT,
        ],
    ]
);

/// Withdraw a pending request. Only its requester may.
#[utoipa::path(
    post,
    path = "/v1/approvals/{id}/cancel",
    tag = "approvals",
    operation_id = "cancel_approval",
    security(("api_key" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "The approval request's id"),
        IdempotencyKeyHeader,
    ),
    responses(
        (status = OK, description = "The request is cancelled", body = ApprovalResponse),
        CancelProblems,
    ),
)]
pub(super) async fn cancel(
    State(app): State<Arc<AppState>>,
    Authenticated(by): Authenticated,
    held: HeldKey,
    PathId(id): PathId<ApprovalId>,
) -> Result<Reply, Problem> {
    let reply = |approval: &ApprovalRequest| Reply::ok(&ApprovalResponse::from(approval));
    let approval = app
        .use_cases
        .cancel_approval
        .execute(
            id,
            by,
            held.answer(&|approval: &ApprovalRequest| reply(approval).stored()),
        )
        .await?;
    Ok(reply(&approval))
}

problems!(
    CancelProblems,
    [
        V1,
        V1_POST,
        &[
            ProblemType::INVALID_PATH,
            NOT_REQUESTER,
            APPROVAL_NOT_FOUND,
            NOT_PENDING,
            ProblemType::CONCURRENT_UPDATE,
        ],
    ]
);
