//! Timestamps are stored as INTEGER microseconds since the Unix epoch (UTC). Numbers compare
//! and index correctly without relying on a text format, and microseconds are exactly what
//! PostgreSQL keeps, so both SQL stores round-trip a time identically.

use application::ports::RepositoryError;
use chrono::{DateTime, Utc};

use crate::errors::corrupt;

/// The stored form of `time`. Every `DateTime<Utc>` fits: chrono's range in microseconds is
/// far inside `i64`.
pub(crate) fn to_micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

/// Reads a stored time back.
pub(crate) fn from_micros(micros: i64) -> Result<DateTime<Utc>, RepositoryError> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| {
        corrupt(
            "timestamp",
            format!("{micros} µs is outside the supported range"),
        )
    })
}

/// Reads an optional stored time back.
pub(crate) fn from_optional_micros(
    micros: Option<i64>,
) -> Result<Option<DateTime<Utc>>, RepositoryError> {
    micros.map(from_micros).transpose()
}
