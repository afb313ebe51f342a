//! What a REST answer means for the caller: success, slow down, try again later, or give up.
//!
//! Unlike Slack, Discord says it with the HTTP status; the JSON body adds a numeric `code`
//! (`50001 Missing Access`, `10003 Unknown Channel`) for 4xx answers, and 429 answers carry
//! `retry_after` in fractional seconds plus the `X-RateLimit-*` headers. The classification
//! follows the reference (`shared/reference/chat-protocols.md` §7.2): 429 waits as long as
//! Discord says (global limits too), 5xx and 408 retry, every other 4xx is a refusal that
//! retrying cannot change — dead-lettered, and counted in the relay's metrics.

use std::time::Duration;

use application::ports::ChatError;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;

/// How long to wait after a 429 that says nothing about when to come back.
pub(crate) const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);
/// An answer longer than this is not worth waiting for (a bad header or body).
const RETRY_AFTER_MAX: Duration = Duration::from_secs(60 * 60);

/// The fields of an error body this adapter reads.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    code: Option<i64>,
    message: Option<String>,
    retry_after: Option<f64>,
    #[serde(default)]
    global: bool,
}

/// The fields of a created message this adapter reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct CreatedMessage {
    pub id: String,
    pub channel_id: String,
}

/// Reads one answer of `call` (e.g. `POST /channels/{id}/messages`); `Ok` with the body of a
/// 2xx answer.
///
/// # Errors
/// - `RateLimited` for 429, after the body's `retry_after`, else `Retry-After`, else
///   `X-RateLimit-Reset-After`, else [`DEFAULT_RETRY_AFTER`].
/// - `Retryable` for 5xx and 408, with `Retry-After` when given.
/// - `Permanent` for every other status: 401 (bad token), 403 and `50001`/`50013`
///   (the bot may not see or write the channel), 404 and `10003`/`10008` (no such channel
///   or message), 400 and `50035` (a body Discord refuses).
pub(crate) fn read_answer<'b>(
    call: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &'b [u8],
) -> Result<&'b [u8], ChatError> {
    if status.is_success() {
        return Ok(body);
    }
    let error: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let described = match (error.code, &error.message) {
        (Some(code), Some(message)) => format!("{code} {message}"),
        (Some(code), None) => code.to_string(),
        (None, Some(message)) => message.clone(),
        (None, None) => "no error body".to_owned(),
    };
    if status == StatusCode::TOO_MANY_REQUESTS {
        let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let global = error.global || header("x-ratelimit-global") == Some("true");
        let scope = header("x-ratelimit-scope").unwrap_or(if global { "global" } else { "route" });
        let retry_after = error
            .retry_after
            .and_then(seconds)
            .or_else(|| header("retry-after").and_then(parse_seconds))
            .or_else(|| header("x-ratelimit-reset-after").and_then(parse_seconds))
            .unwrap_or(DEFAULT_RETRY_AFTER);
        return Err(ChatError::RateLimited {
            reason: format!("{call}: rate limited ({scope} limit, HTTP 429)"),
            retry_after,
        });
    }
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        return Err(ChatError::Retryable {
            reason: format!("{call}: Discord answered HTTP {status}: {described}"),
            retry_after: headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_seconds),
        });
    }
    let hint = match (status.as_u16(), error.code) {
        (401, _) => " (is DISCORD_BOT_TOKEN right?)",
        (_, Some(50001 | 50013)) | (403, _) => {
            " (the bot cannot see or write to this channel: check its permissions)"
        }
        (_, Some(10003)) => " (no such channel)",
        (_, Some(10008)) => " (the message was deleted)",
        _ => "",
    };
    Err(ChatError::Permanent {
        reason: format!("{call}: Discord answered HTTP {status}: {described}{hint}"),
    })
}

fn parse_seconds(raw: &str) -> Option<Duration> {
    raw.trim().parse::<f64>().ok().and_then(seconds)
}

fn seconds(value: f64) -> Option<Duration> {
    (value.is_finite() && value >= 0.0).then(|| Duration::from_secs_f64(value).min(RETRY_AFTER_MAX))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn answer(status: u16, headers: &[(&'static str, &str)], body: &str) -> Result<(), ChatError> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        read_answer(
            "call",
            StatusCode::from_u16(status).unwrap(),
            &map,
            body.as_bytes(),
        )
        .map(|_| ())
    }

    fn waits(result: Result<(), ChatError>) -> Duration {
        match result {
            Err(ChatError::RateLimited { retry_after, .. }) => retry_after,
            other => panic!("not rate limited: {other:?}"),
        }
    }

    #[test]
    fn a_429_waits_the_fractional_retry_after_of_its_body_first() {
        let body = r#"{"message":"You are being rate limited.","retry_after":1.5,"global":false}"#;
        assert_eq!(
            waits(answer(429, &[("retry-after", "2")], body)),
            Duration::from_millis(1500)
        );
        assert_eq!(
            waits(answer(429, &[("retry-after", "2")], "")),
            Duration::from_secs(2)
        );
        assert_eq!(
            waits(answer(429, &[("x-ratelimit-reset-after", "0.25")], "")),
            Duration::from_millis(250)
        );
        assert_eq!(waits(answer(429, &[], "")), DEFAULT_RETRY_AFTER);
        assert_eq!(
            waits(answer(429, &[], r#"{"retry_after": -3}"#)),
            DEFAULT_RETRY_AFTER
        );
    }

    #[test]
    fn a_global_limit_says_so() {
        let result = answer(429, &[], r#"{"retry_after": 0.5, "global": true}"#);
        let Err(ChatError::RateLimited { reason, .. }) = result else {
            panic!("{result:?}")
        };
        assert!(reason.contains("global"), "{reason}");
    }

    #[test]
    fn server_errors_retry_and_refusals_are_permanent() {
        assert!(matches!(
            answer(502, &[], ""),
            Err(ChatError::Retryable { .. })
        ));
        assert!(matches!(
            answer(408, &[], ""),
            Err(ChatError::Retryable { .. })
        ));
        for (status, body) in [
            (401, r#"{"message": "401: Unauthorized", "code": 0}"#),
            (403, r#"{"message": "Missing Access", "code": 50001}"#),
            (404, r#"{"message": "Unknown Channel", "code": 10003}"#),
            (400, r#"{"message": "Invalid Form Body", "code": 50035}"#),
        ] {
            let result = answer(status, &[], body);
            assert!(
                matches!(result, Err(ChatError::Permanent { .. })),
                "{status}: {result:?}"
            );
        }
        let Err(ChatError::Permanent { reason }) =
            answer(403, &[], r#"{"message": "Missing Access", "code": 50001}"#)
        else {
            panic!("not permanent")
        };
        assert!(reason.contains("50001 Missing Access"), "{reason}");
    }
}
