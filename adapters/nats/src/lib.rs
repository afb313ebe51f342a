//! # adapter-nats — domain events on NATS JetStream, once per event
//!
//! [`JetStreamSink`] is one more destination of the outbox relay (the `Sink` port, named
//! `events`): every domain event becomes one message on
//! `<prefix>.<aggregate>.<event>` (`<service>.events.approval.approved`) in a JetStream
//! stream, so other services can react to what happens without calling the service.
//! The body is an [`EventEnvelope`] (JSON); the `Nats-Msg-Id` header ([`message_id`]) is
//! the same on every retry of an event, so JetStream stores each event once although the
//! relay delivers at least once. [`NatsReadiness`] reports the connection for `/readyz`.
//!
//! The crate is optional: a service without `NATS_URL` never builds the sink, and a service
//! generated from the template can drop the crate and its wiring lines.
//!
//! What belongs here: the subject scheme, the message body, the stream's configuration,
//! NATS credentials and TLS, and which NATS failures are worth a retry. What does not:
//! retry timing and per-aggregate ordering (the relay, in `application`), which events exist
//! (the domain).
//!
//! Where to look: exactly-once and error classification → `sink.rs`; the body and the
//! message id → `envelope.rs`; subjects → `subject.rs`; settings, credentials, TLS →
//! `settings.rs`. How another service consumes the stream: `examples/approval-consumer`.

mod envelope;
mod readiness;
mod settings;
mod sink;
mod subject;

pub use envelope::{EventEnvelope, message_id};
pub use readiness::NatsReadiness;
pub use settings::{NatsAuth, NatsSettings, NatsSetupError, NatsTls};
pub use sink::JetStreamSink;
