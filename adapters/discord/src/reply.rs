//! A neutral [`ChatReply`] as a Discord reply: a Create Message call whose
//! `message_reference` names the message it answers, with pings for exactly the people the
//! reply names.
//!
//! Discord's message reference needs only the `message_id` (the channel is the one posted
//! to). `fail_if_not_exists: false` sends the reply as a plain message when the original
//! was deleted, which suits a reminder: it still reaches the channel. Unlike a message,
//! which pings nobody, a reply exists to notify its people, so `allowed_mentions` lists
//! their user ids (at most 100, Discord's limit) and nothing else: no roles, no
//! `@everyone`, not the author of the message replied to.

use std::collections::BTreeSet;

use application::chat::{ChatReply, Span};
use serde::Serialize;

use crate::identity::discord_user;
use crate::markdown::markdown;

const CONTENT_MAX: usize = 2000;
/// Discord allows at most 100 user ids in `allowed_mentions.users`.
const PINGED_USERS_MAX: usize = 100;

/// The body of a Create Message call that replies to a message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Reply {
    pub content: String,
    pub message_reference: MessageReference,
    pub allowed_mentions: Pings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct MessageReference {
    pub message_id: String,
    pub fail_if_not_exists: bool,
}

/// Only the listed users are notified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Pings {
    pub parse: [&'static str; 0],
    pub users: Vec<String>,
    pub replied_user: bool,
}

/// Lays `reply` out as an answer to the message `message_id`.
pub(crate) fn render_reply(reply: &ChatReply, message_id: &str) -> Reply {
    let users: BTreeSet<&str> = reply
        .text
        .spans()
        .iter()
        .filter_map(|span| match span {
            Span::Person(identity) => discord_user(identity),
            _ => None,
        })
        .collect();
    Reply {
        content: markdown(&reply.text, CONTENT_MAX),
        message_reference: MessageReference {
            message_id: message_id.to_owned(),
            fail_if_not_exists: false,
        },
        allowed_mentions: Pings {
            parse: [],
            users: users
                .into_iter()
                .take(PINGED_USERS_MAX)
                .map(str::to_owned)
                .collect(),
            replied_user: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use application::chat::{RichText, SubjectRef, Tone};
    use domain::Identity;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    #[test]
    fn a_reply_references_its_message_and_pings_only_the_discord_users_it_names() {
        let person = |raw: &str| Identity::parse(raw).unwrap();
        let reply = ChatReply {
            subject: SubjectRef {
                kind: "widget",
                id: Uuid::nil(),
                version: 3,
            },
            tone: Tone::Warning,
            text: RichText::new()
                .text("Reminder: turn *it*. ")
                .person(&person("discord:80351110224678912"))
                .text(", ")
                .person(&person("slack:U1"))
                .text(" and ")
                .person(&person("discord:80351110224678912")),
        };
        let rendered = serde_json::to_value(render_reply(&reply, "1300000000000000001")).unwrap();
        assert_eq!(
            rendered,
            json!({
                "content": "Reminder: turn \\*it\\*. <@80351110224678912>, slack:U1 and <@80351110224678912>",
                "message_reference": {"message_id": "1300000000000000001", "fail_if_not_exists": false},
                "allowed_mentions": {"parse": [], "users": ["80351110224678912"], "replied_user": false},
            })
        );
    }
}
