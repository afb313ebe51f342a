//! Discord users as the service's identities: user `80351110224678912` is
//! `discord:80351110224678912`.
//!
//! The user id (a snowflake) is the only stable, unique thing about a Discord user; names
//! change. The identity is taken from the *verified* interaction only (`member.user.id` in a
//! server, `user.id` in a direct message), never from text someone typed.

use domain::Identity;

use crate::settings::is_snowflake;

const PREFIX: &str = "discord:";

/// The identity of the Discord user with this id, or `None` when it is not a snowflake.
pub(crate) fn from_discord_user(user_id: &str) -> Option<Identity> {
    if !is_snowflake(user_id) {
        return None;
    }
    Identity::parse(&format!("{PREFIX}{user_id}")).ok()
}

/// The Discord user id behind an identity, if it is a Discord user's.
pub(crate) fn discord_user(identity: &Identity) -> Option<&str> {
    identity
        .as_str()
        .strip_prefix(PREFIX)
        .filter(|user| is_snowflake(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_id_maps_to_an_identity_and_back() {
        let identity = from_discord_user("80351110224678912").unwrap();
        assert_eq!(identity.as_str(), "discord:80351110224678912");
        assert_eq!(discord_user(&identity), Some("80351110224678912"));
    }

    #[test]
    fn other_identities_and_malformed_ids_are_not_discord_users() {
        for raw in ["ci", "slack:U1", "discord:", "discord:12a"] {
            assert_eq!(discord_user(&Identity::parse(raw).unwrap()), None, "{raw}");
        }
        for raw in ["", "12 <@3>", "U1", &"1".repeat(30)] {
            assert_eq!(from_discord_user(raw), None, "{raw:?}");
        }
    }
}
