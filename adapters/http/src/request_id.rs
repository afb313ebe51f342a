//! Request ids: one id per request, in its logs, its response headers and its problem bodies.
//!
//! The id comes from the `x-request-id` request header when a client or proxy sent a sane one
//! (so a trace can follow a request across services), otherwise it is generated. It is echoed
//! in the `x-request-id` response header, recorded in the request's span (so every log line
//! of the request carries it) and sent as the `request_id` member of every problem body, so a
//! user reporting an error hands over the one string that finds its logs.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use uuid::Uuid;

pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest id accepted from a client; longer ones are replaced. Enough for any UUID, ULID or
/// trace id, small enough that a hostile client cannot bloat every log line of its request.
const MAX_LEN: usize = 128;

/// The id of the request being handled. Cheap to clone: a header value is reference-counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestId(HeaderValue);

impl RequestId {
    /// The client's id if it sent exactly one that is 1–128 visible ASCII characters. Anything
    /// else (spaces, control or non-ASCII bytes, two headers) could break log lines or is
    /// ambiguous, so it is replaced rather than refused: a bad id must not fail a request.
    fn from_client(headers: &HeaderMap) -> Option<Self> {
        let mut values = headers.get_all(X_REQUEST_ID).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return None;
        };
        let bytes = value.as_bytes();
        let sane =
            !bytes.is_empty() && bytes.len() <= MAX_LEN && bytes.iter().all(u8::is_ascii_graphic);
        sane.then(|| Self(value.clone()))
    }

    /// A fresh UUID v7: unique without coordination, and time-ordered, so ids sort like the
    /// log lines they appear in.
    fn generate() -> Self {
        let id = Uuid::now_v7().hyphenated().to_string();
        // A hyphenated UUID is always a valid header value; the fallback only satisfies the
        // type checker and can never be reached.
        Self(HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("unknown")))
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only visible ASCII gets in (see `from_client`, `generate`), so this never fails.
        self.0.to_str().unwrap_or_default()
    }
}

tokio::task_local! {
    /// The id of the request this task is handling. A task-local rather than a parameter
    /// because problems are built deep inside extractors and handlers that never see the
    /// request; threading the id through every signature for one cross-cutting field would
    /// clutter them all — the same reasoning that makes `tracing` spans ambient.
    static CURRENT: RequestId;
}

/// The id of the request being handled, if called while handling one.
pub(crate) fn current() -> Option<RequestId> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Middleware: settles the request's id, makes it visible to everything below, and echoes it.
///
/// The id is written back into the request headers so that inner layers and handlers see
/// the same value the response will carry, and into the request extensions for the trace
/// layer's span.
pub(crate) async fn assign(mut request: Request, next: Next) -> Response {
    let id = RequestId::from_client(request.headers()).unwrap_or_else(RequestId::generate);
    request.headers_mut().insert(X_REQUEST_ID, id.0.clone());
    request.extensions_mut().insert(id.clone());
    let mut response = CURRENT.scope(id.clone(), next.run(request)).await;
    response.headers_mut().insert(X_REQUEST_ID, id.0);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(X_REQUEST_ID, HeaderValue::from_bytes(value).unwrap());
        }
        headers
    }

    #[test]
    fn keeps_a_sane_client_id() {
        let longest = "a".repeat(MAX_LEN);
        for id in ["abc-123", "0192f0c1-7b3e-7000-8000-000000000000", &longest] {
            let kept = RequestId::from_client(&headers(&[id.as_bytes()]));
            assert_eq!(kept.as_ref().map(RequestId::as_str), Some(id));
        }
    }

    #[test]
    fn refuses_ids_that_could_break_a_log_line_or_are_ambiguous() {
        let too_long = "a".repeat(MAX_LEN + 1);
        for values in [
            &[][..],
            &[b"".as_slice()],
            &[too_long.as_bytes()],
            &[b"two words"],
            &[b"tab\there"],
            &["ключ".as_bytes()],
            &[b"first", b"second"],
        ] {
            assert_eq!(RequestId::from_client(&headers(values)), None, "{values:?}");
        }
    }

    #[test]
    fn generated_ids_are_uuids() {
        let id = RequestId::generate();
        assert!(Uuid::parse_str(id.as_str()).is_ok(), "{}", id.as_str());
    }

    #[tokio::test]
    async fn current_is_the_id_of_the_scope_and_none_outside() {
        assert_eq!(current(), None);
        let id = RequestId::generate();
        let seen = CURRENT.scope(id.clone(), async { current() }).await;
        assert_eq!(seen, Some(id));
    }
}
