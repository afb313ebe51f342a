//! The outbound half: the `ChatGateway` port over Discord's REST API.

use std::time::Duration;

use application::chat::{ChatMessage, ChatReply};
use application::ports::{ChatError, ChatGateway, MessageRef};
use async_trait::async_trait;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::render::{Message, render};
use crate::reply::{Reply, render_reply};
use crate::rest::{CreatedMessage, read_answer};
use crate::settings::{DiscordSettings, DiscordSetupError, is_snowflake};

/// Discord requires `DiscordBot ($url, $version)`; Cloudflare may block other agents.
const USER_AGENT: &str = concat!(
    "DiscordBot (https://",
    env!("SERVICE_NAME"),
    ".example, ",
    env!("CARGO_PKG_VERSION"),
    ")"
);
/// What a destination names its platform with; this gateway also takes bare channel ids.
const PREFIX: &str = "discord:";

/// Posts and edits messages as the application's bot.
///
/// Each call is one HTTP request with a timeout and no retry of its own: retrying and
/// honouring `retry_after` is the outbox relay's job, driven by the [`ChatError`] class this
/// gateway returns. `Debug` redacts the token.
#[derive(Debug, Clone)]
pub struct DiscordGateway {
    http: reqwest::Client,
    api_base_url: String,
    bot_token: SecretString,
    timeout: Duration,
}

#[derive(Serialize)]
struct CreateMessage<'a> {
    #[serde(flatten)]
    message: &'a Message,
    /// The same for every post of one subject: after a timeout, the relay's retry returns
    /// the message the first attempt created instead of a second one.
    nonce: String,
    enforce_nonce: bool,
}

#[derive(Serialize)]
struct CreateReply<'a> {
    #[serde(flatten)]
    reply: &'a Reply,
    /// Different for every reply (a reply is raised by a change, which moves the subject's
    /// version), the same for a retry of one.
    nonce: String,
    enforce_nonce: bool,
}

impl DiscordGateway {
    /// Checks the settings and builds the HTTP client.
    ///
    /// # Errors
    /// [`DiscordSetupError`] naming the setting that cannot work.
    pub fn new(settings: &DiscordSettings) -> Result<Self, DiscordSetupError> {
        let api_base_url = settings.validate()?;
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .user_agent(USER_AGENT)
            .build()
            .map_err(DiscordSetupError::HttpClient)?;
        Ok(Self {
            http,
            api_base_url,
            bot_token: settings.bot_token.clone(),
            timeout: settings.timeout,
        })
    }

    /// One REST call with a JSON body; the body of a 2xx answer.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        body: &impl Serialize,
    ) -> Result<Vec<u8>, ChatError> {
        let name = format!("{method} {}", redact_ids(path));
        let body = serde_json::to_vec(body).map_err(|e| ChatError::Permanent {
            reason: format!("{name}: could not encode the request: {e}"),
        })?;
        let mut authorization =
            HeaderValue::from_str(&format!("Bot {}", self.bot_token.expose_secret())).map_err(
                |_| ChatError::Permanent {
                    reason: "the bot token cannot be sent in a header".into(),
                },
            )?;
        authorization.set_sensitive(true);
        let response = self
            .http
            .request(method, format!("{}{path}", self.api_base_url))
            .header(AUTHORIZATION, authorization)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport_error(&name, &e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&name, &e))?;
        read_answer(&name, status, &headers, &body).map(<[u8]>::to_vec)
    }

    /// No answer at all. The request may still have reached Discord; for a post the nonce
    /// makes the retry harmless.
    fn transport_error(&self, call: &str, error: &reqwest::Error) -> ChatError {
        if error.is_timeout() {
            return ChatError::Retryable {
                reason: format!("{call}: no answer within {:?}", self.timeout),
                retry_after: None,
            };
        }
        let mut reason = format!("{call}: {error}");
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            reason.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        if error.is_builder() {
            ChatError::Permanent { reason }
        } else {
            ChatError::Retryable {
                reason,
                retry_after: None,
            }
        }
    }
}

#[async_trait]
impl ChatGateway for DiscordGateway {
    #[tracing::instrument(skip_all, fields(subject = %message.subject, channel = %message.destination))]
    async fn post(&self, message: &ChatMessage) -> Result<MessageRef, ChatError> {
        let channel = channel(message.destination.as_str())?;
        let request = CreateMessage {
            message: &render(message),
            nonce: nonce(message),
            enforce_nonce: true,
        };
        let body = self
            .call(
                Method::POST,
                &format!("/channels/{channel}/messages"),
                &request,
            )
            .await?;
        let created: CreatedMessage =
            serde_json::from_slice(&body).map_err(|e| ChatError::Retryable {
                reason: format!("POST /channels/…/messages: unreadable answer: {e}"),
                retry_after: None,
            })?;
        tracing::debug!(message_id = created.id, "message posted");
        Ok(MessageRef {
            channel: created.channel_id,
            message_id: created.id,
        })
    }

