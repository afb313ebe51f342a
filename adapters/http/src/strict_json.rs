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

/// For `#[serde(default, deserialize_with = "strict_json::optional_integer")]` on an
/// `Option<i64>` field: reads any JSON number with an integer value, `3.0` and `3e0` as well
/// as `3`. JSON Schema's `integer` is defined by value, not spelling, so a client that
/// serializes numbers as floats still sends a valid request; serde's own `i64` refuses
/// them. A fraction, or a value outside `i64`, is refused.
pub(crate) fn optional_integer<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    Option::<Integer>::deserialize(deserializer).map(|value| value.map(|v| v.0))
}

struct Integer(i64);

impl<'de> Deserialize<'de> for Integer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IntegerVisitor).map(Self)
    }
}

struct IntegerVisitor;

impl Visitor<'_> for IntegerVisitor {
    type Value = i64;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an integer")
    }

    fn visit_i64<E>(self, value: i64) -> Result<i64, E> {
        Ok(value)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<i64, E> {
        i64::try_from(value).map_err(|_| E::custom("integer out of range"))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<i64, E> {
        // `i64::MAX as f64` rounds up to 2^63, which is already out of range.
        const BOUND: f64 = 9_223_372_036_854_775_808.0;
        if value.fract() != 0.0 || !(-BOUND..BOUND).contains(&value) {
            return Err(E::invalid_type(de::Unexpected::Float(value), &self));
        }
        // Integral and inside the range (checked above), so the cast is exact.
        Ok(value as i64)
    }
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

    #[derive(Debug, serde::Deserialize)]
    struct Count {
        #[serde(default, deserialize_with = "optional_integer")]
        n: Option<i64>,
    }

    fn count(text: &str) -> Result<Option<i64>, String> {
        serde_json::from_str::<Count>(text)
            .map(|c| c.n)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn an_integer_may_be_spelled_as_a_float_but_not_have_a_fraction() {
        assert_eq!(count(r#"{"n":3}"#), Ok(Some(3)));
        assert_eq!(count(r#"{"n":3.0}"#), Ok(Some(3)));
        assert_eq!(count(r#"{"n":-6e1}"#), Ok(Some(-60)));
        assert_eq!(count(r#"{"n":null}"#), Ok(None));
        assert_eq!(count("{}"), Ok(None));
        for bad in [
            r#"{"n":3.5}"#,
            r#"{"n":1e300}"#,
            r#"{"n":"3"}"#,
            r#"{"n":9223372036854775808}"#,
        ] {
            assert!(count(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keeps_serde_jsons_nesting_limit() {
        let deep = "[".repeat(10_000);
        assert!(read(&deep).unwrap_err().contains("recursion limit"));
    }
}
