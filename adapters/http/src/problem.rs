//! RFC 9457 problem details: the one error body this API sends.
//!
//! Every error a client can receive has a [`ProblemType`]: a stable URI naming the kind of
//! error, with its HTTP status and a short title. Clients branch on `type`, never on the
//! `detail` text, so the URIs are a public contract — add new ones, never rename or reuse one.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::request_id;

/// The media type of every error body (RFC 9457 §3).
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// All a client learns about a 500: the cause is logged, never sent.
const INTERNAL_DETAIL: &str = "the service failed to handle this request";

/// Every kind of error this API reports, each with a stable `type` URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemType {
    /// The body is not the expected JSON document: a syntax error, a wrong type, a missing or
    /// unknown field, an unknown verdict or severity.
    MalformedBody,
    /// A field was well-formed but broke a rule (too long, out of range, …). Carries `field`.
    Validation,
    /// The query string could not be read (unknown parameter or status, non-numeric limit).
    InvalidQuery,
    /// The pagination cursor is not one this API handed out.
    InvalidCursor,
    /// A path parameter is malformed, e.g. an approval or alert id that is not a UUID.
    InvalidPath,
    /// No, a malformed, or an unknown API key.
    Unauthorized,
    /// Only the requester may cancel a request.
    NotRequester,
    /// The request's allow-list does not name this approver.
    ApproverNotAllowed,
    /// No approval request has this id.
    ApprovalNotFound,
    /// No alert has this id.
    AlertNotFound,
    /// No route matches the path.
    RouteNotFound,
    /// The route exists but not for this method (the `Allow` header lists the ones it has).
    MethodNotAllowed,
    /// The request took longer than the configured timeout.
    RequestTimeout,
    /// The request kept changing concurrently; retrying may succeed.
    ConcurrentUpdate,
    /// The request has already settled. Carries `approval_status` (and `decided_by` for
    /// decisions).
    NotPending,
    /// The body is larger than the configured limit.
    BodyTooLarge,
    /// The request's headers together are larger than the configured limit.
    HeadersTooLarge,
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The requester may not decide their own request (four-eyes principle).
    SelfApproval,
    /// Each field is valid, but together they make a request no one could settle: more
    /// required approvals than eligible allowed approvers. Carries `field`.
    UnsatisfiablePolicy,
    /// The request passed its expiry time. Carries `expired_at`.
    ApprovalExpired,
    /// An approver tried to change their verdict. Carries `previous_verdict`.
    ConflictingVerdict,
    /// The destination names a chat platform this service is not connected to (e.g.
    /// `discord:<id>` without Discord credentials). Carries `field` and `platform`.
    PlatformNotConnected,
    /// The alert is resolved, so it can no longer be acknowledged. A new raise with its
    /// dedup key opens a new alert.
    AlertResolved,
    /// A bug or corrupt data; details are logged, never sent.
    Internal,
    /// A dependency (the store) is unavailable; retrying later may succeed.
    Unavailable,
    /// The `Idempotency-Key` header is not a 1–255 character printable ASCII string.
    IdempotencyKeyInvalid,
    /// A request with this `Idempotency-Key` is still being processed; retry after
    /// `Retry-After` seconds.
    IdempotencyKeyInFlight,
    /// This `Idempotency-Key` was already used with a different request (method, path or
    /// body); use a new key for a new request.
    IdempotencyKeyReused,
    /// Too many requests are in flight; retry after `Retry-After` seconds.
    Overloaded,
}

impl ProblemType {
    /// Every problem type, for documentation and tests.
    pub const ALL: [Self; 30] = [
        Self::MalformedBody,
        Self::Validation,
        Self::InvalidQuery,
        Self::InvalidCursor,
        Self::InvalidPath,
        Self::Unauthorized,
        Self::NotRequester,
        Self::ApproverNotAllowed,
        Self::ApprovalNotFound,
        Self::AlertNotFound,
        Self::RouteNotFound,
        Self::MethodNotAllowed,
        Self::RequestTimeout,
        Self::ConcurrentUpdate,
        Self::NotPending,
        Self::BodyTooLarge,
        Self::HeadersTooLarge,
        Self::UnsupportedMediaType,
        Self::SelfApproval,
        Self::UnsatisfiablePolicy,
        Self::ApprovalExpired,
        Self::ConflictingVerdict,
        Self::PlatformNotConnected,
        Self::AlertResolved,
        Self::Internal,
        Self::Unavailable,
        Self::IdempotencyKeyInvalid,
        Self::IdempotencyKeyInFlight,
        Self::IdempotencyKeyReused,
        Self::Overloaded,
    ];

