//! The domain's input rules as JSON Schema, for the OpenAPI document.
//!
//! Each function here is the schema of one kind of field, used through
//! `#[schema(schema_with = …)]` on the request shapes. Every bound and character class is
//! read from the constant the domain (or the use case) enforces, so the document states the
//! rules the server applies and the two cannot drift: a client generated from the document,
//! or a fuzzer such as `scripts/fuzz-api.sh`, that sends what the schema allows is refused
//! only by the rules a schema cannot state (four eyes, the state machine, a reused key).
//!
//! Patterns are ECMA-262 regular expressions, as JSON Schema specifies; they use only
//! character classes with `\uXXXX` escapes, anchors and quantifiers, which every regex
//! dialect reads the same way.

use std::ops::RangeInclusive;

use application::ports::IdempotencyKey;
use application::use_cases::ListApprovals;
use domain::{
    CONTROL_CHARACTERS, CallbackUrl, ChatDestination, Comment, Description, FORMAT_CHARACTERS,
    Identity, LINE_BREAKS_AND_TAB, Metadata, Policy, RemindAfter, RequiredApprovals, Title, Ttl,
};
use serde_json::json;
use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, SchemaType};
use utoipa::openapi::{ObjectBuilder, Ref, RefOr, Schema, Type};

/// The whitespace the text fields trim from their ends, less what they refuse anyway
/// (controls, separators): the characters [`char::is_whitespace`] accepts that are neither
/// in [`CONTROL_CHARACTERS`] nor in [`FORMAT_CHARACTERS`]. A test checks it against every
/// character.
const BLANKS: [RangeInclusive<char>; 7] = [
    ' '..=' ',
    '\u{A0}'..='\u{A0}',
    '\u{1680}'..='\u{1680}',
    '\u{2000}'..='\u{200A}',
    '\u{202F}'..='\u{202F}',
    '\u{205F}'..='\u{205F}',
    '\u{3000}'..='\u{3000}',
];

/// The last of the 22 base64url characters of a cursor (16 bytes) carries two bits of the
/// id and four zero bits, so it is one of these four.
const CURSOR_LAST_CHARACTERS: &str = "AQgw";

// --- Approval text -------------------------------------------------------------

/// `title` of an approval: one line, 1–200 characters, not blank.
pub(crate) fn title() -> Object {
    single_line(Title::MAX_CHARS, required(Type::String)).description(Some(format!(
        "What is to be decided: 1–{} characters on one line{ONE_LINE}",
        Title::MAX_CHARS
    )))
}

/// `description` of an approval: optional, up to 4000 characters, line breaks allowed.
pub(crate) fn description() -> Object {
    multi_line(Description::MAX_CHARS).description(Some(format!(
        "Context for the approvers: up to {} characters{MULTI_LINE}",
        Description::MAX_CHARS
    )))
}

/// `comment` of a decision: optional, up to 1000 characters, line breaks allowed.
pub(crate) fn comment() -> Object {
    multi_line(Comment::MAX_CHARS).description(Some(format!(
        "Why, for the record: up to {} characters{MULTI_LINE}",
        Comment::MAX_CHARS
    )))
}

/// `destination`: a channel id or name, optionally surrounded by spaces (trimmed).
pub(crate) fn destination() -> Object {
    let blank = class_of(&BLANKS);
    let allowed = ascii_alphanumeric_and(ChatDestination::PUNCTUATION);
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(ChatDestination::MAX_CHARS))
        .pattern(Some(format!("^{blank}*{allowed}+{blank}*$")))
        .examples([json!("C0123456789")])
        .description(Some(format!(
            "Where to post: a Slack channel id (`C0123456789`, or `slack:C0123456789`) or a \
             Discord channel (`discord:<channel id>`); up to {} letters, digits and `{}`, \
             surrounding spaces trimmed. A platform this service is not connected to is \
             refused with 422 (`platform-not-connected`).",
            ChatDestination::MAX_CHARS,
            ChatDestination::PUNCTUATION.iter().collect::<String>()
        )))
}

// --- Approval policy and lifetime --------------------------------------------------------

/// `required_approvals`: optional, 1–10.
pub(crate) fn required_approvals() -> Object {
    ObjectBuilder::new()
        .schema_type(optional(Type::Integer))
        .minimum(Some(RequiredApprovals::MIN))
        .maximum(Some(RequiredApprovals::MAX))
        .description(Some(format!(
            "How many distinct approvals settle the request: {}–{}, default 1. With an \
             allow-list, at most the number of its people who may approve (`422 \
             unsatisfiable-policy` otherwise).",
            RequiredApprovals::MIN,
            RequiredApprovals::MAX
        )))
}

