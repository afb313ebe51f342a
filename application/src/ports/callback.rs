//! Calling a requester back: the guard that vets a callback URL before anything is stored,
//! and the sender that POSTs one signed event to it.
//!
//! Both exist because a callback URL is input from a client that the service will later
//! connect to on that client's behalf. Without the guard, any API client could make the
//! service reach its own loopback, the private network or a cloud metadata endpoint
//! (server-side request forgery). The sender applies the same rule again when it connects,
//! because a host name can resolve differently between creation and delivery.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::CallbackUrl;

use super::{SinkError, WebhookSecret};

/// Why a callback URL cannot be used. The reason is written for the client that sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("callback_url refused: {reason}")]
pub struct CallbackUrlRefused {
    pub reason: String,
}

/// Vets a callback URL when a request is created, before it is stored.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CallbackUrlGuard: Send + Sync {
    /// Checks that the service may call `url` back: its scheme is allowed (`https`, or
    /// `http` where the configuration allows it) and its host resolves only to addresses
    /// that are allowed (no loopback, private, link-local, shared, metadata, multicast,
    /// documentation or unspecified address, unless the configuration allows private
    /// networks).
    ///
    /// # Errors
    /// [`CallbackUrlRefused`] naming the rule the URL broke; also when its host does not
    /// resolve, since a URL that cannot be reached now is more likely a typo than a
    /// receiver that is briefly down.
    async fn check(&self, url: &CallbackUrl) -> Result<(), CallbackUrlRefused>;
}

/// One event, serialized, on its way to a requester's callback URL.
#[derive(Debug, Clone)]
pub struct Callback {
    pub url: CallbackUrl,
    /// The `webhook-id`: the same for every attempt at this event, so the receiver can
    /// drop a duplicate; no dots (Standard Webhooks).
    pub id: String,
    /// The `webhook-timestamp` of this attempt: each attempt is signed afresh, so a receiver
    /// that refuses old timestamps still accepts a late retry.
    pub timestamp: DateTime<Utc>,
    /// The exact bytes that are signed and sent.
    pub body: Vec<u8>,
    /// Every secret that signs this attempt, the current one first: two during a rotation's
    /// grace period, one otherwise.
    pub secrets: Vec<WebhookSecret>,
}

/// Delivers one [`Callback`] with the Standard Webhooks headers.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CallbackSender: Send + Sync {
    /// Signs the callback with each of its secrets and POSTs it, without following
    /// redirects, within the sender's timeout.
    ///
    /// # Errors
    /// - `Retryable` for a timeout, a connection failure, a 5xx or a 408, with the
    ///   receiver's `Retry-After` (delta-seconds or an HTTP date) as the hint when it sent
    ///   one;
    /// - `Retryable` with its `Retry-After` for a 429 too, never `RateLimited`: that would
    ///   pause the whole sink, and one receiver asking to slow down must not hold up the
    ///   others;
    /// - `Permanent` for any other status that is not 2xx, a redirect included, and for an
    ///   address the guard's rule refuses at connect time.
    async fn send(&self, callback: &Callback) -> Result<(), SinkError>;
}
