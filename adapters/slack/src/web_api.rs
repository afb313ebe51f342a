//! What a Web API answer means for the caller: success, try again later, or give up.
//!
//! Slack answers almost everything with HTTP 200 and says in the body whether it worked
//! (`{"ok": false, "error": "channel_not_found"}`); only 429 is a meaningful status. The
//! classification below follows Slack's documented error codes, so the outbox relay retries
//! what can succeed later and dead-letters what cannot.

use std::time::Duration;

use application::ports::ChatError;
use reqwest::StatusCode;
use reqwest::header::HeaderValue;
use serde::Deserialize;

/// How long to wait after a rate limit when Slack does not say (it sometimes omits
/// `Retry-After`). Slack's own example value.
pub(crate) const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(30);

/// The fields of a successful answer this adapter reads. Slack adds fields freely, so unknown
/// ones are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct Answer {
    pub channel: Option<String>,
    pub ts: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    ok: bool,
    error: Option<String>,
    /// With `missing_scope`: the scope the token lacks.
    needed: Option<String>,
    warning: Option<String>,
    #[serde(flatten)]
    answer: Answer,
}

/// Slack's error codes for `chat.postMessage` and `chat.update`, by what they mean for us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    RateLimited,
    Transient,
    /// Slack may have done part of the work: a retry can post a duplicate.
    PartlyDone,
    Credentials,
    Destination,
    Payload,
    Message,
    Unknown,
}

fn class_of(code: &str) -> Class {
    match code {
        "ratelimited" | "rate_limited" => Class::RateLimited,
        "service_unavailable" | "internal_error" | "request_timeout" => Class::Transient,
        "fatal_error" => Class::PartlyDone,
        "invalid_auth"
        | "not_authed"
        | "account_inactive"
        | "token_revoked"
        | "token_expired"
        | "missing_scope"
        | "no_permission"
        | "not_allowed_token_type"
        | "team_access_not_granted"
        | "ekm_access_denied"
        | "org_login_required" => Class::Credentials,
        "channel_not_found" | "not_in_channel" | "is_archived" | "team_not_found" => {
            Class::Destination
        }
        code if code.starts_with("restricted_action") => Class::Destination,
        "invalid_blocks"
        | "invalid_blocks_format"
        | "msg_blocks_too_long"
        | "no_text"
        | "too_many_attachments"
        | "invalid_arguments"
        | "markdown_text_conflict"
        | "metadata_too_large"
        | "invalid_form_data"
        | "invalid_post_type"
        | "invalid_charset" => Class::Payload,
        "message_not_found"
        | "cant_update_message"
        | "edit_window_closed"
        | "msg_too_long"
        | "is_inactive"
        | "update_failed" => Class::Message,
        _ => Class::Unknown,
    }
}

/// Reads one answer of Web API `method`.
///
/// # Errors
/// - `RateLimited` for HTTP 429 and the rate-limit error codes, after `Retry-After` or
///   [`DEFAULT_RETRY_AFTER`].
/// - `Retryable` for HTTP 5xx and 408, the transient error codes, and a body that is not a
///   Web API answer.
/// - `Permanent` for any other HTTP status and every other error code: credentials,
///   destination, payload and message codes, and codes this adapter does not know (Slack
///   documents its transient codes, so an unknown one is most likely a refusal).
pub(crate) fn read_answer(
    method: &str,
    status: StatusCode,
    retry_after: Option<&HeaderValue>,
    body: &[u8],
) -> Result<Answer, ChatError> {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(ChatError::RateLimited {
            reason: format!("{method}: rate limited (HTTP 429)"),
            retry_after: seconds(retry_after).unwrap_or(DEFAULT_RETRY_AFTER),
        });
    }
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        return Err(ChatError::Retryable {
            reason: format!("{method}: Slack answered HTTP {status}"),
            retry_after: seconds(retry_after),
        });
    }
    if !status.is_success() {
        return Err(ChatError::Permanent {
            reason: format!("{method}: unexpected HTTP {status}; is the API base URL right?"),
        });
    }
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| ChatError::Retryable {
        reason: format!("{method}: unreadable answer: {e}"),
        retry_after: None,
    })?;
    if let Some(warning) = &envelope.warning {
        tracing::warn!(method, warning, "Slack accepted the call with a warning");
    }
    if envelope.ok {
        return Ok(envelope.answer);
    }
    let Some(code) = envelope.error else {
        return Err(ChatError::Retryable {
            reason: format!("{method}: answer says ok=false without an error code"),
            retry_after: None,
        });
    };
    let scope = envelope
        .needed
        .map(|needed| format!(" (needs scope {needed})"))
        .unwrap_or_default();
    Err(match class_of(&code) {
        Class::RateLimited => ChatError::RateLimited {
            reason: format!("{method}: {code}"),
            retry_after: seconds(retry_after).unwrap_or(DEFAULT_RETRY_AFTER),
        },
        Class::Transient => ChatError::Retryable {
            reason: format!("{method}: {code}"),
            retry_after: seconds(retry_after),
        },
        Class::PartlyDone => ChatError::Retryable {
            reason: format!(
                "{method}: {code}; Slack may have posted anyway, so a retry can duplicate the message"
            ),
            retry_after: seconds(retry_after),
        },
        Class::Credentials => ChatError::Permanent {
            reason: format!("{method}: {code}{scope}; fix the bot token or its scopes"),
        },
        Class::Destination => ChatError::Permanent {
            reason: format!("{method}: {code}; the bot cannot post to this channel"),
        },
        Class::Payload => ChatError::Permanent {
            reason: format!("{method}: {code}; Slack refused the message as built"),
        },
        Class::Message => ChatError::Permanent {
            reason: format!("{method}: {code}; the message cannot be updated"),
        },
        Class::Unknown => ChatError::Permanent {
            reason: format!("{method}: {code}"),
        },
    })
}

