//! The validated values an approval request is made of.

use std::fmt;

use chrono::Duration;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::validation::{ValidationError, Violation, multi_line, string_newtype};

/// Identifies an approval request. UUID v7, so ids sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApprovalId(Uuid);

impl ApprovalId {
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for ApprovalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An approver's optional remark on a decision: up to 1000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Comment(String);

impl Comment {
    pub const MAX_CHARS: usize = 1000;

    /// # Errors
    /// `TooLong`, `ControlCharacter` (other than line breaks and tabs) or `FormatCharacter`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        multi_line("comment", raw, Self::MAX_CHARS).map(Self)
    }
}
string_newtype!(Comment);

/// Opaque caller data kept with the request: a JSON object of at most 8 KiB, with no NUL
/// character (U+0000) in any key or string.
///
/// The NUL rule is a storage rule made a domain one: PostgreSQL's `jsonb` (and `text`)
/// cannot hold U+0000 while SQLite can, and the same request must get the same answer on
/// every store — a 400 naming the field, not a 201 on one and a 503 on the other.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value", into = "serde_json::Value")]
pub struct Metadata(serde_json::Map<String, serde_json::Value>);

impl Metadata {
    pub const MAX_BYTES: usize = 8 * 1024;

    /// # Errors
    /// `Format` when the value is not a JSON object or a key or string in it contains
    /// U+0000, `TooLarge` beyond 8 KiB serialized.
    pub fn parse(value: serde_json::Value) -> Result<Self, ValidationError> {
        const FIELD: &str = "metadata";
        let serde_json::Value::Object(map) = value else {
            return Err(ValidationError::new(
                FIELD,
                Violation::Format("must be a JSON object"),
            ));
        };
        // Counting bytes through a writer avoids allocating the serialized form.
        let mut counter = ByteCounter(0);
        // Writing a Map to an in-memory counter cannot fail.
        let _ = serde_json::to_writer(&mut counter, &map);
        if counter.0 > Self::MAX_BYTES {
            return Err(ValidationError::new(
                FIELD,
                Violation::TooLarge {
                    max: Self::MAX_BYTES,
                },
            ));
        }
        if contains_nul(&map) {
            return Err(ValidationError::new(
                FIELD,
                Violation::Format("must not contain the NUL character (U+0000) in a key or string"),
            ));
        }
        Ok(Self(map))
    }

    pub fn as_map(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.0
    }
}

impl TryFrom<serde_json::Value> for Metadata {
    type Error = ValidationError;
    fn try_from(value: serde_json::Value) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Metadata> for serde_json::Value {
    fn from(value: Metadata) -> Self {
        serde_json::Value::Object(value.0)
    }
}

/// Whether any key or string at any depth contains U+0000. Walks with its own stack, so a
/// deeply nested value cannot overflow the call stack.
fn contains_nul(map: &serde_json::Map<String, serde_json::Value>) -> bool {
    use serde_json::Value;
    let mut pending: Vec<&Value> = map.values().collect();
    let mut found = map.keys().any(|key| key.contains('\0'));
    while let (false, Some(value)) = (found, pending.pop()) {
        found = match value {
            Value::String(text) => text.contains('\0'),
            Value::Array(items) => {
                pending.extend(items);
                false
            }
            Value::Object(object) => {
                pending.extend(object.values());
                object.keys().any(|key| key.contains('\0'))
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        };
    }
    found
}

struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Where the requester wants to be told the outcome: an absolute `http`/`https` URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CallbackUrl(String);

impl CallbackUrl {
    pub const MAX_CHARS: usize = 2048;

    /// # Errors
    /// `TooLong`, or `Format` when it is not an absolute http(s) URL with a host.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "callback_url";
        if raw.len() > Self::MAX_CHARS {
            return Err(ValidationError::new(
                FIELD,
                Violation::TooLong {
                    max: Self::MAX_CHARS,
                },
            ));
        }
        let url = url::Url::parse(raw).map_err(|_| {
            ValidationError::new(FIELD, Violation::Format("must be an absolute URL"))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(ValidationError::new(
                FIELD,
                Violation::Format("must be an http or https URL with a host"),
            ));
        }
        Ok(Self(url.into()))
    }
}
string_newtype!(CallbackUrl);

/// How long a request stays open: one minute to thirty days, 24 hours by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttl(Duration);

impl Ttl {
    pub const MIN_SECONDS: i64 = 60;
    pub const MAX_SECONDS: i64 = 30 * 24 * 60 * 60;
    pub const DEFAULT_SECONDS: i64 = 24 * 60 * 60;

    /// # Errors
    /// `OutOfRange` outside one minute to thirty days.
    pub fn from_seconds(seconds: i64) -> Result<Self, ValidationError> {
        if !(Self::MIN_SECONDS..=Self::MAX_SECONDS).contains(&seconds) {
            return Err(ValidationError::new(
                "expires_in_seconds",
                Violation::OutOfRange {
                    min: Self::MIN_SECONDS,
                    max: Self::MAX_SECONDS,
                },
            ));
        }
        Ok(Self(Duration::seconds(seconds)))
    }

    pub fn as_duration(&self) -> Duration {
        self.0
    }
}

impl Default for Ttl {
    fn default() -> Self {
        Self(Duration::seconds(Self::DEFAULT_SECONDS))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn metadata_must_be_a_small_object() {
        assert!(Metadata::parse(json!({"model": "v7"})).is_ok());
        assert_eq!(
            Metadata::parse(json!([1, 2])).map(|_| ()),
            Err(ValidationError::new(
                "metadata",
                Violation::Format("must be a JSON object")
            ))
        );
        let big = json!({ "blob": "x".repeat(8 * 1024) });
        assert_eq!(
            Metadata::parse(big).map(|_| ()),
            Err(ValidationError::new(
                "metadata",
                Violation::TooLarge { max: 8192 }
            ))
        );
    }

    #[test]
    fn metadata_refuses_nul_in_any_key_or_string_at_any_depth() {
        let refused = Err(ValidationError::new(
            "metadata",
            Violation::Format("must not contain the NUL character (U+0000) in a key or string"),
        ));
        for bad in [
            json!({"k": "a\u{0}b"}),
            json!({"a\u{0}b": 1}),
            json!({"deep": [1, {"x": ["ok", "\u{0}"]}]}),
            json!({"deep": {"er": {"k\u{0}": null}}}),
        ] {
            assert_eq!(Metadata::parse(bad.clone()).map(|_| ()), refused, "{bad}");
        }
        assert!(Metadata::parse(json!({"k": "a\\u0000b", "n": [0, null, "\u{1}"]})).is_ok());
    }

    #[test]
    fn callback_url_must_be_http() {
        assert!(CallbackUrl::parse("https://ci.example.com/hooks/42").is_ok());
        assert!(CallbackUrl::parse("ftp://example.com").is_err());
        assert!(CallbackUrl::parse("/relative").is_err());
        assert!(CallbackUrl::parse("file:///etc/passwd").is_err());
    }

    #[test]
    fn ttl_is_bounded() {
        assert!(Ttl::from_seconds(59).is_err());
        assert!(Ttl::from_seconds(60).is_ok());
        assert!(Ttl::from_seconds(30 * 24 * 3600).is_ok());
        assert!(Ttl::from_seconds(30 * 24 * 3600 + 1).is_err());
        assert_eq!(Ttl::default().as_duration(), Duration::hours(24));
    }
}
