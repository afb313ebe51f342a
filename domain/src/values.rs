//! Validated values more than one aggregate is made of: a one-line title, a free-text
//! description, and the chat destination an aggregate is announced in. A value that only one
//! aggregate uses lives in that aggregate's module instead, so removing an aggregate never
//! touches this file.

use serde::{Deserialize, Serialize};

use crate::validation::{ValidationError, Violation, multi_line, single_line, string_newtype};

/// What something asked or reported is about, in one line: 1–200 characters, trimmed, no
/// control or invisible formatting characters (see [`FORMAT_CHARACTERS`](crate::FORMAT_CHARACTERS)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Title(String);

impl Title {
    pub const MAX_CHARS: usize = 200;

    /// # Errors
    /// `Empty`, `TooLong`, `ControlCharacter` or `FormatCharacter`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        single_line("title", raw, Self::MAX_CHARS).map(Self)
    }
}
string_newtype!(Title);

/// Free text for the approvers: up to 4000 characters, line breaks allowed, may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Description(String);

impl Description {
    pub const MAX_CHARS: usize = 4000;

    /// # Errors
    /// `TooLong`, `ControlCharacter` (other than line breaks and tabs) or `FormatCharacter`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        multi_line("description", raw, Self::MAX_CHARS).map(Self)
    }
}
string_newtype!(Description);

/// Where an aggregate is announced in chat: a Slack channel id (`C0123456789`, or explicitly
/// `slack:C0123456789`) or a Discord channel (`discord:<channel id>`). Which platforms are
/// connected is not the domain's business; the application checks that at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ChatDestination(String);

impl ChatDestination {
    pub const MAX_CHARS: usize = 80;
    /// The characters allowed besides ASCII letters and digits.
    pub const PUNCTUATION: &[char] = &['#', '.', '_', '-', ':'];

    /// # Errors
    /// `Empty`, `TooLong`, or `Format` when a character is outside `A-Z a-z 0-9 # . _ - :`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "destination";
        let value = single_line(FIELD, raw, Self::MAX_CHARS)?;
        if !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || Self::PUNCTUATION.contains(&c))
        {
            return Err(ValidationError::new(
                FIELD,
                Violation::Format("may only contain letters, digits and # . _ - :"),
            ));
        }
        Ok(Self(value))
    }
}
string_newtype!(ChatDestination);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_trimmed_and_bounded() {
        assert_eq!(
            Title::parse("  deploy v7 ").map(String::from),
            Ok("deploy v7".into())
        );
        assert!(Title::parse(&"x".repeat(200)).is_ok());
        assert!(Title::parse(&"x".repeat(201)).is_err());
        assert!(Title::parse("tab\there").is_err());
    }

    #[test]
    fn description_may_be_empty_but_not_too_long() {
        assert!(Description::parse("").is_ok());
        assert!(Description::parse("line one\nline two").is_ok());
        assert!(Description::parse(&"x".repeat(4001)).is_err());
    }

    #[test]
    fn destination_accepts_channel_ids_only() {
        assert!(ChatDestination::parse("C0123456789").is_ok());
        assert!(ChatDestination::parse("#deploys").is_ok());
        assert!(ChatDestination::parse("discord:80351110224678912").is_ok());
        assert!(ChatDestination::parse("two words").is_err());
        assert!(ChatDestination::parse("<script>").is_err());
    }
}
