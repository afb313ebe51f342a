//! POSTing a callback, and what its answer means for the relay.

use std::time::Duration;

use application::ports::{Callback, CallbackSender, SinkError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION, RETRY_AFTER};
use url::Url;

use crate::addresses::AddressRule;
use crate::guard::WebhookGuard;
use crate::resolver::{AddressRefused, GuardedResolver};
use crate::signature;

/// How the sender behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookSettings {
    /// The whole attempt, connecting included. Short: the relay holds the message's lease
    /// while it waits, and a slow receiver must not hold up the others in its lane for long.
    pub timeout: Duration,
    pub rule: AddressRule,
    pub allow_http: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            rule: AddressRule::default(),
            allow_http: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookSetupError {
    #[error("cannot build the HTTP client")]
    HttpClient(#[source] reqwest::Error),
}

/// Delivers callbacks (`CallbackSender`) with the Standard Webhooks headers.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    http: reqwest::Client,
    guard: WebhookGuard,
}

impl WebhookSender {
    /// # Errors
    /// [`WebhookSetupError`] when the HTTP client cannot be built.
    pub fn new(settings: &WebhookSettings) -> Result<Self, WebhookSetupError> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            // A redirect is the receiver's answer, not an instruction: following it would
            // let a receiver point the service anywhere, past the address rule.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would make the connection, and the address check, somewhere else.
            .no_proxy()
            .dns_resolver(GuardedResolver(settings.rule))
            .https_only(!settings.allow_http)
            .user_agent(concat!(
                env!("SERVICE_NAME"),
                "/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(WebhookSetupError::HttpClient)?;
        Ok(Self {
            http,
            guard: WebhookGuard {
                rule: settings.rule,
                allow_http: settings.allow_http,
            },
        })
    }
}

#[async_trait]
impl CallbackSender for WebhookSender {
    #[tracing::instrument(name = "webhook.send", skip_all, fields(webhook_id = %callback.id))]
    async fn send(&self, callback: &Callback) -> Result<(), SinkError> {
        let permanent = |reason: String| SinkError::Permanent { reason };
        let url = Url::parse(callback.url.as_str()).map_err(|e| permanent(e.to_string()))?;
        // An IP literal never reaches the resolver: it is checked here, with the same rule.
        // A name is checked by the client's resolver, on the addresses it connects to.
        self.guard
            .check_without_dns(&url)
            .map_err(|why| permanent(format!("callback URL refused: {why}")))?;
        let timestamp = callback.timestamp.timestamp();
        let signature =
            signature::header(&callback.secrets, &callback.id, timestamp, &callback.body)
                .map_err(|e| permanent(e.to_string()))?;
        let response = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", &callback.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(callback.body.clone())
            .send()
            .await
            .map_err(classify_error)?;
        classify_status(response.status(), response.headers(), callback.timestamp)
    }
}

/// What an answer means. `now` dates an HTTP-date `Retry-After`.
fn classify_status(
    status: StatusCode,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<(), SinkError> {
    if status.is_success() {
        return Ok(());
    }
    if status.is_redirection() {
        let location = headers
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("nowhere");
        return Err(SinkError::Permanent {
            reason: format!(
                "the receiver answered {status}, a redirect to {location}; redirects are not followed"
            ),
        });
    }
    let reason = format!("the receiver answered {status}");
    if status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
    {
        // A 429 is one receiver's limit: a retry of this message after its hint, not a
        // pause of the whole sink (`SinkError::RateLimited`), which would delay every other
        // receiver.
        return Err(SinkError::Retryable {
            reason,
            retry_after: retry_after(headers, now),
        });
    }
    Err(SinkError::Permanent { reason })
}

/// `Retry-After` as delta-seconds or an HTTP date (RFC 9110, 10.2.3); `None` when absent or
/// unreadable. A date in the past means "now".
fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at: DateTime<Utc> = httpdate::parse_http_date(value).ok()?.into();
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

fn classify_error(error: reqwest::Error) -> SinkError {
    let builder = error.is_builder();
    let refused = causes(&error).any(|cause| cause.downcast_ref::<AddressRefused>().is_some());
    // The URL stays out of the reason, which is logged and kept in a dead letter: a
    // receiver may put a token in its query.
    let reason = error_chain(&error.without_url());
    if refused || builder {
        SinkError::Permanent { reason }
    } else {
        // A timeout, a refused connection, a TLS failure, a reset: the receiver may be back
        // later. A timeout may also mean it acted on the call: delivery is at-least-once.
        SinkError::Retryable {
            reason,
            retry_after: None,
        }
    }
}

/// The error and its causes on one line: reqwest's own message rarely says what failed.
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    for cause in causes(error) {
        text.push_str(": ");
        text.push_str(&cause.to_string());
    }
    text
}

/// The causes of an error, innermost last.
fn causes<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(error.source(), |cause| cause.source())
}

/// reqwest is built with `rustls-no-provider`; see the Slack adapter. Installing is
/// idempotent.
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
#[path = "sender/tests.rs"]
mod tests;