/// `allowed_approvers`: optional, at most 50 identities. Repeats count once.
pub(crate) fn allowed_approvers() -> RefOr<Schema> {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(identity())
        .max_items(Some(Policy::MAX_ALLOWED_APPROVERS))
        .description(Some(format!(
            "Only these identities may decide (at most {}; repeats count once); empty or \
             absent means anyone but the requester.",
            Policy::MAX_ALLOWED_APPROVERS
        )))
        .into()
}

/// `expires_in_seconds`: optional, one minute to thirty days.
pub(crate) fn expires_in_seconds() -> Object {
    ObjectBuilder::new()
        .schema_type(optional(Type::Integer))
        .minimum(Some(Ttl::MIN_SECONDS))
        .maximum(Some(Ttl::MAX_SECONDS))
        .description(Some(format!(
            "Seconds until the request expires: {} to {} (30 days), default {} (24 hours).",
            Ttl::MIN_SECONDS,
            Ttl::MAX_SECONDS,
            Ttl::DEFAULT_SECONDS
        )))
}

/// `remind_after_seconds`: optional, five seconds to thirty days; absent means no reminders.
pub(crate) fn remind_after_seconds() -> Object {
    ObjectBuilder::new()
        .schema_type(optional(Type::Integer))
        .minimum(Some(RemindAfter::MIN_SECONDS))
        .maximum(Some(RemindAfter::MAX_SECONDS))
        .description(Some(format!(
            "Remind the approvers in the request's chat thread after this many seconds \
             without a decision, and again after each reminder, and warn them once before \
             it expires: {} to {} (30 days). Absent or null: no reminders.",
            RemindAfter::MIN_SECONDS,
            RemindAfter::MAX_SECONDS,
        )))
}

/// `callback_url`: optional, an `http`/`https` URL with a host name, at most 2048
/// characters.
///
/// Narrower than what the server accepts (any absolute http(s) URL with a host, which the
/// URL standard makes hard to state as a pattern): host labels of letters, digits and single
/// hyphens, an optional port below 10000, a path of unreserved characters. Every URL of this
/// form is accepted.
pub(crate) fn callback_url() -> Object {
    let label = "[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*";
    ObjectBuilder::new()
        .schema_type(optional(Type::String))
        .max_length(Some(CallbackUrl::MAX_CHARS))
        .pattern(Some(format!(
            "^https?://{label}(\\.{label})*(:[0-9]{{1,4}})?(/[A-Za-z0-9._~/-]*)?$"
        )))
        .examples([json!("https://ci.example.com/hooks/42")])
        .description(Some(format!(
            "Where to POST a signed event (Standard Webhooks) when the request settles: an \
             https URL (http only where the service allows it), up to {} characters. A URL \
             whose host resolves to a loopback, private, link-local or metadata address is \
             refused with 422 (`callback-url-refused`) unless the service allows private \
             networks.",
            CallbackUrl::MAX_CHARS
        )))
}

/// `metadata`: optional, a JSON object of at most 8 KiB, with no U+0000 in a key or string
/// at any depth ([`metadata_value`] is the recursive part).
pub(crate) fn metadata() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .property_names(Some(without_nul()))
        .additional_properties(Some(Ref::from_schema_name(METADATA_VALUE)))
        .description(Some(format!(
            "Any JSON object up to {} bytes serialized, kept and returned as is. No key or \
             string in it may contain U+0000, which PostgreSQL cannot store.",
            Metadata::MAX_BYTES
        )))
}

/// The name of the component schema [`metadata_value`] is registered under.
pub(crate) const METADATA_VALUE: &str = "MetadataValue";

/// Any JSON value without U+0000 in a key or string, at any depth.
pub(crate) fn metadata_value() -> Schema {
    let myself = || Ref::from_schema_name(METADATA_VALUE);
    let scalars = ObjectBuilder::new().schema_type(SchemaType::from_iter([
        Type::Null,
        Type::Boolean,
        Type::Number,
    ]));
    let text = without_nul();
    let list = ArrayBuilder::new().items(myself());
    let object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property_names(Some(without_nul()))
        .additional_properties(Some(myself()));
    Schema::AnyOf(
        AnyOfBuilder::new()
            .item(scalars)
            .item(text)
            .item(list)
            .item(object)
            .build(),
    )
}

