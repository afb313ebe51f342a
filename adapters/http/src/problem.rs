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

/// One kind of error this API reports: a stable `type` URI, the HTTP status it is sent with,
/// a short title, and whether a retry may succeed.
///
/// The types every route shares are the associated constants below. Those of one aggregate
/// live beside its routes (`routes/approvals/errors.rs`, …), so removing an aggregate removes
/// its problem types with it; [`crate::problem_types`] lists them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProblemType(&'static Spec);

/// What a [`ProblemType`] stands for. Behind a reference, so that a type is one word and
/// every [`Problem`] stays small.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct Spec {
    uri: &'static str,
    status: StatusCode,
    title: &'static str,
    retry: Retry,
}

/// Whether the same request, sent again unchanged, may succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Retry {
    /// The request itself is at fault: sent again, it fails again.
    Never,
    /// A race, an outage, load or a fault of the service: retrying later may succeed.
    Later,
    /// As `Later`, and the cause passes within moments: clients are told to wait this many
    /// seconds (`Retry-After`).
    AfterSeconds(u32),
}

impl Spec {
    /// A type of this API. `uri` must lie under the service's problem base URI (build it with
    /// `concat!(env!("PROBLEM_BASE_URL"), "<slug>")`), `status` must be an error status.
    pub(crate) const fn new(uri: &'static str, status: StatusCode, title: &'static str) -> Self {
        Self {
            uri,
            status,
            title,
            retry: Retry::Never,
        }
    }

    /// Marks the type as transient: see [`ProblemType::is_transient`].
    const fn transient(self) -> Self {
        Self {
            retry: Retry::Later,
            ..self
        }
    }

    /// Marks the type as transient with a default `Retry-After`.
    const fn retry_after(self, seconds: u32) -> Self {
        Self {
            retry: Retry::AfterSeconds(seconds),
            ..self
        }
    }
}

impl ProblemType {
    /// The problem type described by `spec`, e.g.
    /// `ProblemType::new(&Spec::new(concat!(env!("PROBLEM_BASE_URL"), "not-found"), …))`.
    pub(crate) const fn new(spec: &'static Spec) -> Self {
        Self(spec)
    }

