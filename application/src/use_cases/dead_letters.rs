//! What an operator does with the messages the relay gave up on: list them, and put them
//! back in line once the cause is fixed (`<binary> outbox dead-letters`, `… retry`).

use std::sync::Arc;

use crate::ports::{Clock, DeadLetter, DeadLetterSelection, Outbox, RepositoryError};

/// Lists and re-drives dead letters.
#[derive(Clone)]
pub struct DeadLetters {
    outbox: Arc<dyn Outbox>,
    clock: Arc<dyn Clock>,
}

impl DeadLetters {
    pub fn new(outbox: Arc<dyn Outbox>, clock: Arc<dyn Clock>) -> Self {
        Self { outbox, clock }
    }

    /// The newest `limit` dead letters, of one sink or of all.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached.
    pub async fn list(
        &self,
        sink: Option<String>,
        limit: u32,
    ) -> Result<Vec<DeadLetter>, RepositoryError> {
        self.outbox.dead_letters(sink, limit).await
    }

    /// Puts the selected dead letters back in line, due now, with a fresh retry budget.
    /// Returns how many were re-driven. Each is delivered after any older pending message of
    /// its aggregate and sink; a chat message always shows the current state, so a re-driven
    /// update never rolls a message back.
    ///
    /// # Errors
    /// `Unavailable` when the store cannot be reached; nothing was changed.
    pub async fn retry(&self, selection: DeadLetterSelection) -> Result<u64, RepositoryError> {
        let retried = self
            .outbox
            .retry_dead_letters(selection.clone(), self.clock.now())
            .await?;
        tracing::info!(?selection, retried, "dead letters re-driven");
        Ok(retried)
    }
}
