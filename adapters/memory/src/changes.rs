//! `ChangeFeed` in memory: every writer is in this process, so the hub is the whole feed.

use application::ports::{ChangeFeed, RepositoryError, Subscription};
use async_trait::async_trait;
use uuid::Uuid;

use crate::MemoryStore;

#[async_trait]
impl ChangeFeed for MemoryStore {
    async fn announce(&self, kind: &str, id: Uuid) -> Result<(), RepositoryError> {
        self.changes.announce(kind, id);
        Ok(())
    }

    fn subscribe(&self, kind: &str, id: Uuid) -> Subscription {
        self.changes.subscribe(kind, id)
    }
}
