//! The one error type every validated newtype returns, and the text rules the string
//! newtypes share.
//!
//! The character classes are public constants so that the HTTP adapter's OpenAPI document
//! can state the same rules as schema patterns instead of repeating them by hand.

use std::ops::RangeInclusive;

/// A value was refused by a newtype's constructor. `field` names the input, `violation` the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {violation}")]
pub struct ValidationError {
    pub field: &'static str,
    pub violation: Violation,
}

impl ValidationError {
    pub(crate) fn new(field: &'static str, violation: Violation) -> Self {
        Self { field, violation }
    }
}

/// The rule a value broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters long")]
    TooLong { max: usize },
    #[error("must be at most {max} bytes when serialized")]
    TooLarge { max: usize },
    #[error("must not contain control characters")]
    ControlCharacter,
    /// Invisible or text-direction characters; see [`FORMAT_CHARACTERS`].
    #[error("must not contain invisible or text-direction formatting characters")]
    FormatCharacter,
    #[error("must be between {min} and {max}")]
    OutOfRange { min: i64, max: i64 },
    #[error("{0}")]
    Format(&'static str),
    /// Every field is valid on its own, but together they make a request no one could ever
    /// settle (more required approvals than eligible approvers).
    #[error("{0}")]
    Unsatisfiable(&'static str),
}

/// The control characters (Unicode category Cc): C0, DEL and C1, exactly the characters
/// [`char::is_control`] accepts. None is allowed in text, except line breaks and tabs in the
/// multi-line fields.
pub const CONTROL_CHARACTERS: [RangeInclusive<char>; 2] = ['\u{0}'..='\u{1F}', '\u{7F}'..='\u{9F}'];

/// The control characters the multi-line fields (descriptions, comments, details) allow.
pub const LINE_BREAKS_AND_TAB: [char; 3] = ['\n', '\r', '\t'];

/// Characters that are invisible or change how the text around them is shown, refused in
/// every text field because people read these fields in chat before deciding. The
/// bidirectional controls can make a title read differently from what it says (U+202E turns
/// `approve-gpj.exe` into what looks like `approve-exe.jpg`); the zero-width ones make two
/// different strings look the same; the line and paragraph separators break a one-line title.
///
/// ZERO WIDTH NON-JOINER and JOINER (U+200C, U+200D) are allowed: emoji sequences and
/// several scripts (Persian, the Indic ones) need them to render correctly.
pub const FORMAT_CHARACTERS: [RangeInclusive<char>; 12] = [
    // SOFT HYPHEN: invisible unless the line breaks at it.
    '\u{AD}'..='\u{AD}',
    // ARABIC LETTER MARK, a bidirectional mark.
    '\u{61C}'..='\u{61C}',
    // MONGOLIAN VOWEL SEPARATOR, zero-width.
    '\u{180E}'..='\u{180E}',
    // ZERO WIDTH SPACE.
    '\u{200B}'..='\u{200B}',
    // LEFT-TO-RIGHT and RIGHT-TO-LEFT MARK.
    '\u{200E}'..='\u{200F}',
    // LINE and PARAGRAPH SEPARATOR.
    '\u{2028}'..='\u{2029}',
    // The bidirectional embeddings and overrides (U+202E is RIGHT-TO-LEFT OVERRIDE).
    '\u{202A}'..='\u{202E}',
    // WORD JOINER and the invisible mathematical operators.
    '\u{2060}'..='\u{2064}',
    // The bidirectional isolates.
    '\u{2066}'..='\u{2069}',
    // Deprecated shaping and digit-shape controls.
    '\u{206A}'..='\u{206F}',
    // ZERO WIDTH NO-BREAK SPACE (the byte order mark).
    '\u{FEFF}'..='\u{FEFF}',
    // The interlinear annotation controls.
    '\u{FFF9}'..='\u{FFFB}',
];

fn is_in(ranges: &[RangeInclusive<char>], c: char) -> bool {
    ranges.iter().any(|range| range.contains(&c))
}

/// Checks the rules shared by the short text fields: bounded, printable, one line, and
/// non-empty once trimmed. The value kept is the trimmed one.
///
/// The length limit counts the characters as sent, surrounding whitespace included, so that
/// the OpenAPI document's `maxLength` states exactly the rule that is applied.
pub(crate) fn single_line(
    field: &'static str,
    raw: &str,
    max_chars: usize,
) -> Result<String, ValidationError> {
    check_text(field, raw, max_chars, &[])?;
    let value = raw.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, Violation::Empty));
    }
    Ok(value.to_owned())
}

