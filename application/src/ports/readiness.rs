//! Whether the store can serve traffic, for `/readyz`.

use async_trait::async_trait;

use super::RepositoryError;

/// Answers "can this instance serve requests right now?" for load balancers.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Readiness: Send + Sync {
    /// `Ok` when the store answers and its schema migrations are all applied.
    ///
    /// # Errors
    /// `Unavailable` naming what is missing (unreachable, migrations pending). Must return
    /// within the store's acquire timeout, never hang.
    async fn check(&self) -> Result<(), RepositoryError>;
}
