//! The OpenAPI 3.1 document served at `GET /openapi.json`, generated from the code.
//!
//! Each handler documents itself in a `#[utoipa::path]` attribute beside its code: method,
//! path, parameters, bodies, and a `…Problems` type listing the problem types it can answer
//! with. The route tables (`routes/mod.rs`) register handlers through
//! `utoipa_axum::routes!`, which reads method and path from that same attribute, so what is
//! served and what is documented come from one place.
//!
//! This module holds what the handlers share: the document's frame ([`frame`]: info, the
//! bearer scheme, responses any path may give), the `Idempotency-Key` parameter, and the
//! builder of problem responses.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, OpenApi, Ref, RefOr, Required, Response, ResponseBuilder, Type,
};
use utoipa::{IntoParams, OpenApi as _};

use crate::dto::rules;
use crate::problem::{PROBLEM_JSON, Problem, ProblemType};
use crate::state::HttpSettings;

/// Declares an operation's `…Problems` type, named in its `#[utoipa::path]` responses: the
/// problem types it can answer with, as groups (`V1`, `V1_POST`) and slices of single types.
macro_rules! problems {
    ($name:ident, [$($group:expr),* $(,)?]) => {
        pub(super) struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> $crate::openapi::Responses {
                $crate::openapi::problem_responses(&[$($group),*])
            }
        }
    };
}
pub(crate) use problems;

/// An operation's responses, keyed by status code.
pub(crate) type Responses = BTreeMap<String, RefOr<Response>>;

/// The name of the bearer scheme that `/v1` operations list under `security`.
pub(crate) const API_KEY_SCHEME: &str = "api_key";

/// What every API route can answer: its headers are bounded, it may time out, and it may
/// fail.
const EVERY_ROUTE: &[ProblemType] = &[
    ProblemType::HEADERS_TOO_LARGE,
    ProblemType::REQUEST_TIMEOUT,
    ProblemType::INTERNAL,
];

/// What every `/v1` route can answer on top: it authenticates, reads the store, and may be
/// shed under load.
pub(crate) const V1: &[ProblemType] = &[
    ProblemType::UNAUTHORIZED,
    ProblemType::UNAVAILABLE,
    ProblemType::OVERLOADED,
];

/// What every `POST` under `/v1` can answer on top: it reads its body whole and takes an
/// `Idempotency-Key`.
pub(crate) const V1_POST: &[ProblemType] = &[
    ProblemType::BODY_TOO_LARGE,
    ProblemType::IDEMPOTENCY_KEY_INVALID,
    ProblemType::IDEMPOTENCY_KEY_IN_FLIGHT,
    ProblemType::IDEMPOTENCY_KEY_REUSED,
];

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = env!("SERVICE_NAME"),
        description = "Chat as the system interface: machines ask over HTTP, people answer \
                       in chat."
    ),
    tags(
        (
            name = "operations",
            description = "Probes, metrics and this document; no API key needed."
        ),
    ),
    components(schemas(Problem))
)]
struct Frame;

/// The document without its paths: info, tags, the `Problem` schema, the bearer scheme, and
/// the problem responses that belong to no operation (an unknown path, a wrong method).
pub(crate) fn frame(settings: &HttpSettings) -> OpenApi {
    let mut document = Frame::openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let summary = document.info.description.take().unwrap_or_default();
    document.info.description = Some(format!(
        "{summary}\n\n{}",
        conventions(
            settings.idempotency_ttl,
            crate::idempotency::lock_duration(settings.request_timeout),
        )
    ));
    let components = document.components.get_or_insert_with(Default::default);
    // Recursive, so it is a component the `metadata` schema refers to, not an inline schema.
    components.schemas.insert(
        rules::METADATA_VALUE.to_owned(),
        RefOr::T(rules::metadata_value()),
    );
    components.add_security_scheme(
        API_KEY_SCHEME,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(concat!(
                    "An API key created with `",
                    env!("SERVICE_NAME"),
                    " api-key create`."
                )))
                .build(),
        ),
    );
    for (name, problem_type) in [
        ("RouteNotFound", ProblemType::ROUTE_NOT_FOUND),
        ("MethodNotAllowed", ProblemType::METHOD_NOT_ALLOWED),
    ] {
        components
            .responses
            .insert(name.to_owned(), RefOr::T(problem_response(&[problem_type])));
    }
    document
}

