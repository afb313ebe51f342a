//! Who is acting: the requester of an approval or an approver deciding it.

use serde::{Deserialize, Serialize};

use crate::validation::{ValidationError, Violation, string_newtype};

/// A stable identity: an API key's name (`ci-pipeline`) or a chat user (`slack:U2CERLKJA`).
///
/// Restricted to a conservative ASCII alphabet so it is safe in logs, URLs and chat markup.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Identity(String);

impl Identity {
    pub const MAX_CHARS: usize = 128;
    /// The characters allowed besides ASCII letters and digits.
    pub const PUNCTUATION: &[char] = &['.', '_', ':', '@', '-'];

    /// # Errors
    /// `Empty`, `TooLong`, or `Format` when a character is outside `A-Z a-z 0-9 . _ : @ -`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        const FIELD: &str = "identity";
        if raw.is_empty() {
            return Err(ValidationError::new(FIELD, Violation::Empty));
        }
        if raw.len() > Self::MAX_CHARS {
            return Err(ValidationError::new(
                FIELD,
                Violation::TooLong {
                    max: Self::MAX_CHARS,
                },
            ));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || Self::PUNCTUATION.contains(&c))
        {
            return Err(ValidationError::new(
                FIELD,
                Violation::Format("may only contain letters, digits and . _ : @ -"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }
}

string_newtype!(Identity);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_key_names_and_chat_users() {
        assert!(Identity::parse("ci-pipeline").is_ok());
        assert!(Identity::parse("slack:U2CERLKJA").is_ok());
        assert!(Identity::parse("ops@example.com").is_ok());
    }

    #[test]
    fn refuses_spaces_and_markup() {
        for bad in ["", "two words", "<@U123>", "a\nb", &"x".repeat(129)] {
            assert!(Identity::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<Identity>("\"ok\"").is_ok());
        assert!(serde_json::from_str::<Identity>("\"not ok\"").is_err());
    }
}
