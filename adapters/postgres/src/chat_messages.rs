//! `ChatMessages` on PostgreSQL: one message reference per aggregate.

use application::ports::{ChatMessages, MessageRef, RepositoryError};
use async_trait::async_trait;
use uuid::Uuid;

use crate::PostgresStore;
use crate::errors::translate;

#[async_trait]
impl ChatMessages for PostgresStore {
    #[tracing::instrument(name = "postgres.chat_messages.get", skip(self), level = "debug")]
    async fn get(&self, aggregate_id: Uuid) -> Result<Option<MessageRef>, RepositoryError> {
        sqlx::query_as!(
            MessageRef,
            "SELECT channel, message_id FROM chat_messages WHERE aggregate_id = $1",
            aggregate_id
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(translate)
    }

    #[tracing::instrument(
        name = "postgres.chat_messages.put",
        skip(self, message),
        level = "debug"
    )]
    async fn put(&self, aggregate_id: Uuid, message: &MessageRef) -> Result<(), RepositoryError> {
        sqlx::query!(
            "INSERT INTO chat_messages (aggregate_id, channel, message_id)
             VALUES ($1, $2, $3)
             ON CONFLICT (aggregate_id)
             DO UPDATE SET channel = excluded.channel, message_id = excluded.message_id",
            aggregate_id,
            message.channel,
            message.message_id
        )
        .execute(&self.pool)
        .await
        .map_err(translate)?;
        Ok(())
    }
}