// --- Identities, query and headers -------------------------------------------------------

/// An identity: an API key name or a chat user, 1–128 characters of a small ASCII set.
pub(crate) fn identity() -> Object {
    let allowed = ascii_alphanumeric_and(Identity::PUNCTUATION);
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(Identity::MAX_CHARS))
        .pattern(Some(format!("^{allowed}+$")))
        .description(Some(format!(
            "An API key name or a chat user (`slack:U2CERLKJA`): 1–{} letters, digits and `{}`.",
            Identity::MAX_CHARS,
            Identity::PUNCTUATION.iter().collect::<String>()
        )))
}

/// `limit` of `GET /v1/approvals`: 1–100.
pub(crate) fn limit() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(ListApprovals::MAX_LIMIT))
        .default(Some(json!(ListApprovals::DEFAULT_LIMIT)))
        .description(Some(format!(
            "Page size: 1–{}, default {}.",
            ListApprovals::MAX_LIMIT,
            ListApprovals::DEFAULT_LIMIT
        )))
}

/// `cursor` of `GET /v1/approvals`: what a page's `next_cursor` was.
pub(crate) fn cursor() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!(
            "^[A-Za-z0-9_-]{{21}}[{CURSOR_LAST_CHARACTERS}]$"
        )))
        .description(Some("The `next_cursor` of the previous page."))
}

/// `wait` of `GET /v1/approvals/{id}`: the durations [`parse_wait`] takes, spelled as a
/// pattern that admits nothing over [`MAX_WAIT`] (tested in `long_poll.rs`).
///
/// [`parse_wait`]: crate::long_poll::parse_wait
/// [`MAX_WAIT`]: crate::long_poll::MAX_WAIT
pub(crate) fn wait() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(crate::long_poll::WAIT_PATTERN))
        .examples(["30s"])
}

/// The `Idempotency-Key` header: a quoted string of 1–255 printable ASCII characters other
/// than `"` and `\`, or the same characters bare, with no space at either end.
///
/// Narrower than the server: it also reads the `\"` and `\\` escapes of a structured-field
/// string, which the description mentions but a length-bounded pattern cannot count.
pub(crate) fn idempotency_key() -> Object {
    let max = IdempotencyKey::MAX_CHARS;
    // Printable ASCII without `"` (0x22) and `\` (0x5C).
    let plain = "[!#-\\[\\]-~]";
    let with_space = "[ !#-\\[\\]-~]";
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max + 2))
        .pattern(Some(format!(
            "^(\"{with_space}{{1,{max}}}\"|{plain}({with_space}{{0,{inner}}}{plain})?)$",
            inner = max - 2
        )))
        .examples([json!("\"8e03978e-40d5-43e8-bc93-6894a57f9324\"")])
}

// --- Building blocks ---------------------------------------------------------------------

/// The end of a one-line field's description: the rules its pattern states.
pub(crate) const ONE_LINE: &str = ", not blank, without control characters or invisible and \
                        text-direction formatting characters (such as U+202E); surrounding \
                        spaces are trimmed.";

/// The end of a multi-line field's description.
pub(crate) const MULTI_LINE: &str = "; line breaks and tabs are allowed, other control characters and \
                          invisible or text-direction formatting characters (such as U+202E) \
                          are not.";

pub(crate) type Object = ObjectBuilder;

/// The rules of `domain`'s one-line text: no control or format characters, bounded length
/// (counted as sent), and at least one character that is not blank.
pub(crate) fn single_line(max_chars: usize, types: SchemaType) -> Object {
    let any = class(
        &[&CONTROL_CHARACTERS[..], &FORMAT_CHARACTERS[..]].concat(),
        &[],
    );
    let visible = class(
        &[&CONTROL_CHARACTERS[..], &FORMAT_CHARACTERS[..], &BLANKS[..]].concat(),
        &[],
    );
    ObjectBuilder::new()
        .schema_type(types)
        .min_length(Some(1))
        .max_length(Some(max_chars))
        .pattern(Some(format!("^{any}*{visible}{any}*$")))
}