/// `Retry-After` as Slack sends it: whole seconds.
fn seconds(header: Option<&HeaderValue>) -> Option<Duration> {
    let value = header?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(code: &str) -> Result<Answer, ChatError> {
        let body = format!(r#"{{"ok":false,"error":"{code}"}}"#);
        read_answer("chat.postMessage", StatusCode::OK, None, body.as_bytes())
    }

    /// Worth trying again: retryable, or rate limited.
    fn is_retryable(result: &Result<Answer, ChatError>) -> bool {
        matches!(
            result,
            Err(ChatError::Retryable { .. } | ChatError::RateLimited { .. })
        )
    }

    fn is_permanent(result: &Result<Answer, ChatError>) -> bool {
        matches!(result, Err(ChatError::Permanent { .. }))
    }

    #[test]
    fn a_successful_answer_yields_channel_and_ts() {
        let body =
            br#"{"ok":true,"channel":"C1","ts":"1503435956.000247","message":{"type":"message"}}"#;
        assert_eq!(
            read_answer("chat.postMessage", StatusCode::OK, None, body),
            Ok(Answer {
                channel: Some("C1".into()),
                ts: Some("1503435956.000247".into())
            })
        );
    }

    #[test]
    fn transient_codes_are_retryable() {
        for code in [
            "ratelimited",
            "rate_limited",
            "service_unavailable",
            "internal_error",
            "request_timeout",
            "fatal_error",
        ] {
            assert!(is_retryable(&answer(code)), "{code}");
        }
    }

    #[test]
    fn rate_limit_codes_are_rate_limits_that_wait_the_default() {
        for code in ["ratelimited", "rate_limited"] {
            assert!(matches!(
                answer(code),
                Err(ChatError::RateLimited { retry_after, .. }) if retry_after == DEFAULT_RETRY_AFTER
            ));
        }
    }

    #[test]
    fn credential_destination_payload_and_update_codes_are_permanent() {
        for code in [
            "invalid_auth",
            "not_authed",
            "account_inactive",
            "token_revoked",
            "token_expired",
            "missing_scope",
            "no_permission",
            "not_allowed_token_type",
            "team_access_not_granted",
            "ekm_access_denied",
            "org_login_required",
            "channel_not_found",
            "not_in_channel",
            "is_archived",
            "restricted_action_read_only_channel",
            "team_not_found",
            "invalid_blocks",
            "invalid_blocks_format",
            "msg_blocks_too_long",
            "no_text",
            "too_many_attachments",
            "invalid_arguments",
            "markdown_text_conflict",
            "metadata_too_large",
            "invalid_form_data",
            "invalid_post_type",
            "invalid_charset",
            "message_not_found",
            "cant_update_message",
            "edit_window_closed",
            "msg_too_long",
            "is_inactive",
            "update_failed",
            "a_code_slack_invents_tomorrow",
        ] {
            let result = answer(code);
            assert!(is_permanent(&result), "{code}");
            assert!(result.unwrap_err().to_string().contains(code));
        }
    }

    #[test]
    fn missing_scope_names_the_scope_needed() {
        let body = br#"{"ok":false,"error":"missing_scope","needed":"chat:write","provided":"users:read"}"#;
        let err = read_answer("chat.postMessage", StatusCode::OK, None, body).unwrap_err();
        assert!(err.to_string().contains("needs scope chat:write"), "{err}");
    }

    #[test]
    fn http_429_waits_for_retry_after_or_the_default() {
        let body = br#"{"ok":false,"error":"ratelimited"}"#;
        let header = HeaderValue::from_static("7");
        let with = read_answer("m", StatusCode::TOO_MANY_REQUESTS, Some(&header), body);
        let without = read_answer("m", StatusCode::TOO_MANY_REQUESTS, None, body);
        let garbled = HeaderValue::from_static("soon");
        let unreadable = read_answer("m", StatusCode::TOO_MANY_REQUESTS, Some(&garbled), b"");
        for (result, expected) in [
            (with, Duration::from_secs(7)),
            (without, DEFAULT_RETRY_AFTER),
            (unreadable, DEFAULT_RETRY_AFTER),
        ] {
            assert!(matches!(
                result,
                Err(ChatError::RateLimited { retry_after, .. }) if retry_after == expected
            ));
        }
    }

    #[test]
    fn server_errors_are_retryable_and_other_statuses_permanent() {
        for status in [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::REQUEST_TIMEOUT,
        ] {
            assert!(
                is_retryable(&read_answer("m", status, None, b"")),
                "{status}"
            );
        }
        for status in [
            StatusCode::NOT_FOUND,
            StatusCode::FORBIDDEN,
            StatusCode::GONE,
        ] {
            assert!(
                is_permanent(&read_answer("m", status, None, b"")),
                "{status}"
            );
        }
    }

    #[test]
    fn an_unreadable_body_is_retryable() {
        for body in [
            &b"<html>bad gateway</html>"[..],
            b"",
            br#"{"ok":false}"#,
            b"ok",
        ] {
            assert!(is_retryable(&read_answer("m", StatusCode::OK, None, body)));
        }
    }
}
