//! Whether the NATS connection is up, for `/readyz`.

use application::ports::{Readiness, RepositoryError};
use async_nats::Client;
use async_nats::connection::State;
use async_trait::async_trait;

/// The readiness check of a [`JetStreamSink`](crate::JetStreamSink)'s connection.
///
/// It reads the client's connection state and sends nothing, so it answers at once, and a
/// probe every few seconds costs the server nothing. The client reconnects by itself; this
/// only reports whether it currently is connected.
#[derive(Debug, Clone)]
pub struct NatsReadiness {
    client: Client,
}

impl NatsReadiness {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Readiness for NatsReadiness {
    /// # Errors
    /// `Unavailable` while the client is not connected (still connecting at start-up, or
    /// reconnecting after losing the server).
    async fn check(&self) -> Result<(), RepositoryError> {
        match self.client.connection_state() {
            State::Connected => Ok(()),
            state => Err(RepositoryError::Unavailable(format!("NATS is {state}"))),
        }
    }
}