    /// The `type` URI clients match on.
    pub fn uri(self) -> &'static str {
        self.spec().0
    }

    /// The HTTP status a problem of this type is sent with.
    pub fn status(self) -> StatusCode {
        self.spec().1
    }

    /// The short, human-readable summary (the same for every occurrence).
    pub fn title(self) -> &'static str {
        self.spec().2
    }

    /// Whether the same request, sent again unchanged, may succeed: the failure came from a
    /// race, an outage, load or a fault of the service, not from the request. Such answers are
    /// never replayed for an `Idempotency-Key`, because the replay would refuse the very
    /// retry they invite.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Self::ConcurrentUpdate
                | Self::RequestTimeout
                | Self::Internal
                | Self::Unavailable
                | Self::IdempotencyKeyInFlight
                | Self::Overloaded
        )
    }

    /// Seconds a client should wait before retrying, sent as `Retry-After`. Only for the
    /// answers whose cause passes within moments; a store outage has no predictable end.
    /// The default: an in-flight idempotency key's answer names the time left on its lock
    /// instead (see `idempotency/mod.rs`).
    pub fn retry_after_seconds(self) -> Option<u32> {
        match self {
            Self::IdempotencyKeyInFlight | Self::Overloaded => Some(1),
            _ => None,
        }
    }

    /// The whole contract in one table: type URI, status, title.
    fn spec(self) -> (&'static str, StatusCode, &'static str) {
        use StatusCode as S;
        match self {
            Self::MalformedBody => (
                concat!(env!("PROBLEM_BASE_URL"), "malformed-body"),
                S::BAD_REQUEST,
                "Malformed request body",
            ),
            Self::Validation => (
                concat!(env!("PROBLEM_BASE_URL"), "validation"),
                S::BAD_REQUEST,
                "Invalid field value",
            ),
            Self::InvalidQuery => (
                concat!(env!("PROBLEM_BASE_URL"), "invalid-query"),
                S::BAD_REQUEST,
                "Invalid query string",
            ),
            Self::InvalidCursor => (
                concat!(env!("PROBLEM_BASE_URL"), "invalid-cursor"),
                S::BAD_REQUEST,
                "Invalid pagination cursor",
            ),
            Self::InvalidPath => (
                concat!(env!("PROBLEM_BASE_URL"), "invalid-path"),
                S::BAD_REQUEST,
                "Invalid path parameter",
            ),
            Self::Unauthorized => (
                concat!(env!("PROBLEM_BASE_URL"), "unauthorized"),
                S::UNAUTHORIZED,
                "Missing or invalid API key",
            ),
            Self::NotRequester => (
                concat!(env!("PROBLEM_BASE_URL"), "not-requester"),
                S::FORBIDDEN,
                "Only the requester may do this",
            ),
            Self::ApproverNotAllowed => (
                concat!(env!("PROBLEM_BASE_URL"), "approver-not-allowed"),
                S::FORBIDDEN,
                "Approver not allowed",
            ),
            Self::ApprovalNotFound => (
                concat!(env!("PROBLEM_BASE_URL"), "approval-not-found"),
                S::NOT_FOUND,
                "Approval request not found",
            ),
            Self::AlertNotFound => (
                concat!(env!("PROBLEM_BASE_URL"), "alert-not-found"),
                S::NOT_FOUND,
                "Alert not found",
            ),
            Self::RouteNotFound => (
                concat!(env!("PROBLEM_BASE_URL"), "route-not-found"),
                S::NOT_FOUND,
                "No such route",
            ),
            Self::MethodNotAllowed => (
                concat!(env!("PROBLEM_BASE_URL"), "method-not-allowed"),
                S::METHOD_NOT_ALLOWED,
                "Method not allowed",
            ),
            Self::RequestTimeout => (
                concat!(env!("PROBLEM_BASE_URL"), "request-timeout"),
                S::REQUEST_TIMEOUT,
                "Request timed out",
            ),
            Self::ConcurrentUpdate => (
                concat!(env!("PROBLEM_BASE_URL"), "concurrent-update"),
                S::CONFLICT,
                "Concurrent update",
            ),
            Self::NotPending => (
                concat!(env!("PROBLEM_BASE_URL"), "not-pending"),
                S::CONFLICT,
                "Approval request already settled",
            ),
            Self::BodyTooLarge => (
                concat!(env!("PROBLEM_BASE_URL"), "body-too-large"),
                S::PAYLOAD_TOO_LARGE,
                "Request body too large",
            ),
            Self::UnsupportedMediaType => (
                concat!(env!("PROBLEM_BASE_URL"), "unsupported-media-type"),
                S::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
            ),
            Self::SelfApproval => (
                concat!(env!("PROBLEM_BASE_URL"), "self-approval"),
                S::UNPROCESSABLE_ENTITY,
                "Self-approval not allowed",
            ),
            Self::UnsatisfiablePolicy => (
                concat!(env!("PROBLEM_BASE_URL"), "unsatisfiable-policy"),
                S::UNPROCESSABLE_ENTITY,
                "Policy can never be satisfied",
            ),
            Self::ApprovalExpired => (
                concat!(env!("PROBLEM_BASE_URL"), "approval-expired"),
                S::UNPROCESSABLE_ENTITY,
                "Approval request expired",
            ),
            Self::ConflictingVerdict => (
                concat!(env!("PROBLEM_BASE_URL"), "conflicting-verdict"),
                S::UNPROCESSABLE_ENTITY,
                "Verdict cannot be changed",
            ),
            Self::PlatformNotConnected => (
                concat!(env!("PROBLEM_BASE_URL"), "platform-not-connected"),
                S::UNPROCESSABLE_ENTITY,
                "Chat platform not connected",
            ),
            Self::AlertResolved => (
                concat!(env!("PROBLEM_BASE_URL"), "alert-resolved"),
                S::CONFLICT,
                "Alert already resolved",
            ),
            Self::Internal => (
                concat!(env!("PROBLEM_BASE_URL"), "internal"),
                S::INTERNAL_SERVER_ERROR,
                "Internal error",
            ),
            Self::Unavailable => (
                concat!(env!("PROBLEM_BASE_URL"), "unavailable"),
                S::SERVICE_UNAVAILABLE,
                "Service unavailable",
            ),
            Self::IdempotencyKeyInvalid => (
                concat!(env!("PROBLEM_BASE_URL"), "idempotency-key-invalid"),
                S::BAD_REQUEST,
                "Invalid Idempotency-Key",
            ),
            Self::IdempotencyKeyInFlight => (
                concat!(env!("PROBLEM_BASE_URL"), "idempotency-key-in-flight"),
                S::CONFLICT,
                "Request with this Idempotency-Key in progress",
            ),
            Self::IdempotencyKeyReused => (
                concat!(env!("PROBLEM_BASE_URL"), "idempotency-key-reused"),
                S::UNPROCESSABLE_ENTITY,
                "Idempotency-Key reused for another request",
            ),
            Self::Overloaded => (
                concat!(env!("PROBLEM_BASE_URL"), "overloaded"),
                S::SERVICE_UNAVAILABLE,
                "Too many requests in flight",
            ),
            Self::HeadersTooLarge => (
                concat!(env!("PROBLEM_BASE_URL"), "headers-too-large"),
                S::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "Request headers too large",
            ),
        }
    }

    /// The type, and a detail, for an error response that a layer below the handlers
    /// produced without a body (see `middleware::problem_for_bare_errors`).
    fn for_bare_status(status: StatusCode) -> Option<(Self, &'static str)> {
        match status {
            StatusCode::NOT_FOUND => Some((Self::RouteNotFound, "no route matches this path")),
            StatusCode::METHOD_NOT_ALLOWED => Some((
                Self::MethodNotAllowed,
                "this route does not accept the method; the Allow header lists the ones it does",
            )),
            StatusCode::REQUEST_TIMEOUT => Some((
                Self::RequestTimeout,
                "the request took longer than the server allows",
            )),
            StatusCode::PAYLOAD_TOO_LARGE => Some((
                Self::BodyTooLarge,
                "the request body exceeds the size limit",
            )),
            StatusCode::INTERNAL_SERVER_ERROR => Some((Self::Internal, INTERNAL_DETAIL)),
            _ => None,
        }
    }
}

