//! The outbound half: the `ChatGateway` port over Slack's Web API.

use std::time::Duration;

use application::chat::{ChatMessage, ChatReply};
use application::ports::{ChatError, ChatGateway, MessageRef};
use async_trait::async_trait;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::blocks::{MESSAGE_TEXT_MAX, Message, render};
use crate::markup::mrkdwn;
use crate::settings::{SlackSettings, SlackSetupError};
use crate::web_api::{Answer, read_answer};

const POST_MESSAGE: &str = "chat.postMessage";
const UPDATE: &str = "chat.update";

/// Posts and updates messages with a bot token, each rendered as Block Kit.
///
/// Each call is one HTTP request with a timeout and no retry of its own: retrying, backing off
/// and honouring `Retry-After` is the outbox relay's job, driven by the [`ChatError`] class
/// this gateway returns. `Debug` redacts the token.
#[derive(Debug, Clone)]
pub struct SlackGateway {
    http: reqwest::Client,
    api_base_url: String,
    bot_token: SecretString,
    timeout: Duration,
}

#[derive(Serialize)]
struct PostMessage<'a> {
    channel: &'a str,
    #[serde(flatten)]
    message: Message,
    // A link in a message's body must not grow a preview bigger than the message itself.
    unfurl_links: bool,
    unfurl_media: bool,
}

#[derive(Serialize)]
struct UpdateMessage<'a> {
    channel: &'a str,
    ts: &'a str,
    // Blocks are sent again on purpose: `chat.update` with `text` alone removes them.
    #[serde(flatten)]
    message: Message,
}

/// A `chat.postMessage` in the thread of the message whose `ts` is `thread_ts`. Text only:
/// a reply is one line, and mentions in `text` notify the people named.
#[derive(Serialize)]
struct ThreadReply<'a> {
    channel: &'a str,
    thread_ts: &'a str,
    text: String,
    unfurl_links: bool,
    unfurl_media: bool,
}

impl SlackGateway {
    /// Checks the settings and builds the HTTP client.
    ///
    /// # Errors
    /// [`SlackSetupError`] naming the setting that cannot work.
    pub fn new(settings: &SlackSettings) -> Result<Self, SlackSetupError> {
        let api_base_url = settings.validate()?;
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .user_agent(concat!(
                env!("SERVICE_NAME"),
                "/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(SlackSetupError::HttpClient)?;
        Ok(Self {
            http,
            api_base_url,
            bot_token: settings.bot_token.clone(),
            timeout: settings.timeout,
        })
    }

    /// Calls one Web API write method with a JSON body.
    async fn call(&self, method: &str, body: &impl Serialize) -> Result<Answer, ChatError> {
        let body = serde_json::to_vec(body).map_err(|e| ChatError::Permanent {
            reason: format!("{method}: could not encode the request: {e}"),
        })?;
        let response = self
            .http
            .post(format!("{}/{method}", self.api_base_url))
            // Slack requires the Bearer header for JSON bodies; reqwest marks it sensitive.
            .bearer_auth(self.bot_token.expose_secret())
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport_error(method, &e))?;
        let status = response.status();
        let retry_after = response.headers().get(RETRY_AFTER).cloned();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(method, &e))?;
        read_answer(method, status, retry_after.as_ref(), &body)
    }

    /// Posts `message` to `channel` and returns where it now lives.
    async fn post_blocks(&self, channel: &str, message: Message) -> Result<MessageRef, ChatError> {
        let request = PostMessage {
            channel,
            message,
            unfurl_links: false,
            unfurl_media: false,
        };
        let answer = self.call(POST_MESSAGE, &request).await?;
        // Slack answers with the channel *id* even when the destination was a name; later
        // updates need that id.
        match (answer.channel, answer.ts) {
            (Some(channel), Some(ts)) => {
                tracing::debug!(ts, "message posted");
                Ok(MessageRef {
                    channel,
                    message_id: ts,
                })
            }
            _ => Err(ChatError::Retryable {
                reason: format!("{POST_MESSAGE}: answer is missing channel or ts"),
                retry_after: None,
            }),
        }
    }

    /// Replaces the message at `at` with `message`.
    async fn update_blocks(&self, at: &MessageRef, message: Message) -> Result<(), ChatError> {
        let request = UpdateMessage {
            channel: &at.channel,
            ts: &at.message_id,
            message,
        };
        self.call(UPDATE, &request).await?;
        Ok(())
    }

    /// No answer at all. The request may still have reached Slack, which is why a retry can
    /// duplicate a post (see the port's contract).
    fn transport_error(&self, method: &str, error: &reqwest::Error) -> ChatError {
        if error.is_timeout() {
            return ChatError::Retryable {
                reason: format!("{method}: no answer within {:?}", self.timeout),
                retry_after: None,
            };
        }
        let mut reason = format!("{method}: {error}");
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
impl ChatGateway for SlackGateway {
    #[tracing::instrument(skip_all, fields(subject = %message.subject, channel = %message.destination))]
    async fn post(&self, message: &ChatMessage) -> Result<MessageRef, ChatError> {
        self.post_blocks(message.destination.as_str(), render(message))
            .await
    }

    #[tracing::instrument(skip_all, fields(subject = %message.subject, channel = %at.channel, ts = %at.message_id))]
    async fn update(&self, at: &MessageRef, message: &ChatMessage) -> Result<(), ChatError> {
        self.update_blocks(at, render(message)).await?;
        tracing::debug!(status = message.status, "message updated");
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(subject = %reply.subject, channel = %to.channel, thread_ts = %to.message_id))]
    async fn reply(&self, to: &MessageRef, reply: &ChatReply) -> Result<(), ChatError> {
        let request = ThreadReply {
            channel: &to.channel,
            thread_ts: &to.message_id,
            text: mrkdwn(&reply.text, MESSAGE_TEXT_MAX),
            unfurl_links: false,
            unfurl_media: false,
        };
        self.call(POST_MESSAGE, &request).await?;
        tracing::debug!("replied in the thread");
        Ok(())
    }
}

/// reqwest is built with `rustls-no-provider`, so the workspace compiles one crypto backend
/// (ring) instead of two; rustls then needs a process-wide provider before the first client
/// is built. Installing is idempotent: if one is already installed (by an earlier gateway or
/// another part of the process), that one stays and is used.
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
        let gateway =
            SlackGateway::new(&SlackSettings::new("xoxb-secret-token".into(), "s".into())).unwrap();
        let printed = format!("{gateway:?}");
        assert!(!printed.contains("xoxb-secret-token"), "{printed}");
        assert!(printed.contains("REDACTED"), "{printed}");
    }

    #[test]
    fn building_twice_is_fine_because_the_crypto_provider_installs_once() {
        let settings = SlackSettings::new("xoxb-token".into(), "s".into());
        assert!(SlackGateway::new(&settings).is_ok());
        assert!(SlackGateway::new(&settings).is_ok());
    }
}
