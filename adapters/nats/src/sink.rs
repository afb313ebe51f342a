//! The `Sink` port over JetStream: one stored event in, one acknowledged stream message out.
//!
//! Exactly once in the stream, from an at-least-once relay: every attempt at the same event
//! carries the same `Nats-Msg-Id`, and JetStream drops a repeat that arrives within the
//! stream's duplicate window. So a publish whose ack was lost, or a relay killed between
//! JetStream's ack and marking the row delivered, is retried without storing the event twice.
//! Order per aggregate needs nothing here: the relay gives a sink one event of an aggregate
//! at a time, and the next only after this one's ack.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use application::ports::{OutboxMessage, Sink, SinkError};
use async_nats::connection::State;
use async_nats::header::{HeaderMap, NATS_MESSAGE_ID};
use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::context::{CreateStreamError, PublishError, PublishErrorKind};
use async_nats::jetstream::{self, stream};
use async_trait::async_trait;
use secrecy::ExposeSecret;

use crate::envelope::EventEnvelope;
use crate::readiness::NatsReadiness;
use crate::settings::{NatsSettings, NatsSetupError};
use crate::subject;

/// Publishes every event it is given to a JetStream stream, waiting for the stream's ack.
///
/// Cheap to clone; clones share one connection.
#[derive(Debug, Clone)]
pub struct JetStreamSink {
    jetstream: jetstream::Context,
    stream: Arc<stream::Config>,
    subject_prefix: Arc<str>,
    timeout: Duration,
    /// Set once the stream is known to exist; cleared when a publish finds no stream, so the
    /// next delivery creates it again.
    stream_ready: Arc<AtomicBool>,
}

impl JetStreamSink {
    /// The sink's name in outbox rows and metrics. Never change it for a running service.
    pub const NAME: &str = "events";

