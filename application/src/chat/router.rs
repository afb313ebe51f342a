//! The platform router: one `ChatGateway` in front of every connected chat platform.
//!
//! A destination names its platform with a prefix — `discord:<channel id>`,
//! `slack:<channel id>` — or, with none, the default platform (Slack, as destinations were
//! before there was a choice). The router hands each message to its platform's gateway with
//! the bare channel id, and remembers where a message was posted in the same form, so its
//! later updates find their way back: a Discord message's [`MessageRef`] channel is stored
//! as `discord:<channel id>`, a default platform's as the bare id (as before).
//!
//! The same router answers [`ChatPlatforms::check`], which the create use cases ask before a
//! destination is stored: a destination on a platform that is not connected is refused
//! then, not dead-lettered by the relay later. With no platform connected at all, a
//! stand-in (the console) takes every destination, so a developer machine works without
//! any chat credentials.

use std::sync::Arc;

use async_trait::async_trait;
use domain::ChatDestination;

use super::{ChatMessage, ChatReply};
use crate::ports::{ChatError, ChatGateway, ChatPlatforms, MessageRef, PlatformNotConnected};

/// Routes messages by their destination's platform. Cheap to clone.
#[derive(Clone)]
pub struct ChatRouter {
    default: &'static str,
    platforms: Vec<(&'static str, Arc<dyn ChatGateway>)>,
    /// Takes every destination when no platform is connected.
    stand_in: Option<Arc<dyn ChatGateway>>,
}

/// A destination split into its platform and the platform's own channel id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Address<'a> {
    platform: &'a str,
    channel: &'a str,
    /// Whether the destination named the platform.
    prefixed: bool,
}

impl ChatRouter {
    /// A router whose unprefixed destinations go to `default` (a platform name such as
    /// `slack`), with no platform connected yet.
    pub fn new(default: &'static str) -> Self {
        Self {
            default,
            platforms: Vec::new(),
            stand_in: None,
        }
    }

    /// One gateway for every destination, whatever its platform: the console, or a test's
    /// fake. Destinations reach it unchanged.
    pub fn single(gateway: Arc<dyn ChatGateway>) -> Self {
        Self {
            default: "",
            platforms: Vec::new(),
            stand_in: Some(gateway),
        }
    }

    /// Connects `platform` (lower-case letters, the prefix its destinations use).
    #[must_use]
    pub fn with(mut self, platform: &'static str, gateway: Arc<dyn ChatGateway>) -> Self {
        debug_assert!(
            !platform.is_empty() && platform.chars().all(|c| c.is_ascii_lowercase()),
            "bad platform name {platform:?}"
        );
        self.platforms.push((platform, gateway));
        self
    }

    /// The connected platforms' names, in the order they were connected.
    pub fn platforms(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.platforms.iter().map(|(name, _)| *name)
    }

    fn address<'a>(&self, raw: &'a str) -> Address<'a> {
        match raw.split_once(':') {
            Some((platform, channel))
                if !platform.is_empty() && platform.chars().all(|c| c.is_ascii_lowercase()) =>
            {
                Address {
                    platform,
                    channel,
                    prefixed: true,
                }
            }
            _ => Address {
                platform: self.default,
                channel: raw,
                prefixed: false,
            },
        }
    }

    /// The gateway for `raw` and the channel id to hand it, or why there is none.
    fn route<'a>(
        &self,
        raw: &'a str,
    ) -> Result<(&Arc<dyn ChatGateway>, Address<'a>), PlatformNotConnected> {
        if let Some(stand_in) = &self.stand_in {
            return Ok((
                stand_in,
                Address {
                    platform: "",
                    channel: raw,
                    prefixed: false,
                },
            ));
        }
        let address = self.address(raw);
        self.platforms
            .iter()
            .find(|(name, _)| *name == address.platform)
            .map(|(_, gateway)| (gateway, address))
            .ok_or_else(|| PlatformNotConnected {
                platform: address.platform.to_owned(),
                destination: raw.to_owned(),
            })
    }

    /// How a message posted at `address` is remembered: prefixed, unless its platform is the
    /// default (whose stored refs were always bare).
    fn remembered(&self, address: Address<'_>, channel: String) -> String {
        if address.platform == self.default || address.platform.is_empty() {
            channel
        } else {
            format!("{}:{channel}", address.platform)
        }
    }
}

impl ChatPlatforms for ChatRouter {
    fn check(&self, destination: &ChatDestination) -> Result<(), PlatformNotConnected> {
        let (_, address) = self.route(destination.as_str())?;
        if address.prefixed && address.channel.is_empty() {
            return Err(PlatformNotConnected {
                platform: address.platform.to_owned(),
                destination: destination.as_str().to_owned(),
            });
        }
        Ok(())
    }
}

/// A destination that was accepted at creation but has no gateway now (the platform was
/// disconnected since): retrying cannot help until the configuration changes.
fn not_connected(error: PlatformNotConnected) -> ChatError {
    ChatError::Permanent {
        reason: error.to_string(),
    }
}

#[async_trait]
impl ChatGateway for ChatRouter {
    async fn post(&self, message: &ChatMessage) -> Result<MessageRef, ChatError> {
        let (gateway, address) = self
            .route(message.destination.as_str())
            .map_err(not_connected)?;
        let posted = if address.prefixed {
            let destination =
                ChatDestination::parse(address.channel).map_err(|e| ChatError::Permanent {
                    reason: format!("destination {:?}: {e}", message.destination.as_str()),
                })?;
            let bare = ChatMessage {
                destination,
                ..message.clone()
            };
            gateway.post(&bare).await?
        } else {
            gateway.post(message).await?
        };
        Ok(MessageRef {
            channel: self.remembered(address, posted.channel),
            message_id: posted.message_id,
        })
    }

    async fn update(&self, at: &MessageRef, message: &ChatMessage) -> Result<(), ChatError> {
        let (gateway, address) = self.route(&at.channel).map_err(not_connected)?;
        let bare = MessageRef {
            channel: address.channel.to_owned(),
            message_id: at.message_id.clone(),
        };
        gateway.update(&bare, message).await
    }

    async fn reply(&self, to: &MessageRef, reply: &ChatReply) -> Result<(), ChatError> {
        let (gateway, address) = self.route(&to.channel).map_err(not_connected)?;
        let bare = MessageRef {
            channel: address.channel.to_owned(),
            message_id: to.message_id.clone(),
        };
        gateway.reply(&bare, reply).await
    }
}

#[cfg(test)]
#[path = "router/tests.rs"]
mod tests;