    /// The body is not the expected JSON document: a syntax error, a wrong type, a missing or
    /// unknown field, an unknown enum value.
    pub const MALFORMED_BODY: Self = Self(&Spec::new(
        concat!(env!("PROBLEM_BASE_URL"), "malformed-body"),
        StatusCode::BAD_REQUEST,
        "Malformed request body",
    ));
    /// A field was well-formed but broke a rule (too long, out of range, …). Carries `field`.
    pub const VALIDATION: Self = Self(&Spec::new(
        concat!(env!("PROBLEM_BASE_URL"), "validation"),
        StatusCode::BAD_REQUEST,
        "Invalid field value",
    ));
    /// The query string could not be read (unknown parameter or value, non-numeric limit).
    pub const INVALID_QUERY: Self = Self(&Spec::new(
        concat!(env!("PROBLEM_BASE_URL"), "invalid-query"),
        StatusCode::BAD_REQUEST,
        "Invalid query string",
    ));
    /// The pagination cursor is not one this API handed out.
    pub const INVALID_CURSOR: Self = Self(&Spec::new(
        concat!(env!("PROBLEM_BASE_URL"), "invalid-cursor"),
        StatusCode::BAD_REQUEST,
        "Invalid pagination cursor",
    ));
    /// A path parameter is malformed, e.g. an id that is not a UUID.
    pub const INVALID_PATH: Self = Self(&Spec::new(
        concat!(env!("PROBLEM_BASE_URL"), "invalid-path"),
        StatusCode::BAD_REQUEST,
        "Invalid path parameter",
    ));
    /// No, a malformed, or an unknown API key.
    pub const UNAUTHORIZED: Self = Self(&Spec::new(
        concat!(env!("PROBLEM_BASE_URL"), "unauthorized"),
        StatusCode::UNAUTHORIZED,
        "Missing or invalid API key",
    ));
    /// No route matches the path.
    pub const ROUTE_NOT_FOUND: Self = Self(&Spec::new(
        concat!(env!("PROBLEM_BASE_URL"), "route-not-found"),
        StatusCode::NOT_FOUND,
        "No such route",
    ));
    /// The route exists but not for this method (the `Allow` header lists the ones it has).
    pub const METHOD_NOT_ALLOWED: Self = Self(&Spec::new(
        concat!(env!("PROBLEM_BASE_URL"), "method-not-allowed"),
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
    ));
    /// The request took longer than the configured timeout.
    pub const REQUEST_TIMEOUT: Self = Self(
        &Spec::new(
            concat!(env!("PROBLEM_BASE_URL"), "request-timeout"),
            StatusCode::REQUEST_TIMEOUT,
            "Request timed out",
        )
        .transient(),
    );
    /// The resource kept changing concurrently; retrying may succeed.
    pub const CONCURRENT_UPDATE: Self = Self(
        &Spec::new(
            concat!(env!("PROBLEM_BASE_URL"), "concurrent-update"),
            StatusCode::CONFLICT,
            "Concurrent update",
        )
        .transient(),
    );
    /// The body is larger than the configured limit.
    pub const BODY_TOO_LARGE: Self = Self(&Spec::new(
        concat!(env!("PROBLEM_BASE_URL"), "body-too-large"),
        StatusCode::PAYLOAD_TOO_LARGE,
        "Request body too large",
    ));
    /// The request's headers together are larger than the configured limit.
    pub const HEADERS_TOO_LARGE: Self = Self(&Spec::new(
        concat!(env!("PROBLEM_BASE_URL"), "headers-too-large"),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "Request headers too large",
    ));
    /// The body is not `application/json`.
    pub const UNSUPPORTED_MEDIA_TYPE: Self = Self(&Spec::new(
        concat!(env!("PROBLEM_BASE_URL"), "unsupported-media-type"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Unsupported media type",
    ));
    /// Each field is valid, but together they make a resource that could never reach its
    /// goal (e.g. more required approvals than eligible approvers). Carries `field`.
    pub const UNSATISFIABLE_POLICY: Self = Self(&Spec::new(
        concat!(env!("PROBLEM_BASE_URL"), "unsatisfiable-policy"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "Policy can never be satisfied",
    ));
    /// The destination names a chat platform this service is not connected to (e.g.
    /// `discord:<id>` without Discord credentials). Carries `field` and `platform`.
    pub const PLATFORM_NOT_CONNECTED: Self = Self(&Spec::new(
        concat!(env!("PROBLEM_BASE_URL"), "platform-not-connected"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "Chat platform not connected",
    ));
    /// A bug or corrupt data; details are logged, never sent.
    pub const INTERNAL: Self = Self(
        &Spec::new(
            concat!(env!("PROBLEM_BASE_URL"), "internal"),
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
        )
        .transient(),
    );
    /// A dependency (the store) is unavailable; retrying later may succeed.
    pub const UNAVAILABLE: Self = Self(
        &Spec::new(
            concat!(env!("PROBLEM_BASE_URL"), "unavailable"),
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable",
        )
        .transient(),
    );
    /// The `Idempotency-Key` header is not a 1–255 character printable ASCII string.
    pub const IDEMPOTENCY_KEY_INVALID: Self = Self(&Spec::new(
        concat!(env!("PROBLEM_BASE_URL"), "idempotency-key-invalid"),
        StatusCode::BAD_REQUEST,
        "Invalid Idempotency-Key",
    ));
    /// A request with this `Idempotency-Key` is still being processed; retry after
    /// `Retry-After` seconds (the time left on the key's lock, see `idempotency/mod.rs`).
    pub const IDEMPOTENCY_KEY_IN_FLIGHT: Self = Self(
        &Spec::new(
            concat!(env!("PROBLEM_BASE_URL"), "idempotency-key-in-flight"),
            StatusCode::CONFLICT,
            "Request with this Idempotency-Key in progress",
        )
        .retry_after(1),
    );
    /// This `Idempotency-Key` was already used with a different request (method, path or
    /// body); use a new key for a new request.
    pub const IDEMPOTENCY_KEY_REUSED: Self = Self(&Spec::new(
        concat!(env!("PROBLEM_BASE_URL"), "idempotency-key-reused"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "Idempotency-Key reused for another request",
    ));
    /// Too many requests are in flight; retry after `Retry-After` seconds.
    pub const OVERLOADED: Self = Self(
        &Spec::new(
            concat!(env!("PROBLEM_BASE_URL"), "overloaded"),
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many requests in flight",
        )
        .retry_after(1),
    );

    /// The types every route shares, in documentation order.
    pub(crate) const SHARED: &[Self] = &[
        Self::MALFORMED_BODY,
        Self::VALIDATION,
        Self::INVALID_QUERY,
        Self::INVALID_CURSOR,
        Self::INVALID_PATH,
        Self::UNAUTHORIZED,
        Self::ROUTE_NOT_FOUND,
        Self::METHOD_NOT_ALLOWED,
        Self::REQUEST_TIMEOUT,
        Self::CONCURRENT_UPDATE,
        Self::BODY_TOO_LARGE,
        Self::HEADERS_TOO_LARGE,
        Self::UNSUPPORTED_MEDIA_TYPE,
        Self::UNSATISFIABLE_POLICY,
        Self::PLATFORM_NOT_CONNECTED,
        Self::INTERNAL,
        Self::UNAVAILABLE,
        Self::IDEMPOTENCY_KEY_INVALID,
        Self::IDEMPOTENCY_KEY_IN_FLIGHT,
        Self::IDEMPOTENCY_KEY_REUSED,
        Self::OVERLOADED,
    ];

    /// The `type` URI clients match on.
    pub fn uri(self) -> &'static str {
        self.0.uri
    }

    /// The HTTP status a problem of this type is sent with.
    pub fn status(self) -> StatusCode {
        self.0.status
    }

    /// The short, human-readable summary (the same for every occurrence).
    pub fn title(self) -> &'static str {
        self.0.title
    }

    /// Whether the same request, sent again unchanged, may succeed: the failure came from a
    /// race, an outage, load or a fault of the service, not from the request. Such answers are
    /// never replayed for an `Idempotency-Key`, because the replay would refuse the very
    /// retry they invite.
    pub fn is_transient(self) -> bool {
        self.0.retry != Retry::Never
    }

    /// Seconds a client should wait before retrying, sent as `Retry-After`. Only for the
    /// answers whose cause passes within moments; a store outage has no predictable end.
    /// The default: an in-flight idempotency key's answer names the time left on its lock
    /// instead (see `idempotency/mod.rs`).
    pub fn retry_after_seconds(self) -> Option<u32> {
        match self.0.retry {
            Retry::AfterSeconds(seconds) => Some(seconds),
            Retry::Never | Retry::Later => None,
        }
    }

    /// The type, and a detail, for an error response that a layer below the handlers
    /// produced without a body (see `middleware::problem_for_bare_errors`).
    fn for_bare_status(status: StatusCode) -> Option<(Self, &'static str)> {
        match status {
            StatusCode::NOT_FOUND => Some((Self::ROUTE_NOT_FOUND, "no route matches this path")),
            StatusCode::METHOD_NOT_ALLOWED => Some((
                Self::METHOD_NOT_ALLOWED,
                "this route does not accept the method; the Allow header lists the ones it does",
            )),
            StatusCode::REQUEST_TIMEOUT => Some((
                Self::REQUEST_TIMEOUT,
                "the request took longer than the server allows",
            )),
            StatusCode::PAYLOAD_TOO_LARGE => Some((
                Self::BODY_TOO_LARGE,
                "the request body exceeds the size limit",
            )),
            StatusCode::INTERNAL_SERVER_ERROR => Some((Self::INTERNAL, INTERNAL_DETAIL)),
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
    /// Extension members (RFC 9457 §3.2), e.g. `field` for a validation error. Boxed and
    /// absent until the first one is added: most problems have none, and a small `Problem`
    /// keeps every `Result<_, Problem>` small.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    extensions: Option<Box<Map<String, Value>>>,
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
            extensions: None,
            problem_type: Some(problem_type),
            retry_after_seconds: problem_type.retry_after_seconds(),
        }
    }

    /// The generic 500. The caller logs the cause first.
    pub(crate) fn internal() -> Self {
        Self::new(ProblemType::INTERNAL, INTERNAL_DETAIL)
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
                extensions: None,
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
        self.extensions
            .get_or_insert_default()
            .insert(name.to_owned(), value.into());
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
        let uris: HashSet<_> = crate::problem_types().map(ProblemType::uri).collect();
        assert_eq!(
            uris.len(),
            crate::problem_types().count(),
            "two types share a URI"
        );
        for uri in uris {
            assert!(uri.starts_with(env!("PROBLEM_BASE_URL")), "{uri}");
        }
    }

    #[test]
    fn every_type_is_an_error_status() {
        for problem_type in crate::problem_types() {
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
            Problem::new(ProblemType::VALIDATION, "title must not be empty").with("field", "title");
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
        for problem_type in crate::problem_types() {
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
        let response = Problem::new(ProblemType::OVERLOADED, "busy").into_response();
        assert_eq!(problem_type_of(&response), Some(ProblemType::OVERLOADED));
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");

        let response = Problem::for_status(StatusCode::IM_A_TEAPOT).into_response();
        assert_eq!(problem_type_of(&response), None);
        assert!(!response.headers().contains_key(header::RETRY_AFTER));
    }

    #[test]
    fn a_401_names_the_bearer_scheme() {
        let response = Problem::new(ProblemType::UNAUTHORIZED, "no key").into_response();
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert!(is_problem(response.headers()));
    }
}