/// One error response body. Build it with [`Problem::new`], add extensions with
/// [`Problem::with`], and return it from a handler: it is its own response.
///
/// The request id travels as the `request_id` extension member rather than as `instance`:
/// `instance` must be a URI, a client-supplied id may contain characters a URI cannot, and a
/// `urn:` form would need a registered namespace. A plain string is also what people paste
/// into a log search.
#[derive(Debug, Serialize, ToSchema)]
#[schema(
    as = Problem,
    description = "An RFC 9457 problem: every error this API sends. Clients branch on `type`; \
                   `detail` is for humans. Some types add extension members (`field`, \
                   `approval_status`, `decided_by`, `expired_at`, `previous_verdict`)."
)]
pub(crate) struct Problem {
    /// Names the kind of error; stable, never reused.
    #[serde(rename = "type")]
    #[schema(format = "uri")]
    type_uri: &'static str,
    /// A short summary, the same for every occurrence of the type.
    title: &'static str,
    /// The HTTP status code, repeated for clients that lose it.
    #[serde(serialize_with = "status_as_number")]
    #[schema(value_type = u16)]
    status: StatusCode,
    /// What went wrong this time, for humans.
    detail: String,
    /// The `x-request-id` of the request that produced this problem: the key to its logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    request_id: Option<String>,
    /// Extension members (RFC 9457 §3.2), e.g. `field` for a validation error.
    #[serde(flatten)]
    #[schema(ignore)]
    extensions: Map<String, Value>,
    /// `None` for an `about:blank` problem.
    #[serde(skip)]
    #[schema(ignore)]
    problem_type: Option<ProblemType>,
    /// Sent as `Retry-After`; the type's default unless the cause knows better.
    #[serde(skip)]
    #[schema(ignore)]
    retry_after_seconds: Option<u32>,
}

