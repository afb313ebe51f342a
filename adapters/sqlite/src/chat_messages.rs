//! `ChatMessages` on SQLite: one message reference per aggregate.

use application::ports::{ChatMessages, MessageRef, RepositoryError};
use async_trait::async_trait;
use uuid::Uuid;

use crate::SqliteStore;
use crate::errors::translate;

#[async_trait]
impl ChatMessages for SqliteStore {
    #[tracing::instrument(name = "sqlite.chat_messages.get", skip(self), level = "debug")]
    async fn get(&self, aggregate_id: Uuid) -> Result<Option<MessageRef>, RepositoryError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT channel, message_id FROM chat_messages WHERE aggregate_id = ?")
                .bind(aggregate_id)
                .fetch_optional(self.readers())
                .await
                .map_err(translate)?;
        Ok(row.map(|(channel, message_id)| MessageRef {
            channel,
            message_id,
        }))
    }

    #[tracing::instrument(
        name = "sqlite.chat_messages.put",
        skip(self, message),
        level = "debug"
    )]
    async fn put(&self, aggregate_id: Uuid, message: &MessageRef) -> Result<(), RepositoryError> {
        sqlx::query(
            "INSERT INTO chat_messages (aggregate_id, channel, message_id)
             VALUES (?, ?, ?)
             ON CONFLICT (aggregate_id)
             DO UPDATE SET channel = excluded.channel, message_id = excluded.message_id",
        )
        .bind(aggregate_id)
        .bind(&message.channel)
        .bind(&message.message_id)
        .execute(self.writer())
        .await
        .map_err(translate)?;
        Ok(())
    }
}
