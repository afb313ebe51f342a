//! Reading the `Idempotency-Key` request header.
//!
//! The IETF draft defines the header as an RFC 8941 structured-field string, so the standard
//! form is quoted: `Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"`. Many clients
//! (Stripe's among them) send the key bare, `Idempotency-Key: 8e03978e-…`, so a value without
//! quotes is accepted too and taken literally. Both forms name the same key: the quoted
//! string's content is the key, never its quotes. Parameters after the string (`"k";a=1`)
//! are refused rather than ignored: no client has a reason to send them, and silently
//! dropping part of a key would make two different keys collide.

use application::ports::IdempotencyKey;
use axum::http::{HeaderMap, HeaderName, HeaderValue};

use crate::problem::{Problem, ProblemType};

pub(super) const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

const EXAMPLE: &str = "8e03978e-40d5-43e8-bc93-6894a57f9324";

/// The request's idempotency key, or `None` when it sent none.
///
/// # Errors
/// An `idempotency-key-invalid` problem when the header is sent twice, is not a well-formed
/// string, or its content is empty, longer than 255 characters or not printable ASCII.
pub(super) fn read(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, Problem> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(invalid("Idempotency-Key must be sent once"));
    }
    let text = key_text(value).map_err(|reason| {
        invalid(format!(
            "Idempotency-Key {reason}; send it quoted, e.g. `Idempotency-Key: \"{EXAMPLE}\"`"
        ))
    })?;
    IdempotencyKey::parse(&text)
        .map(Some)
        .map_err(|error| invalid(error.to_string()))
}

fn invalid(detail: impl Into<String>) -> Problem {
    Problem::new(ProblemType::IDEMPOTENCY_KEY_INVALID, detail)
}

/// The key's text: the content of a quoted string, or a bare value as it is.
fn key_text(value: &HeaderValue) -> Result<String, &'static str> {
    // Fails on bytes outside visible ASCII, space and tab (obs-text): never part of a key.
    let text = value.to_str().map_err(|_| "must be printable ASCII")?;
    // RFC 8941 §4.2: surrounding spaces are not part of the value.
    let text = text.trim_matches(' ');
    match text.strip_prefix('"') {
        Some(quoted) => string_content(quoted),
        None if text.contains(['"', '\\']) => Err("is neither a quoted string nor a bare key"),
        None => Ok(text.to_owned()),
    }
}

/// The content of an RFC 8941 sf-string whose opening quote is already consumed: printable
/// ASCII in which `\` escapes only `"` and `\`, up to the closing quote, with nothing after
/// it.
fn string_content(rest: &str) -> Result<String, &'static str> {
    let mut content = String::with_capacity(rest.len());
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped @ ('"' | '\\')) => content.push(escaped),
                _ => return Err("may only escape `\"` and `\\` with a backslash"),
            },
            '"' if chars.as_str().is_empty() => return Ok(content),
            '"' => return Err("must end at its closing quote"),
            ' '..='~' => content.push(c),
            _ => return Err("must be printable ASCII"),
        }
    }
    Err("has no closing quote")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_value(value: &[u8]) -> Result<Option<String>, String> {
        let mut headers = HeaderMap::new();
        headers.insert(IDEMPOTENCY_KEY, HeaderValue::from_bytes(value).unwrap());
        read(&headers)
            .map(|key| key.map(|k| k.as_str().to_owned()))
            .map_err(|problem| format!("{problem:?}"))
    }

    #[test]
    fn no_header_is_no_key() {
        assert_eq!(read(&HeaderMap::new()).unwrap(), None);
    }

    #[test]
    fn a_quoted_and_a_bare_key_are_the_same_key() {
        let uuid = "8e03978e-40d5-43e8-bc93-6894a57f9324";
        for value in [
            format!("\"{uuid}\""),
            uuid.to_owned(),
            format!("  \"{uuid}\" "),
        ] {
            assert_eq!(
                read_value(value.as_bytes()),
                Ok(Some(uuid.to_owned())),
                "{value}"
            );
        }
    }

    #[test]
    fn a_quoted_key_may_escape_quotes_and_backslashes_and_contain_spaces() {
        assert_eq!(
            read_value(br#""a \"b\" \\ c""#),
            Ok(Some(r#"a "b" \ c"#.to_owned()))
        );
    }

    #[test]
    fn the_length_limit_applies_to_the_content_not_the_quotes() {
        let longest = "k".repeat(IdempotencyKey::MAX_CHARS);
        assert_eq!(
            read_value(format!("\"{longest}\"").as_bytes()),
            Ok(Some(longest.clone()))
        );
        assert!(read_value(format!("\"{longest}k\"").as_bytes()).is_err());
        assert!(read_value(format!("{longest}k").as_bytes()).is_err());
    }

    #[test]
    fn refuses_malformed_values() {
        for value in [
            &b""[..],
            b"\"\"",
            b"   ",
            b"\"unterminated",
            b"\"key\";param=1",
            b"\"key\"trailing",
            b"\"bad \\escape\"",
            b"bare\"quote",
            b"bare\\backslash",
            b"\"tab\there\"",
            b"tab\there",
            "\"ключ\"".as_bytes(),
            "ключ".as_bytes(),
        ] {
            assert!(
                read_value(value).is_err(),
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
    }

    #[test]
    fn refuses_two_headers() {
        let mut headers = HeaderMap::new();
        headers.append(IDEMPOTENCY_KEY, HeaderValue::from_static("\"a\""));
        headers.append(IDEMPOTENCY_KEY, HeaderValue::from_static("\"a\""));
        assert!(read(&headers).is_err());
    }
}