/// Like [`single_line`] but empty is fine and line breaks and tabs are allowed.
pub(crate) fn multi_line(
    field: &'static str,
    raw: &str,
    max_chars: usize,
) -> Result<String, ValidationError> {
    check_text(field, raw, max_chars, &LINE_BREAKS_AND_TAB)?;
    Ok(raw.trim().to_owned())
}

fn check_text(
    field: &'static str,
    raw: &str,
    max_chars: usize,
    allowed_controls: &[char],
) -> Result<(), ValidationError> {
    if raw.chars().count() > max_chars {
        return Err(ValidationError::new(
            field,
            Violation::TooLong { max: max_chars },
        ));
    }
    if raw
        .chars()
        .any(|c| is_in(&CONTROL_CHARACTERS, c) && !allowed_controls.contains(&c))
    {
        return Err(ValidationError::new(field, Violation::ControlCharacter));
    }
    if raw.chars().any(|c| is_in(&FORMAT_CHARACTERS, c)) {
        return Err(ValidationError::new(field, Violation::FormatCharacter));
    }
    Ok(())
}

/// Generates `Display`, `AsRef<str>`, `as_str`, and serde via `TryFrom<String>` for a string
/// newtype, so deserializing can never bypass validation.
macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::ValidationError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}
pub(crate) use string_newtype;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_trims_and_refuses_control_characters() {
        assert_eq!(single_line("f", "  ok  ", 10), Ok("ok".to_owned()));
        assert_eq!(
            single_line("f", "a\u{7}b", 10),
            Err(ValidationError::new("f", Violation::ControlCharacter))
        );
        assert_eq!(
            single_line("f", "   ", 10),
            Err(ValidationError::new("f", Violation::Empty))
        );
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert!(single_line("f", &"é".repeat(10), 10).is_ok());
        assert_eq!(
            single_line("f", &"é".repeat(11), 10),
            Err(ValidationError::new("f", Violation::TooLong { max: 10 }))
        );
    }

    #[test]
    fn the_control_ranges_are_exactly_the_unicode_control_characters() {
        for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
            assert_eq!(is_in(&CONTROL_CHARACTERS, c), c.is_control(), "{c:?}");
        }
    }

    #[test]
    fn bidirectional_and_invisible_characters_are_refused_in_every_text_field() {
        for c in [
            '\u{202E}', '\u{202A}', '\u{2066}', '\u{200B}', '\u{200F}', '\u{FEFF}', '\u{AD}',
            '\u{2028}',
        ] {
            let text = format!("approve{c}gpj.exe");
            let refused = Err(ValidationError::new("f", Violation::FormatCharacter));
            assert_eq!(single_line("f", &text, 50), refused, "{c:?}");
            assert_eq!(multi_line("f", &text, 50), refused, "{c:?}");
        }
    }

    #[test]
    fn joiners_stay_allowed_for_emoji_and_scripts_that_need_them() {
        // A family emoji (joined with U+200D) and Persian "mi-khaham" (with U+200C).
        for text in [
            "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}",
            "\u{645}\u{6CC}\u{200C}\u{62E}\u{648}\u{627}\u{647}\u{645}",
        ] {
            assert_eq!(single_line("f", text, 50).as_deref(), Ok(text));
        }
    }

    #[test]
    fn the_length_limit_counts_surrounding_whitespace_too() {
        assert!(single_line("f", &format!(" {} ", "x".repeat(8)), 10).is_ok());
        assert_eq!(
            single_line("f", &format!("  {}  ", "x".repeat(8)), 10),
            Err(ValidationError::new("f", Violation::TooLong { max: 10 }))
        );
    }

    #[test]
    fn multi_line_allows_line_breaks_but_not_other_controls() {
        assert!(multi_line("f", "a\nb\tc", 10).is_ok());
        assert!(multi_line("f", "", 10).is_ok());
        assert_eq!(
            multi_line("f", "a\u{0}b", 10),
            Err(ValidationError::new("f", Violation::ControlCharacter))
        );
    }
}