/// The rules every operation follows, stated once in the document's description.
fn conventions(idempotency_ttl: Duration, idempotency_lock: Duration) -> String {
    format!(
        "**Authentication**: `Authorization: Bearer <API key>` on every `/v1` route.\n\n\
         **Errors**: every error is an RFC 9457 `application/problem+json` body; branch on its \
         `type`. Every problem carries `request_id`, which is also sent as the `x-request-id` \
         response header (send your own `x-request-id`, up to 128 visible ASCII characters, to \
         choose it); two components, `RouteNotFound` and `MethodNotAllowed`, are what any path \
         answers for an unknown path or method. Requests beyond the in-flight limit get 503 \
         `overloaded` with `Retry-After`.\n\n\
         **Idempotency**: every `POST` under `/v1` accepts an `Idempotency-Key` header \
         (IETF draft-ietf-httpapi-idempotency-key-header). Retrying with the same key and the \
         same request replays the first answer, marked `Idempotent-Replayed: true`; the same \
         key with another request is refused with 422. Answers to retry (5xx, lost races) are \
         not kept. Keys are remembered for {} after their first use. While the first \
         request with a key runs, a retry gets 409 `idempotency-key-in-flight` with \
         `Retry-After` set to the seconds left on its lock, which lasts {} (the request \
         timeout plus one second): by then the first request has answered, or it died and \
         the retry takes the key over.",
        human_duration(idempotency_ttl),
        human_duration(idempotency_lock),
    )
}

fn human_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let (count, unit) = match seconds {
        s if s >= 3600 && s % 3600 == 0 => (s / 3600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural}")
}

/// The optional `Idempotency-Key` header of every `POST` under `/v1`.
pub(crate) struct IdempotencyKeyHeader;

impl IntoParams for IdempotencyKeyHeader {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let schema = rules::idempotency_key();
        vec![
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Makes retries safe: a structured-field string (quoted) whose content is \
                     1–255 printable ASCII characters, unique per request — a UUID is ideal. \
                     A bare, unquoted key is accepted too and means the same key.",
                ))
                .schema(Some(schema))
                .build(),
        ]
    }
}

/// The error responses of an operation: one per status, each listing the problem types it
/// can carry with an example of each. `RequestTimeout` and `Internal` are added for every
/// operation.
pub(crate) fn problem_responses(groups: &[&[ProblemType]]) -> Responses {
    let mut by_status: BTreeMap<u16, Vec<ProblemType>> = BTreeMap::new();
    for &problem_type in groups.iter().copied().flatten().chain(EVERY_ROUTE) {
        let types = by_status.entry(problem_type.status().as_u16()).or_default();
        if !types.contains(&problem_type) {
            types.push(problem_type);
        }
    }
    by_status
        .into_iter()
        .map(|(status, types)| (status.to_string(), RefOr::T(problem_response(&types))))
        .collect()
}

fn problem_response(types: &[ProblemType]) -> Response {
    let description = types
        .iter()
        .map(|problem_type| format!("`{}`: {}", slug(*problem_type), problem_type.title()))
        .collect::<Vec<_>>()
        .join("; ");
    let examples = types.iter().map(|&problem_type| {
        let value = json!({
            "type": problem_type.uri(),
            "title": problem_type.title(),
            "status": problem_type.status().as_u16(),
            "detail": problem_type.title(),
            "request_id": "0192f0c1-7b3e-7000-8000-000000000000",
        });
        let example = ExampleBuilder::new()
            .summary(problem_type.title())
            .value(Some(value))
            .build();
        (slug(problem_type), example)
    });
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .examples_from_iter(examples)
        .build();
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, content);
    if types.contains(&ProblemType::UNAUTHORIZED) {
        response = response.header("WWW-Authenticate", string_header("Always `Bearer`."));
    }
    if types.iter().any(|t| t.retry_after_seconds().is_some()) {
        response = response.header(
            "Retry-After",
            string_header(
                "Seconds to wait before retrying: 1 for `overloaded`, the time left on the key's lock \
                 for `idempotency-key-in-flight`.",
            ),
        );
    }
    response.build()
}

fn string_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(description))
        .build()
}

/// The last segment of the type URI, e.g. `validation`: short, and unique like the URI.
fn slug(problem_type: ProblemType) -> &'static str {
    let uri = problem_type.uri();
    uri.rsplit('/').next().unwrap_or(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_group_problem_types_by_status_and_always_include_the_route_limits() {
        let responses = problem_responses(&[
            &[ProblemType::MALFORMED_BODY, ProblemType::VALIDATION],
            &[ProblemType::VALIDATION, ProblemType::UNAVAILABLE],
        ]);
        let statuses: Vec<&str> = responses.keys().map(String::as_str).collect();
        assert_eq!(statuses, ["400", "408", "431", "500", "503"]);
        let RefOr::T(bad_request) = &responses["400"] else {
            panic!("an inline response")
        };
        assert_eq!(
            bad_request.description,
            "`malformed-body`: Malformed request body; `validation`: Invalid field value"
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_secs(24 * 3600)), "24 hours");
        assert_eq!(human_duration(Duration::from_secs(90 * 60)), "90 minutes");
        assert_eq!(human_duration(Duration::from_secs(61)), "61 seconds");
        assert_eq!(human_duration(Duration::from_secs(3600)), "1 hour");
    }
}
