//! Proof that a request came from Slack: `X-Slack-Signature` is `v0=` + hex HMAC-SHA256 of
//! `v0:{X-Slack-Request-Timestamp}:{raw body}`, keyed with the app's signing secret.
//!
//! The check runs over the body bytes exactly as received, before anything parses them:
//! decoding and re-encoding a form can change bytes (`%2A` becomes `*`) and break a valid
//! signature, and parsing unauthenticated input is attack surface for nothing. The timestamp
//! must be within five minutes of our clock, either way, so a captured request cannot be
//! replayed later. Errors name what was wrong and never contain a signature or the secret.

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

const SIGNATURE_HEADER: &str = "x-slack-signature";
const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
const VERSION_PREFIX: &str = "v0=";
/// Slack's replay window, in seconds.
const MAX_SKEW_SECONDS: u64 = 300;

/// Why a request's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SignatureError {
    #[error("header {0} is missing")]
    MissingHeader(&'static str),
    #[error("header {0} appears more than once")]
    DuplicateHeader(&'static str),
    #[error("the request timestamp is not a number of seconds")]
    MalformedTimestamp,
    #[error(
        "the request timestamp is {skew_seconds} s away from now (at most {MAX_SKEW_SECONDS} s allowed)"
    )]
    OutsideWindow { skew_seconds: u64 },
    #[error("the signature is not `v0=` followed by 64 hex digits")]
    MalformedSignature,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// The two signature headers, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignatureHeaders {
    timestamp: String,
    signature: String,
}

impl SignatureHeaders {
    /// Reads both headers. Header names are case-insensitive, as Slack requires.
    ///
    /// # Errors
    /// `MissingHeader` or `DuplicateHeader`; `MalformedTimestamp`/`MalformedSignature` when a
    /// value is not visible ASCII.
    pub(crate) fn read(headers: &HeaderMap) -> Result<Self, SignatureError> {
        Ok(Self {
            timestamp: single(headers, TIMESTAMP_HEADER)
                .and_then(|v| v.ok_or(SignatureError::MalformedTimestamp))?,
            signature: single(headers, SIGNATURE_HEADER)
                .and_then(|v| v.ok_or(SignatureError::MalformedSignature))?,
        })
    }
}

/// Checks the signature of `body`.
///
/// # Errors
/// The [`SignatureError`] naming the first check that failed.
pub(crate) fn verify(
    headers: &SignatureHeaders,
    body: &[u8],
    secret: &SecretString,
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    // Digits only: `i64::from_str` would also accept a sign.
    if headers.timestamp.is_empty() || !headers.timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::MalformedTimestamp);
    }
    let timestamp: i64 = headers
        .timestamp
        .parse()
        .map_err(|_| SignatureError::MalformedTimestamp)?;
    let skew_seconds = now.timestamp().abs_diff(timestamp);
    if skew_seconds > MAX_SKEW_SECONDS {
        return Err(SignatureError::OutsideWindow { skew_seconds });
    }

    let claimed = headers
        .signature
        .strip_prefix(VERSION_PREFIX)
        .and_then(|digest| hex::decode(digest).ok())
        .filter(|digest| digest.len() == 32)
        .ok_or(SignatureError::MalformedSignature)?;

    // HMAC accepts keys of any length, so this cannot fail; mapping it keeps the code free of
    // panics all the same.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .map_err(|_| SignatureError::Mismatch)?;
    mac.update(b"v0:");
    mac.update(headers.timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    // Constant time: how long the comparison takes says nothing about how much matched.
    mac.verify_slice(&claimed)
        .map_err(|_| SignatureError::Mismatch)
}

