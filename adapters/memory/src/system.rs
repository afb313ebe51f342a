//! A clock tests can move and ids tests can predict.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use application::ports::{Clock, IdGenerator};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// A clock that stands still until told to move.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(start))
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Ids that count up, time-ordered like UUID v7 so listings sort the same way, and secrets
/// that are unique but obviously fake.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdGenerator for SequentialIds {
    fn new_id(&self) -> Uuid {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        // Version 7 layout: 48-bit "timestamp" (the counter), version nibble, variant bits.
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&n.to_be_bytes()[2..]);
        bytes[6] = 0x70;
        bytes[8] = 0x80;
        Uuid::from_bytes(bytes)
    }

    fn new_secret(&self) -> String {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        format!("test-secret-{n:058}")
    }
}

/// Every chat destination can be delivered to: for tests and demos that are not about which
/// platforms are connected.
#[derive(Debug, Clone, Copy, Default)]
pub struct EveryPlatform;

impl application::ports::ChatPlatforms for EveryPlatform {
    fn check(
        &self,
        _destination: &domain::ChatDestination,
    ) -> Result<(), application::ports::PlatformNotConnected> {
        Ok(())
    }
}

/// Every callback URL may be called back: for tests and demos that are not about which
/// addresses are refused (the webhook adapter's guard is).
#[derive(Debug, Clone, Copy, Default)]
pub struct AnyCallbackUrl;

#[async_trait::async_trait]
impl application::ports::CallbackUrlGuard for AnyCallbackUrl {
    async fn check(
        &self,
        _url: &domain::CallbackUrl,
    ) -> Result<(), application::ports::CallbackUrlRefused> {
        Ok(())
    }
}