    #[tracing::instrument(skip_all, fields(subject = %message.subject, channel = %at.channel, message_id = %at.message_id))]
    async fn update(&self, at: &MessageRef, message: &ChatMessage) -> Result<(), ChatError> {
        let channel = channel(&at.channel)?;
        if !is_snowflake(&at.message_id) {
            return Err(ChatError::Permanent {
                reason: format!("{:?} is not a Discord message id", at.message_id),
            });
        }
        let path = format!("/channels/{channel}/messages/{}", at.message_id);
        self.call(Method::PATCH, &path, &render(message)).await?;
        tracing::debug!(status = message.status, "message updated");
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(subject = %reply.subject, channel = %to.channel, message_id = %to.message_id))]
    async fn reply(&self, to: &MessageRef, reply: &ChatReply) -> Result<(), ChatError> {
        let channel = channel(&to.channel)?;
        if !is_snowflake(&to.message_id) {
            return Err(ChatError::Permanent {
                reason: format!("{:?} is not a Discord message id", to.message_id),
            });
        }
        let request = CreateReply {
            reply: &render_reply(reply, &to.message_id),
            nonce: reply_nonce(reply),
            enforce_nonce: true,
        };
        self.call(
            Method::POST,
            &format!("/channels/{channel}/messages"),
            &request,
        )
        .await?;
        tracing::debug!("replied to the message");
        Ok(())
    }
}

/// The channel id of a destination (`discord:<id>` or a bare id).
fn channel(destination: &str) -> Result<&str, ChatError> {
    let id = destination.strip_prefix(PREFIX).unwrap_or(destination);
    if is_snowflake(id) {
        Ok(id)
    } else {
        Err(ChatError::Permanent {
            reason: format!("{destination:?} is not a Discord channel id"),
        })
    }
}

/// At most 25 characters, the same for every post of one subject, different between
/// subjects: the first 96 bits of a hash of the subject's kind and id, in hex.
pub(crate) fn nonce(message: &ChatMessage) -> String {
    let digest = Sha256::digest(format!(
        "{}:{}:{}",
        env!("SERVICE_NAME"),
        message.subject.kind,
        message.subject.id
    ));
    hex::encode(&digest[..12])
}

/// Like [`nonce`], for one reply: the subject's version tells replies apart.
fn reply_nonce(reply: &ChatReply) -> String {
    let digest = Sha256::digest(format!(
        "{}:{}:{}:reply:{}",
        env!("SERVICE_NAME"),
        reply.subject.kind,
        reply.subject.id,
        reply.subject.version
    ));
    hex::encode(&digest[..12])
}

/// Paths name channels and messages; logs keep their shape only.
fn redact_ids(path: &str) -> String {
    path.split('/')
        .map(|part| if is_snowflake(part) { "…" } else { part })
        .collect::<Vec<_>>()
        .join("/")
}

/// reqwest is built with `rustls-no-provider` (one crypto backend, ring, for the workspace),
/// so rustls needs a process-wide provider before the first client; installing is
/// idempotent, and one installed by another part of the process stays.
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none()
        && rustls::crypto::ring::default_provider()
            .install_default()
            .is_err()
    {
        tracing::debug!("another thread installed a rustls crypto provider first; using it");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_the_token() {
        let key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
        let gateway =
            DiscordGateway::new(&DiscordSettings::new("bot-secret-token".into(), key)).unwrap();
        let printed = format!("{gateway:?}");
        assert!(!printed.contains("bot-secret-token"), "{printed}");
    }

    #[test]
    fn the_user_agent_has_discords_format() {
        assert!(
            USER_AGENT.starts_with("DiscordBot (https://"),
            "{USER_AGENT}"
        );
        assert!(USER_AGENT.ends_with(&format!(", {})", env!("CARGO_PKG_VERSION"))));
    }

    #[test]
    fn destinations_name_channels_with_or_without_the_prefix() {
        assert_eq!(channel("discord:123").unwrap(), "123");
        assert_eq!(channel("123").unwrap(), "123");
        assert!(matches!(
            channel("C0SLACK"),
            Err(ChatError::Permanent { .. })
        ));
        assert_eq!(
            redact_ids("/channels/123/messages/456"),
            "/channels/…/messages/…"
        );
    }
}
