//! Extractors that reject with a problem instead of axum's plain-text default.
//!
//! Each wraps the axum extractor of the same job and only translates its rejection, so the
//! parsing behaviour (content-type check, body limit, trailing-bytes check) stays axum's.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
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
                ProblemType::UNSUPPORTED_MEDIA_TYPE,
                "the body must be JSON, sent with `Content-Type: application/json`",
            ),
            // axum answers a well-formed body of the wrong shape with 422; this API keeps 422
            // for domain rules that refuse a valid request, so both shape errors are 400.
            JsonRejection::JsonSyntaxError(_) | JsonRejection::JsonDataError(_) => {
                Problem::new(ProblemType::MALFORMED_BODY, rejection.body_text())
            }
            // The body could not be read: either it outgrew the limit while streaming in
            // (a body without Content-Length), or the client went away.
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
                ProblemType::BODY_TOO_LARGE,
                "the request body exceeds the size limit",
            ),
            other => Problem::new(ProblemType::MALFORMED_BODY, other.body_text()),
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
        Problem::new(ProblemType::INVALID_QUERY, rejection.body_text())
    }
}

/// The `{id}` of a `/v1/<resources>/{id}…` route, as the resource's own id type.
pub(crate) struct PathId<T>(pub(crate) T);

/// An aggregate id that appears in paths as a UUID. Implemented beside each aggregate's
/// routes.
pub(crate) trait PathIdentifier: Sized {
    /// Names the parameter in the problem for a malformed one, e.g. "the approval id".
    const WHAT: &'static str;

    fn from_uuid(id: Uuid) -> Self;
}

impl<T, S> FromRequestParts<S> for PathId<T>
where
    T: PathIdentifier,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let id = uuid_in_path(parts, state, T::WHAT).await?;
        Ok(Self(T::from_uuid(id)))
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
            ProblemType::INVALID_PATH,
            format!("{what} in the path must be a UUID"),
        )),
        // The route has no such parameter: a wiring bug, not the client's fault.
        Err(other) => {
            tracing::error!(rejection = %other.body_text(), "path extraction failed");
            Err(Problem::internal())
        }
    }
}