impl Problem {
    pub(crate) fn new(problem_type: ProblemType, detail: impl Into<String>) -> Self {
        Self {
            type_uri: problem_type.uri(),
            title: problem_type.title(),
            status: problem_type.status(),
            detail: detail.into(),
            request_id: None,
            extensions: Map::new(),
            problem_type: Some(problem_type),
            retry_after_seconds: problem_type.retry_after_seconds(),
        }
    }

    /// The generic 500. The caller logs the cause first.
    pub(crate) fn internal() -> Self {
        Self::new(ProblemType::Internal, INTERNAL_DETAIL)
    }

    /// A problem for a bare error status. Statuses without a [`ProblemType`] get
    /// `about:blank`, which RFC 9457 §4.2.1 defines as "nothing beyond the status code".
    pub(crate) fn for_status(status: StatusCode) -> Self {
        let reason = status.canonical_reason().unwrap_or("Error");
        match ProblemType::for_bare_status(status) {
            Some((problem_type, detail)) => Self::new(problem_type, detail),
            None => Self {
                type_uri: "about:blank",
                title: reason,
                status,
                detail: reason.to_owned(),
                request_id: None,
                extensions: Map::new(),
                problem_type: None,
                retry_after_seconds: None,
            },
        }
    }

    /// Replaces the type's default `Retry-After` with a wait the cause knows, e.g. the
    /// time left on an idempotency key's lock. Only for types that send one at all.
    pub(crate) fn retry_after(mut self, seconds: u32) -> Self {
        if self.retry_after_seconds.is_some() {
            self.retry_after_seconds = Some(seconds.max(1));
        }
        self
    }

