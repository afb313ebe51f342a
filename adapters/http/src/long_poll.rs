//! Long-polls: a `GET` with a `wait` query parameter, answered when the resource changes or
//! the wait runs out.
//!
//! A long-poll is mostly waiting, not working, so the edge treats it apart from other
//! requests: it is not counted against `max_in_flight` but against `max_waiters` of its own
//! (a parked wait costs its connection and little else), and its time limit is the request
//! timeout *plus* the longest wait, since it is meant to outlast the normal one. What it
//! waits for is the route's business: each aggregate's route brings its own use case over
//! the change feed.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request};

/// The longest wait a client may ask for: under the idle timeouts of common proxies and
/// load balancers (60 s), so they do not cut a wait short.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(60);

/// What the OpenAPI document says a `wait` is: 0–60 seconds, or 0 or 1 minute. Narrower than
/// [`parse_wait`] (which also reads leading zeros), never wider.
pub(crate) const WAIT_PATTERN: &str = "^(([0-9]|[1-5][0-9]|60)s?|[01]m)$";

/// The query parameter that makes a `GET` a long-poll.
const WAIT: &str = "wait";

/// Whether the edge should treat this request as a long-poll. A malformed `wait` counts
/// too: the handler refuses it, and it must not take a permit meant for work meanwhile.
pub(crate) fn is_long_poll(request: &Request<Body>) -> bool {
    request.method() == Method::GET
        && request.uri().query().is_some_and(|query| {
            query
                .split('&')
                .any(|pair| pair.split_once('=').map_or(pair, |(name, _)| name) == WAIT)
        })
}

/// Why a `wait` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum InvalidWait {
    #[error("wait must be a number of seconds, optionally followed by s or m (30, 30s, 2m)")]
    Unreadable,
    #[error("wait may be at most {}s", MAX_WAIT.as_secs())]
    TooLong,
}

/// Reads a `wait` value: `30s`, `2m`, or plain seconds (`45`), at most [`MAX_WAIT`].
pub(crate) fn parse_wait(value: &str) -> Result<Duration, InvalidWait> {
    let (number, unit) = match value.strip_suffix('s') {
        Some(seconds) => (seconds, 1),
        None => match value.strip_suffix('m') {
            Some(minutes) => (minutes, 60),
            None => (value, 1),
        },
    };
    // Digits only: `u64::from_str` would also take a leading `+`.
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InvalidWait::Unreadable);
    }
    let seconds = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .ok_or(InvalidWait::TooLong)?;
    let wait = Duration::from_secs(seconds);
    if wait > MAX_WAIT {
        return Err(InvalidWait::TooLong);
    }
    Ok(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_as_seconds_or_minutes() {
        assert_eq!(parse_wait("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_wait("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_wait("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_wait("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn waits_over_a_minute_are_refused() {
        assert_eq!(parse_wait("61s"), Err(InvalidWait::TooLong));
        assert_eq!(parse_wait("2m"), Err(InvalidWait::TooLong));
        assert_eq!(
            parse_wait("99999999999999999999"),
            Err(InvalidWait::TooLong)
        );
    }

    #[test]
    fn anything_else_is_unreadable() {
        for bad in ["", "s", "-1", "+5", "1.5s", "30 s", "1h", "ten"] {
            assert_eq!(parse_wait(bad), Err(InvalidWait::Unreadable), "{bad:?}");
        }
    }

    /// Every value the documented pattern admits is read, and none is over the limit: a
    /// client that follows the document is never refused. The pattern's language is small
    /// enough to list whole.
    #[test]
    fn every_wait_the_document_admits_is_accepted() {
        let admitted: Vec<String> = (0..=60)
            .flat_map(|n| [n.to_string(), format!("{n}s")])
            .chain(["0m".to_owned(), "1m".to_owned()])
            .collect();
        let pattern = regex::Regex::new(WAIT_PATTERN).unwrap();
        for value in &admitted {
            assert!(pattern.is_match(value), "{value}");
            assert!(parse_wait(value).is_ok(), "{value}");
        }
        for refused in ["61", "61s", "2m", "060", "1m0", "30S", ""] {
            assert!(!pattern.is_match(refused), "{refused}");
        }
    }

    #[test]
    fn only_a_get_with_a_wait_parameter_is_a_long_poll() {
        let request = |method: Method, uri: &str| {
            Request::builder()
                .method(method)
                .uri(uri)
                .body(Body::empty())
                .unwrap()
        };
        assert!(is_long_poll(&request(Method::GET, "/v1/x/1?wait=30s")));
        assert!(is_long_poll(&request(Method::GET, "/v1/x/1?a=b&wait")));
        assert!(!is_long_poll(&request(Method::GET, "/v1/x/1")));
        assert!(!is_long_poll(&request(Method::GET, "/v1/x/1?waiting=1")));
        assert!(!is_long_poll(&request(Method::POST, "/v1/x/1?wait=30s")));
    }
}
