//! The platform router against mock gateways: each destination reaches its platform with
//! the platform's own channel id, and each update finds its way back.

use uuid::Uuid;

use super::*;
use crate::chat::{RichText, SubjectRef, Tone};
use crate::ports::MockChatGateway;

fn message(destination: &str) -> ChatMessage {
    ChatMessage {
        subject: SubjectRef {
            kind: "widget",
            id: Uuid::nil(),
            version: 1,
        },
        destination: ChatDestination::parse(destination).unwrap(),
        tone: Tone::Neutral,
        status: "new".into(),
        notification: "n".into(),
        headline: RichText::new(),
        body: String::new(),
        facts: vec![],
        outcome: vec![],
        actions: vec![],
    }
}

/// A gateway that expects one post to `channel` and answers with message `id` there.
fn posting(channel: &'static str, id: &'static str) -> MockChatGateway {
    let mut gateway = MockChatGateway::new();
    gateway
        .expect_post()
        .withf(move |m| m.destination.as_str() == channel)
        .times(1)
        .returning(move |_| {
            Ok(MessageRef {
                channel: channel.into(),
                message_id: id.into(),
            })
        });
    gateway
}

fn untouched() -> MockChatGateway {
    let mut gateway = MockChatGateway::new();
    gateway.expect_post().never();
    gateway.expect_update().never();
    gateway.expect_reply().never();
    gateway
}

#[tokio::test]
async fn a_discord_destination_is_posted_bare_and_remembered_prefixed() {
    let mut discord = posting("123", "456");
    discord
        .expect_update()
        .withf(|at, _| at.channel == "123" && at.message_id == "456")
        .times(1)
        .returning(|_, _| Ok(()));
    let router = ChatRouter::new("slack")
        .with("slack", Arc::new(untouched()))
        .with("discord", Arc::new(discord));

    let posted = router.post(&message("discord:123")).await.unwrap();
    assert_eq!(posted.channel, "discord:123");
    router
        .update(&posted, &message("discord:123"))
        .await
        .unwrap();
}

#[tokio::test]
async fn bare_and_slack_destinations_go_to_the_default_platform_and_stay_bare() {
    let mut slack = posting("C1", "1.1");
    slack
        .expect_update()
        .withf(|at, _| at.channel == "C1")
        .times(1)
        .returning(|_, _| Ok(()));
    let router = ChatRouter::new("slack")
        .with("slack", Arc::new(slack))
        .with("discord", Arc::new(untouched()));

    let posted = router.post(&message("slack:C1")).await.unwrap();
    assert_eq!(posted.channel, "C1");
    router.update(&posted, &message("C1")).await.unwrap();
}

#[test]
fn destinations_of_platforms_not_connected_are_refused() {
    let only_discord = ChatRouter::new("slack").with("discord", Arc::new(untouched()));
    let check =
        |router: &ChatRouter, raw: &str| router.check(&ChatDestination::parse(raw).unwrap());

    assert_eq!(check(&only_discord, "discord:1"), Ok(()));
    for raw in ["C1", "slack:C1", "teams:1"] {
        let refused = check(&only_discord, raw).unwrap_err();
        assert_eq!(refused.destination, raw);
    }
    assert_eq!(check(&only_discord, "C1").unwrap_err().platform, "slack");
    assert_eq!(
        check(&only_discord, "discord:").unwrap_err().platform,
        "discord"
    );

    let only_slack = ChatRouter::new("slack").with("slack", Arc::new(untouched()));
    assert_eq!(check(&only_slack, "C1"), Ok(()));
    assert_eq!(
        check(&only_slack, "discord:1").unwrap_err().platform,
        "discord"
    );
}

#[tokio::test]
async fn a_stand_in_takes_every_destination_unchanged() {
    let router = ChatRouter::single(Arc::new(posting("discord:9", "1")));
    assert_eq!(
        router.check(&ChatDestination::parse("anything:else").unwrap()),
        Ok(())
    );
    let posted = router.post(&message("discord:9")).await.unwrap();
    assert_eq!(posted.channel, "discord:9");
}

#[tokio::test]
async fn an_update_for_a_platform_no_longer_connected_is_permanent() {
    let router = ChatRouter::new("slack").with("slack", Arc::new(untouched()));
    let at = MessageRef {
        channel: "discord:1".into(),
        message_id: "2".into(),
    };
    let result = router.update(&at, &message("discord:1")).await;
    assert!(
        matches!(result, Err(ChatError::Permanent { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_reply_reaches_the_platform_of_the_message_it_answers_with_the_bare_channel() {
    let mut discord = MockChatGateway::new();
    discord
        .expect_reply()
        .withf(|to, reply| {
            to.channel == "123" && to.message_id == "456" && reply.subject.kind == "widget"
        })
        .times(1)
        .returning(|_, _| Ok(()));
    let router = ChatRouter::new("slack")
        .with("slack", Arc::new(untouched()))
        .with("discord", Arc::new(discord));
    let reply = ChatReply {
        subject: message("C1").subject,
        tone: Tone::Warning,
        text: "still waiting".into(),
    };
    let at = MessageRef {
        channel: "discord:123".into(),
        message_id: "456".into(),
    };
    router.reply(&at, &reply).await.unwrap();
}
