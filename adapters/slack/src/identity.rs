//! Slack users as identities of the service: `U2CERLKJA` is `slack:U2CERLKJA`.
//!
//! The user id is the only stable, unique thing about a Slack user; names and display names
//! change and are not unique. The identity is taken from the *verified* payload only, never
//! from text someone typed.

use domain::Identity;

const PREFIX: &str = "slack:";

/// The approver identity of the Slack user with this id, or `None` when `user_id` is not
/// shaped like a Slack id (non-empty, letters and digits).
pub(crate) fn from_slack_user(user_id: &str) -> Option<Identity> {
    if !is_slack_id(user_id) {
        return None;
    }
    Identity::parse(&format!("{PREFIX}{user_id}")).ok()
}

/// The Slack user id behind an identity, if it is a Slack user's.
pub(crate) fn slack_user(identity: &Identity) -> Option<&str> {
    identity
        .as_str()
        .strip_prefix(PREFIX)
        .filter(|user| is_slack_id(user))
}

fn is_slack_id(raw: &str) -> bool {
    !raw.is_empty() && raw.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slack_user_id_maps_to_an_identity_and_back() {
        let identity = from_slack_user("U2CERLKJA").unwrap();
        assert_eq!(identity.as_str(), "slack:U2CERLKJA");
        assert_eq!(slack_user(&identity), Some("U2CERLKJA"));
    }

    #[test]
    fn other_identities_are_not_slack_users() {
        for raw in ["ci-pipeline", "slack:", "slack:U.1", "discord:123"] {
            assert_eq!(slack_user(&Identity::parse(raw).unwrap()), None, "{raw}");
        }
    }

    #[test]
    fn malformed_user_ids_are_refused() {
        for raw in ["", "U1 <@U2>", "U1:admin", &"U".repeat(200)] {
            assert_eq!(from_slack_user(raw), None, "{raw:?}");
        }
    }
}
