//! Driven ports: what the use cases need from the outside world.
//!
//! Each trait is object-safe (`async-trait`) so use cases hold `Arc<dyn Port>` and adapters are
//! chosen at start-up. Every method documents the errors it may return; an implementation must
//! return exactly those, which the contract suites in `tests/` check for every adapter.

mod alert_repository;
mod api_keys;
mod approval_repository;
mod callback;
mod change_feed;
mod chat_gateway;
mod chat_messages;
mod chat_platforms;
mod idempotency;
mod outbox;
mod readiness;
mod sink;
mod store_error;
mod system;

pub use alert_repository::AlertRepository;
pub use api_keys::{
    ApiKeyHash, ApiKeyRecord, ApiKeyStore, InvalidWebhookSecret, WebhookSecret, WebhookSecrets,
};
pub use approval_repository::{ApprovalRepository, ListQuery};
pub use callback::{Callback, CallbackSender, CallbackUrlGuard, CallbackUrlRefused};
pub use change_feed::{ChangeFeed, Subscription};
pub use chat_gateway::{ChatError, ChatGateway, MessageRef};
pub use chat_messages::ChatMessages;
pub use chat_platforms::{ChatPlatforms, PlatformNotConnected};
pub use idempotency::{Claim, IdempotencyKey, IdempotencyStore, KeyClaim, Receipt, StoredResponse};
pub use outbox::{
    DeadLetter, DeadLetterSelection, DeliveryRoutes, EventSelection, NewOutboxMessage, Outbox,
    OutboxMessage, Route, SinkStats,
};
pub use readiness::Readiness;
pub use sink::{CALLBACK_SINK, CHAT_SINK, Sink, SinkError};
pub use store_error::RepositoryError;
pub use system::{Clock, IdGenerator};

#[cfg(any(test, feature = "mocks"))]
pub use alert_repository::MockAlertRepository;
#[cfg(any(test, feature = "mocks"))]
pub use api_keys::MockApiKeyStore;
#[cfg(any(test, feature = "mocks"))]
pub use approval_repository::MockApprovalRepository;
#[cfg(any(test, feature = "mocks"))]
pub use callback::{MockCallbackSender, MockCallbackUrlGuard};
#[cfg(any(test, feature = "mocks"))]
pub use change_feed::MockChangeFeed;
#[cfg(any(test, feature = "mocks"))]
pub use chat_gateway::MockChatGateway;
#[cfg(any(test, feature = "mocks"))]
pub use chat_messages::MockChatMessages;
#[cfg(any(test, feature = "mocks"))]
pub use chat_platforms::MockChatPlatforms;
#[cfg(any(test, feature = "mocks"))]
pub use idempotency::MockIdempotencyStore;
#[cfg(any(test, feature = "mocks"))]
pub use outbox::MockOutbox;
#[cfg(any(test, feature = "mocks"))]
pub use readiness::MockReadiness;
#[cfg(any(test, feature = "mocks"))]
pub use sink::MockSink;
#[cfg(any(test, feature = "mocks"))]
pub use system::{MockClock, MockIdGenerator};
