//! Free-form JSON that refuses duplicate object keys.
//!
//! `serde_json::Value` keeps the last of two equal keys (`{"a":1,"a":2}` reads as `{"a":2}`).
//! RFC 8259 leaves such documents' meaning open and parsers disagree on them, so a body
//! that relies on one reading is ambiguous; I-JSON (RFC 7493) forbids them. This reader
//! builds the same `Value` but fails on a repeated key at any depth, which the JSON extractor
//! reports as a malformed body. serde_json's nesting limit (128) still applies: the
//! recursion happens inside its deserializer.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// For `#[serde(deserialize_with = "strict_json::optional")]` on an `Option<Value>` field
/// (with `#[serde(default)]`, so an absent field is `None`).
pub(crate) fn optional<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Value>, D::Error> {
    Option::<UniqueKeys>::deserialize(deserializer).map(|value| value.map(|v| v.0))
}

/// A JSON value read with [`UniqueKeysVisitor`].
struct UniqueKeys(Value);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueKeysVisitor).map(Self)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value without repeated object keys")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        // JSON text cannot spell a non-finite number; serde_json refuses overflow itself.
        Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(UniqueKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            let UniqueKeys(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(text: &str) -> Result<Value, String> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        optional(&mut deserializer)
            .map(|value| value.unwrap_or(Value::Null))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let text = r#"{"a":[1,-2,3.5,"x",true,null,{"b":{}}],"c":18446744073709551615}"#;
        assert_eq!(read(text), Ok(serde_json::from_str::<Value>(text).unwrap()));
        assert_eq!(read("null"), Ok(Value::Null));
    }

    #[test]
    fn refuses_a_repeated_key_at_any_depth() {
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":{"b":1,"b":1}}"#,
            r#"[{"x":[{"k":0,"k":0}]}]"#,
        ] {
            let error = read(text).unwrap_err();
            assert!(error.contains("duplicate key"), "{text}: {error}");
        }
        assert_eq!(read(r#"{"a":{"a":1}}"#), Ok(json!({"a":{"a":1}})));
    }

    #[test]
    fn keeps_serde_jsons_nesting_limit() {
        let deep = "[".repeat(10_000);
        assert!(read(&deep).unwrap_err().contains("recursion limit"));
    }
}