/// The rules of `domain`'s multi-line text: like one-line text, but line breaks and tabs
/// are allowed and it may be empty or blank.
pub(crate) fn multi_line(max_chars: usize) -> Object {
    let allowed = class(
        &[&CONTROL_CHARACTERS[..], &FORMAT_CHARACTERS[..]].concat(),
        &LINE_BREAKS_AND_TAB,
    );
    ObjectBuilder::new()
        .schema_type(optional(Type::String))
        .max_length(Some(max_chars))
        .pattern(Some(format!("^{allowed}*$")))
}

/// A string schema without U+0000, for object keys.
fn without_nul() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^{}*$", class(&[], &['\0']))))
}

/// The type of a required field.
pub(crate) fn required(ty: Type) -> SchemaType {
    SchemaType::Type(ty)
}

/// The type of an optional field: `null` is accepted too, and means "absent".
fn optional(ty: Type) -> SchemaType {
    SchemaType::from_iter([ty, Type::Null])
}

/// A negated character class: any character except those in `refused`, other than those
/// in `allowed`.
fn class(refused: &[RangeInclusive<char>], allowed: &[char]) -> String {
    let mut class = String::from("[^");
    for range in refused {
        let mut start = *range.start();
        // Splits the range around the allowed characters inside it.
        for c in range.clone() {
            if allowed.contains(&c) {
                if start < c {
                    push_range(&mut class, start, prev(c));
                }
                start = next(c);
            }
        }
        if start <= *range.end() {
            push_range(&mut class, start, *range.end());
        }
    }
    for &c in allowed {
        if !refused.iter().any(|range| range.contains(&c)) {
            push_range(&mut class, c, c);
        }
    }
    class.push(']');
    class
}

/// A character class of exactly the characters in `ranges`.
fn class_of(ranges: &[RangeInclusive<char>]) -> String {
    let mut class = String::from("[");
    for range in ranges {
        push_range(&mut class, *range.start(), *range.end());
    }
    class.push(']');
    class
}

fn push_range(class: &mut String, start: char, end: char) {
    class.push_str(&escape(start));
    if start != end {
        class.push('-');
        class.push_str(&escape(end));
    }
}

/// `\uXXXX`; every character the rules name is in the Basic Multilingual Plane.
fn escape(c: char) -> String {
    format!("\\u{:04x}", u32::from(c))
}

fn prev(c: char) -> char {
    char::from_u32(u32::from(c).saturating_sub(1)).unwrap_or(c)
}

fn next(c: char) -> char {
    char::from_u32(u32::from(c) + 1).unwrap_or(c)
}

/// A class of ASCII letters, digits and the given punctuation.
fn ascii_alphanumeric_and(punctuation: &[char]) -> String {
    let mut class = String::from("[A-Za-z0-9");
    for &c in punctuation {
        if c == '-' || c == ']' || c == '\\' || c == '^' {
            class.push('\\');
        }
        class.push(c);
    }
    class.push(']');
    class
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_any(ranges: &[RangeInclusive<char>], c: char) -> bool {
        ranges.iter().any(|range| range.contains(&c))
    }

    #[test]
    fn blanks_are_the_whitespace_the_text_fields_trim_and_allow() {
        for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
            let expected = c.is_whitespace()
                && !in_any(&CONTROL_CHARACTERS, c)
                && !in_any(&FORMAT_CHARACTERS, c);
            assert_eq!(in_any(&BLANKS, c), expected, "{c:?}");
        }
    }

    #[test]
    fn a_class_leaves_out_the_allowed_characters_of_a_refused_range() {
        assert_eq!(
            class(&CONTROL_CHARACTERS, &LINE_BREAKS_AND_TAB),
            "[^\\u0000-\\u0008\\u000b-\\u000c\\u000e-\\u001f\\u007f-\\u009f]"
        );
        assert_eq!(class(&[], &['\0']), "[^\\u0000]");
        assert_eq!(class_of(&BLANKS[..2]), "[\\u0020\\u00a0]");
    }

    #[test]
    fn single_line_text_names_its_bounds() {
        let schema = serde_json::to_value(title().build()).unwrap();
        assert_eq!(schema["minLength"], 1);
        assert_eq!(schema["maxLength"], 200);
        let pattern = schema["pattern"].as_str().unwrap();
        assert!(pattern.contains("\\u202a-\\u202e"), "{pattern}");
    }

    #[test]
    fn optional_fields_accept_null() {
        let schema = serde_json::to_value(required_approvals().build()).unwrap();
        assert_eq!(schema["type"], json!(["integer", "null"]));
        assert_eq!(schema["minimum"], 1);
        assert_eq!(schema["maximum"], 10);
    }
}