    /// Adds an extension member. Its name must not shadow a standard member: a `status`
    /// extension would put two `status` keys in one JSON object.
    pub(crate) fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        debug_assert!(
            !matches!(
                name,
                "type" | "title" | "status" | "detail" | "instance" | "request_id"
            ),
            "extension {name:?} shadows a standard problem member"
        );
        self.extensions.insert(name.to_owned(), value.into());
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(mut self) -> Response {
        let status = self.status;
        let problem_type = self.problem_type;
        let retry_after_seconds = self.retry_after_seconds;
        self.request_id = request_id::current().map(|id| id.as_str().to_owned());
        let mut response = (status, Json(self)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        // RFC 9110 §15.5.2: a 401 must say which authentication scheme would work.
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = retry_after_seconds {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(problem_type) = problem_type {
            // For the middleware above, which sees only the response: the idempotency layer
            // asks whether the failure was transient.
            response.extensions_mut().insert(problem_type);
        }
        response
    }
}

/// The problem type of a response built from a [`Problem`], if it was.
pub(crate) fn problem_type_of(response: &Response) -> Option<ProblemType> {
    response.extensions().get::<ProblemType>().copied()
}

/// True when response headers announce a problem body.
pub(crate) fn is_problem(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(PROBLEM_JSON.as_bytes()))
}

fn status_as_number<S: Serializer>(status: &StatusCode, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u16(status.as_u16())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_type_has_its_own_uri_under_one_base() {
        let uris: HashSet<_> = ProblemType::ALL.iter().map(|t| t.uri()).collect();
        assert_eq!(uris.len(), ProblemType::ALL.len(), "two types share a URI");
        for uri in uris {
            assert!(uri.starts_with(env!("PROBLEM_BASE_URL")), "{uri}");
        }
    }

    #[test]
    fn every_type_is_an_error_status() {
        for problem_type in ProblemType::ALL {
            let status = problem_type.status();
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{problem_type:?} has {status}"
            );
        }
    }

    #[test]
    fn serializes_the_rfc_9457_members_and_extensions_flat() {
        let problem =
            Problem::new(ProblemType::Validation, "title must not be empty").with("field", "title");
        assert_eq!(
            serde_json::to_value(&problem).unwrap(),
            serde_json::json!({
                "type": concat!(env!("PROBLEM_BASE_URL"), "validation"),
                "title": "Invalid field value",
                "status": 400,
                "detail": "title must not be empty",
                "field": "title",
            })
        );
    }

    #[test]
    fn unknown_bare_status_becomes_about_blank() {
        let problem = Problem::for_status(StatusCode::IM_A_TEAPOT);
        let body = serde_json::to_value(&problem).unwrap();
        assert_eq!(body["type"], "about:blank");
        assert_eq!(body["title"], "I'm a teapot");
        assert_eq!(body["status"], 418);
    }

    #[test]
    fn only_transient_types_invite_a_retry_and_only_short_lived_causes_say_when() {
        for problem_type in ProblemType::ALL {
            if problem_type.retry_after_seconds().is_some() {
                assert!(problem_type.is_transient(), "{problem_type:?}");
            }
            if problem_type.status().is_server_error() {
                assert!(problem_type.is_transient(), "{problem_type:?}");
            }
        }
    }

    #[test]
    fn a_response_carries_its_type_and_retry_after() {
        let response = Problem::new(ProblemType::Overloaded, "busy").into_response();
        assert_eq!(problem_type_of(&response), Some(ProblemType::Overloaded));
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");

        let response = Problem::for_status(StatusCode::IM_A_TEAPOT).into_response();
        assert_eq!(problem_type_of(&response), None);
        assert!(!response.headers().contains_key(header::RETRY_AFTER));
    }

    #[test]
    fn a_401_names_the_bearer_scheme() {
        let response = Problem::new(ProblemType::Unauthorized, "no key").into_response();
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert!(is_problem(response.headers()));
    }
}