    /// Checks the settings and starts connecting to NATS in the background.
    ///
    /// It does not wait for the server: a service whose NATS is down still starts, its
    /// events wait in the outbox, and [`readiness`](Self::readiness) reports the connection.
    /// The stream is created (when missing) by the first delivery.
    ///
    /// # Errors
    /// [`NatsSetupError`] for settings that cannot work: an empty or malformed URL, a stream
    /// name or subject prefix JetStream refuses, a zero timeout, credential or TLS files that
    /// cannot be read.
    pub async fn connect(settings: &NatsSettings) -> Result<Self, NatsSetupError> {
        settings.validate()?;
        let client = settings
            .connect_options()
            .await?
            .connect(settings.url.expose_secret())
            .await
            // Only the kind of failure: the URL may hold a password.
            .map_err(|e| NatsSetupError::InvalidUrl(e.kind().to_string()))?;
        let jetstream = jetstream::ContextBuilder::new()
            .timeout(settings.publish_timeout)
            .build(client);
        Ok(Self {
            jetstream,
            stream: Arc::new(stream::Config {
                name: settings.stream.clone(),
                subjects: vec![settings.stream_subjects()],
                duplicate_window: settings.duplicate_window,
                storage: stream::StorageType::File,
                description: Some("Domain events, one message per event".to_owned()),
                ..stream::Config::default()
            }),
            subject_prefix: settings.subject_prefix.as_str().into(),
            timeout: settings.publish_timeout,
            stream_ready: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The `/readyz` check of this sink's connection.
    pub fn readiness(&self) -> NatsReadiness {
        NatsReadiness::new(self.jetstream.client())
    }

    /// Creates the stream unless it exists. An existing stream is left as it is, because it
    /// may be managed by someone else; a duplicate window shorter than ours, or subjects
    /// that miss ours, are logged, since both break exactly-once delivery.
    ///
    /// # Errors
    /// `Retryable` whenever the stream cannot be found or created (see `stream_error`).
    pub async fn ensure_stream(&self) -> Result<(), SinkError> {
        let stream = self
            .jetstream
            .get_or_create_stream((*self.stream).clone())
            .await
            .map_err(stream_error)?;
        let existing = &stream.cached_info().config;
        let wanted = &self.stream;
        if existing.duplicate_window < wanted.duplicate_window {
            tracing::warn!(
                stream = %wanted.name,
                existing = ?existing.duplicate_window,
                wanted = ?wanted.duplicate_window,
                "the stream's duplicate window is shorter than configured: a late retry may be \
                 stored twice"
            );
        }
        let captured = wanted.subjects.iter().all(|filter| {
            existing
                .subjects
                .iter()
                .any(|pattern| subject::covers(pattern, filter))
        });
        if !captured {
            tracing::warn!(
                stream = %wanted.name,
                existing = ?existing.subjects,
                wanted = ?wanted.subjects,
                "the stream does not capture the event subjects: publishing will fail"
            );
        }
        self.stream_ready.store(true, Ordering::Release);
        Ok(())
    }

    async fn publish(&self, message: &OutboxMessage) -> Result<(), SinkError> {
        let Some(subject) = subject::for_event(&self.subject_prefix, &message.event_type) else {
            return Err(SinkError::Permanent {
                reason: format!(
                    "event type {:?} does not make a NATS subject",
                    message.event_type
                ),
            });
        };
        let envelope = EventEnvelope::of(message);
        let body = serde_json::to_vec(&envelope).map_err(|e| SinkError::Permanent {
            reason: format!("serializing the event: {e}"),
        })?;
        let mut headers = HeaderMap::new();
        headers.insert(NATS_MESSAGE_ID, envelope.id.as_str());

        if !self.stream_ready.load(Ordering::Acquire) {
            self.ensure_stream().await?;
        }
        let ack = self
            .jetstream
            .publish_with_headers(subject, headers, body.into())
            .await
            .map_err(|e| self.publish_error(&e))?
            .await
            .map_err(|e| self.publish_error(&e))?;
        if ack.duplicate {
            tracing::debug!(
                msg_id = %envelope.id,
                sequence = ack.sequence,
                "JetStream already had this event; the repeat was dropped"
            );
        }
        Ok(())
    }

    fn publish_error(&self, error: &PublishError) -> SinkError {
        match error.kind() {
            // The stream is gone (deleted by an operator) or JetStream is not answering; the
            // next attempt creates the stream again.
            PublishErrorKind::StreamNotFound => {
                self.stream_ready.store(false, Ordering::Release);
                retryable(format!("no stream captures the subject: {error}"))
            }
            PublishErrorKind::MaxPayloadExceeded => SinkError::Permanent {
                reason: format!("the event is larger than the server accepts: {error}"),
            },
            PublishErrorKind::Other
                if matches!(
                    jetstream_code(error),
                    Some(
                        ErrorCode::STREAM_MESSAGE_EXCEEDS_MAXIMUM
                            | ErrorCode::STREAM_HEADER_EXCEEDS_MAXIMUM
                    )
                ) =>
            {
                SinkError::Permanent {
                    reason: format!("the event is larger than the stream accepts: {error}"),
                }
            }
            _ => retryable(format!("publishing to JetStream: {error}")),
        }
    }
}

#[async_trait]
impl Sink for JetStreamSink {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    #[tracing::instrument(
        skip_all,
        fields(outbox_id = message.id, event_type = %message.event_type, sink = Self::NAME)
    )]
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), SinkError> {
        // A disconnected client would queue the publish and flush it on reconnect; failing
        // now gives the row back to the relay's backoff instead of waiting out the timeout.
        let state = self.jetstream.client().connection_state();
        if state != State::Connected {
            return Err(retryable(format!("not connected to NATS ({state})")));
        }
        tokio::time::timeout(self.timeout, self.publish(message))
            .await
            .unwrap_or_else(|_| {
                Err(retryable(format!(
                    "no ack from JetStream within {:?}",
                    self.timeout
                )))
            })
    }
}

fn retryable(reason: String) -> SinkError {
    SinkError::Retryable {
        reason,
        retry_after: None,
    }
}

/// Every failure to create the stream is worth retrying: the usual causes (JetStream not
/// answering, out of resources, subjects taken by another stream) are fixed on the server,
/// after which the waiting events go through. Dead-lettering them at once would lose them.
fn stream_error(error: CreateStreamError) -> SinkError {
    retryable(format!("creating the stream: {error}"))
}

/// The JetStream error code behind a publish that JetStream itself refused.
fn jetstream_code(error: &PublishError) -> Option<ErrorCode> {
    std::error::Error::source(error)?
        .downcast_ref::<jetstream::Error>()
        .map(jetstream::Error::error_code)
}
