//! Extractors that reject with a problem instead of axum's plain-text default.
//!
//! Each wraps the axum extractor of the same job and only translates its rejection, so the
//! parsing behaviour (content-type check, body limit, trailing-bytes check) stays axum's.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use domain::{AlertId, ApprovalId};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::problem::{Problem, ProblemType};

/// A JSON request body (`Content-Type: application/json`).
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(Self(value))
    }
}

impl From<JsonRejection> for Problem {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Problem::new(
                ProblemType::UnsupportedMediaType,
                "the body must be JSON, sent with `Content-Type: application/json`",
            ),
            // axum answers a well-formed body of the wrong shape with 422; this API keeps 422
            // for domain rules that refuse a valid request, so both shape errors are 400.
            JsonRejection::JsonSyntaxError(_) | JsonRejection::JsonDataError(_) => {
                Problem::new(ProblemType::MalformedBody, rejection.body_text())
            }
            // The body could not be read: either it outgrew the limit while streaming in
            // (a body without Content-Length), or the client went away.
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
                ProblemType::BodyTooLarge,
                "the request body exceeds the size limit",
            ),
            other => Problem::new(ProblemType::MalformedBody, other.body_text()),
        }
    }
}

/// A query string deserialized into `T`.
pub(crate) struct QueryParams<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for QueryParams<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

impl From<QueryRejection> for Problem {
    fn from(rejection: QueryRejection) -> Self {
        Problem::new(ProblemType::InvalidQuery, rejection.body_text())
    }
}

/// The `{id}` of an `/v1/approvals/{id}…` route.
pub(crate) struct ApprovalIdParam(pub(crate) ApprovalId);

impl<S> FromRequestParts<S> for ApprovalIdParam
where
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let id = uuid_in_path(parts, state, "the approval id").await?;
        Ok(Self(ApprovalId::from_uuid(id)))
    }
}

/// The `{id}` of an `/v1/alerts/{id}…` route.
pub(crate) struct AlertIdParam(pub(crate) AlertId);

impl<S> FromRequestParts<S> for AlertIdParam
where
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let id = uuid_in_path(parts, state, "the alert id").await?;
        Ok(Self(AlertId::from_uuid(id)))
    }
}

/// The route's single path parameter, which must be a UUID; `what` names it in the problem.
async fn uuid_in_path<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    what: &str,
) -> Result<Uuid, Problem> {
    match Path::<Uuid>::from_request_parts(parts, state).await {
        Ok(Path(id)) => Ok(id),
        Err(PathRejection::FailedToDeserializePathParams(_)) => Err(Problem::new(
            ProblemType::InvalidPath,
            format!("{what} in the path must be a UUID"),
        )),
        // The route has no such parameter: a wiring bug, not the client's fault.
        Err(other) => {
            tracing::error!(rejection = %other.body_text(), "path extraction failed");
            Err(Problem::internal())
        }
    }
}
