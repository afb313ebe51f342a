//! Which chat platforms this service is connected to, asked before a destination is stored.

use domain::ChatDestination;

/// A destination names a chat platform this service has no connection to (no credentials
/// configured): storing it would only fail later, in the relay, where nobody sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("destination {destination:?} is on {platform}, which this service is not connected to")]
pub struct PlatformNotConnected {
    /// The platform the destination names, e.g. `discord`.
    pub platform: String,
    pub destination: String,
}

/// Says whether a destination can be delivered to. Answers from configuration only, so it is
/// not async and cannot fail otherwise.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait ChatPlatforms: Send + Sync {
    /// # Errors
    /// [`PlatformNotConnected`] when the destination's platform is not configured.
    fn check(&self, destination: &ChatDestination) -> Result<(), PlatformNotConnected>;
}
