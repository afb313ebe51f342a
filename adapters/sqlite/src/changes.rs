//! `ChangeFeed` on SQLite: the writers that serve requests are in this process, so the hub is
//! the whole feed.

use application::ports::{ChangeFeed, RepositoryError, Subscription};
use async_trait::async_trait;
use uuid::Uuid;

use crate::SqliteStore;

#[async_trait]
impl ChangeFeed for SqliteStore {
    async fn announce(&self, kind: &str, id: Uuid) -> Result<(), RepositoryError> {
        self.changes.announce(kind, id);
        Ok(())
    }

    fn subscribe(&self, kind: &str, id: Uuid) -> Subscription {
        self.changes.subscribe(kind, id)
    }
}
