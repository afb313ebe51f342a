//! Sinks for tests that drive the relay: they record what reaches them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use application::ports::{OutboxMessage, Sink, SinkError};
use async_trait::async_trait;
use uuid::Uuid;

/// A sink that records what it was given, and fails every call while `down` is set.
pub struct RecordingSink {
    name: &'static str,
    /// While set, every call fails as retryable.
    pub down: AtomicBool,
    received: Mutex<Vec<(Uuid, String)>>,
}

impl RecordingSink {
    pub fn new(name: &'static str, down: bool) -> Arc<Self> {
        Arc::new(Self {
            name,
            down: AtomicBool::new(down),
            received: Mutex::default(),
        })
    }

    /// (aggregate id, event type) of every delivered message, in delivery order.
    pub fn received(&self) -> Vec<(Uuid, String)> {
        self.received.lock().unwrap().clone()
    }
}

#[async_trait]
impl Sink for RecordingSink {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn deliver(&self, message: &OutboxMessage) -> Result<(), SinkError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(SinkError::Retryable {
                reason: "HTTP 503".into(),
                retry_after: None,
            });
        }
        self.received
            .lock()
            .unwrap()
            .push((message.aggregate_id, message.event_type.clone()));
        Ok(())
    }
}