/// The value of a header that must appear exactly once; `Ok(None)` when it is not text.
fn single(headers: &HeaderMap, name: &'static str) -> Result<Option<String>, SignatureError> {
    let mut values = headers.get_all(name).iter();
    let value = values.next().ok_or(SignatureError::MissingHeader(name))?;
    if values.next().is_some() {
        return Err(SignatureError::DuplicateHeader(name));
    }
    Ok(value.to_str().ok().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use chrono::TimeZone;

    use super::*;

    // Slack's published example (docs: "Verifying requests from Slack").
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: i64 = 1_531_420_618;
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, 0).unwrap()
    }

    fn headers(timestamp: &str, signature: &str) -> SignatureHeaders {
        let mut map = HeaderMap::new();
        map.insert(TIMESTAMP_HEADER, HeaderValue::from_str(timestamp).unwrap());
        map.insert(SIGNATURE_HEADER, HeaderValue::from_str(signature).unwrap());
        SignatureHeaders::read(&map).unwrap()
    }

    fn check(
        headers: &SignatureHeaders,
        body: &str,
        secret: &str,
        now: i64,
    ) -> Result<(), SignatureError> {
        verify(headers, body.as_bytes(), &secret.into(), at(now))
    }

    #[test]
    fn slacks_published_example_verifies() {
        assert_eq!(
            check(&headers("1531420618", SIGNATURE), BODY, SECRET, TIMESTAMP),
            Ok(())
        );
    }

    #[test]
    fn an_upper_case_header_name_is_the_same_header() {
        let mut map = HeaderMap::new();
        map.insert(
            "X-Slack-Request-Timestamp",
            HeaderValue::from_static("1531420618"),
        );
        map.insert("X-Slack-Signature", HeaderValue::from_static(SIGNATURE));
        let headers = SignatureHeaders::read(&map).unwrap();
        assert_eq!(check(&headers, BODY, SECRET, TIMESTAMP), Ok(()));
    }

    #[test]
    fn a_changed_body_or_secret_does_not_verify() {
        let headers = headers("1531420618", SIGNATURE);
        let tampered = BODY.replace("text=", "text=approve");
        assert_eq!(
            check(&headers, &tampered, SECRET, TIMESTAMP),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(&headers, BODY, "another-secret", TIMESTAMP),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_signed_timestamp_cannot_be_swapped() {
        // Re-sent with a fresh timestamp, the old signature no longer matches.
        let headers = headers("1531420619", SIGNATURE);
        assert_eq!(
            check(&headers, BODY, SECRET, TIMESTAMP),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_window_is_five_minutes_either_way() {
        let headers = headers("1531420618", SIGNATURE);
        for now in [TIMESTAMP - 300, TIMESTAMP + 300] {
            assert_eq!(check(&headers, BODY, SECRET, now), Ok(()), "{now}");
        }
        assert_eq!(
            check(&headers, BODY, SECRET, TIMESTAMP + 301),
            Err(SignatureError::OutsideWindow { skew_seconds: 301 })
        );
        assert_eq!(
            check(&headers, BODY, SECRET, TIMESTAMP - 301),
            Err(SignatureError::OutsideWindow { skew_seconds: 301 })
        );
    }

    #[test]
    fn malformed_timestamps_are_refused() {
        for timestamp in [
            "",
            "+1531420618",
            "-1531420618",
            "1531420618.5",
            "soon",
            "99999999999999999999",
        ] {
            assert_eq!(
                check(&headers(timestamp, SIGNATURE), BODY, SECRET, TIMESTAMP),
                Err(SignatureError::MalformedTimestamp),
                "{timestamp:?}"
            );
        }
    }

    #[test]
    fn malformed_signatures_are_refused() {
        let digest = SIGNATURE.trim_start_matches("v0=");
        for signature in [
            digest.to_owned(),
            format!("v1={digest}"),
            format!("v0={}", &digest[..62]),
            format!("v0={digest}00"),
            format!("v0={}zz", &digest[..62]),
            String::new(),
        ] {
            assert_eq!(
                check(&headers("1531420618", &signature), BODY, SECRET, TIMESTAMP),
                Err(SignatureError::MalformedSignature),
                "{signature:?}"
            );
        }
    }

    #[test]
    fn missing_and_repeated_headers_are_refused() {
        let mut map = HeaderMap::new();
        assert_eq!(
            SignatureHeaders::read(&map),
            Err(SignatureError::MissingHeader(TIMESTAMP_HEADER))
        );
        map.insert(TIMESTAMP_HEADER, HeaderValue::from_static("1531420618"));
        assert_eq!(
            SignatureHeaders::read(&map),
            Err(SignatureError::MissingHeader(SIGNATURE_HEADER))
        );
        map.insert(SIGNATURE_HEADER, HeaderValue::from_static(SIGNATURE));
        map.append(SIGNATURE_HEADER, HeaderValue::from_static(SIGNATURE));
        assert_eq!(
            SignatureHeaders::read(&map),
            Err(SignatureError::DuplicateHeader(SIGNATURE_HEADER))
        );
    }

    #[test]
    fn errors_never_show_the_signature() {
        let headers = headers("1531420618", SIGNATURE);
        let err = check(&headers, "tampered", SECRET, TIMESTAMP).unwrap_err();
        let shown = err.to_string();
        assert!(!shown.contains(&SIGNATURE[3..13]), "{shown}");
        assert!(!shown.contains(SECRET), "{shown}");
    }
}
