//! The one error type every validated newtype returns.

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
    #[error("must be between {min} and {max}")]
    OutOfRange { min: i64, max: i64 },
    #[error("{0}")]
    Format(&'static str),
}

/// Checks the rules shared by the short text fields: trimmed, non-empty, bounded, printable.
pub(crate) fn single_line(
    field: &'static str,
    raw: &str,
    max_chars: usize,
) -> Result<String, ValidationError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(ValidationError::new(field, Violation::Empty));
    }
    if value.chars().count() > max_chars {
        return Err(ValidationError::new(
            field,
            Violation::TooLong { max: max_chars },
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(field, Violation::ControlCharacter));
    }
    Ok(value.to_owned())
}

/// Like [`single_line`] but empty is fine and line breaks and tabs are allowed.
pub(crate) fn multi_line(
    field: &'static str,
    raw: &str,
    max_chars: usize,
) -> Result<String, ValidationError> {
    let value = raw.trim();
    if value.chars().count() > max_chars {
        return Err(ValidationError::new(
            field,
            Violation::TooLong { max: max_chars },
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ValidationError::new(field, Violation::ControlCharacter));
    }
    Ok(value.to_owned())
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
    fn multi_line_allows_line_breaks_but_not_other_controls() {
        assert!(multi_line("f", "a\nb\tc", 10).is_ok());
        assert!(multi_line("f", "", 10).is_ok());
        assert_eq!(
            multi_line("f", "a\u{0}b", 10),
            Err(ValidationError::new("f", Violation::ControlCharacter))
        );
    }
}
