//! # adapter-webhook — signed callbacks to a requester's URL
//!
//! Implements the two callback ports of `application`:
//!
//! - [`WebhookGuard`] (`CallbackUrlGuard`) vets a callback URL when a request is created:
//!   `https` (or `http` where allowed), and a host that resolves only to addresses the rule
//!   in [`addresses`] allows — no loopback, private, link-local, shared (CGNAT), metadata,
//!   multicast, documentation or unspecified address, whether written as IPv4, IPv6 or an
//!   IPv6 form that embeds IPv4 (mapped, NAT64, 6to4).
//! - [`WebhookSender`] (`CallbackSender`) POSTs a callback with the Standard Webhooks headers
//!   ([`signature`]), and classifies the answer for the relay: 2xx delivered; a timeout, a
//!   5xx, a 408 or a 429 worth retrying (with the receiver's `Retry-After`); anything else,
//!   a redirect included, permanent. It follows no redirect and uses no proxy, and its DNS
//!   resolver ([`resolver`]) applies the address rule again at connect time, so a name that
//!   resolved to a public address at creation and to a private one now (DNS rebinding) is
//!   refused.
//!
//! What does not belong here: which events call back and what their body says (the
//! application's `callback` module), retries and backoff (the relay), the secrets' storage.

pub mod addresses;
mod guard;
mod resolver;
mod sender;
pub mod signature;

pub use addresses::AddressRule;
pub use guard::WebhookGuard;
pub use sender::{WebhookSender, WebhookSettings, WebhookSetupError};
