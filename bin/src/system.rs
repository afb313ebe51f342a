//! The real clock and the real randomness: the two system adapters every use case needs.
//!
//! They live in the composition root rather than in an adapter crate because they are a few
//! lines each and have no technology to isolate. Tests use `adapter_memory::{ManualClock,
//! SequentialIds}` instead, which is why these are ports at all.

use application::ports::{Clock, IdGenerator};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SubsecRound, Utc};
use rand::rand_core::{Rng as _, UnwrapErr};
use rand::rngs::SysRng;
use uuid::Uuid;

/// Wall-clock time, in UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// Microsecond precision: what both SQL stores keep. A response built from a fresh
    /// aggregate then shows the same timestamps as a later read of the stored one.
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// UUID v7 ids and API-key secrets from the operating system's random number generator.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl RandomIds {
    /// 256 bits: far beyond brute force, which is why keys can be stored with a fast hash.
    const SECRET_BYTES: usize = 32;
}

impl IdGenerator for RandomIds {
    fn new_id(&self) -> Uuid {
        // Ordered within this process and time-ordered across processes, so listings by id
        // are listings by creation time.
        Uuid::now_v7()
    }

    fn new_secret(&self) -> String {
        let mut bytes = [0u8; Self::SECRET_BYTES];
        // The OS generator is used directly, not a user-space one seeded from it, so a key
        // never depends on process state. `UnwrapErr` panics if the OS cannot provide
        // randomness; there is no safe fallback for a secret, and on the platforms we run on
        // (getrandom(2)) that failure does not happen after boot.
        UnwrapErr(SysRng).fill_bytes(&mut bytes);
        // URL-safe base64 without padding: 43 characters that survive shells, headers and URLs.
        URL_SAFE_NO_PAD.encode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn secrets_are_256_bit_url_safe_and_distinct() {
        let secrets: HashSet<String> = (0..100).map(|_| RandomIds.new_secret()).collect();
        assert_eq!(secrets.len(), 100);
        for secret in &secrets {
            assert_eq!(URL_SAFE_NO_PAD.decode(secret).unwrap().len(), 32);
            assert!(
                secret
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{secret} is not URL-safe"
            );
        }
    }

    #[test]
    fn ids_are_version_7_and_ordered_by_creation() {
        let ids: Vec<Uuid> = (0..1000).map(|_| RandomIds.new_id()).collect();
        assert!(ids.iter().all(|id| id.get_version_num() == 7));
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn clock_reads_the_current_time_in_microseconds() {
        let before = Utc::now().trunc_subsecs(6);
        let now = SystemClock.now();
        assert!(before <= now && now <= Utc::now());
        assert_eq!(now.timestamp_subsec_nanos() % 1000, 0);
    }
}
