//! The outbox as the relay reads it: the row of a leased or dead message, and the small
//! rules every SQL store applies around its outbox statements (how far a lease reaches, which
//! dead letters a selection names, the counts of a sink). The rows a save writes are
//! [`Save`](crate::Save)'s.

use application::ports::{
    DeadLetter, DeadLetterSelection, OutboxMessage, RepositoryError, SinkStats,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::errors::corrupt;

/// The columns of an outbox row the relay sees. These are the types PostgreSQL's columns
/// decode to, so its claim fills this row directly; SQLite converts its times and its JSON
/// text.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub sink: String,
    pub aggregate_type: String,
    pub aggregate_id: Uuid,
    pub event_type: String,
    pub payload: Value,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    /// Set only when an operator re-drove the row; until then it has been tried since it was
    /// created.
    pub trying_since: Option<DateTime<Utc>>,
}

impl OutboxRow {
    /// The message the relay delivers.
    pub fn into_message(self) -> OutboxMessage {
        OutboxMessage {
            id: self.id,
            sink: self.sink,
            aggregate_type: self.aggregate_type,
            aggregate_id: self.aggregate_id,
            event_type: self.event_type,
            payload: self.payload,
            attempts: self.attempts,
            created_at: self.created_at,
            trying_since: self.trying_since.unwrap_or(self.created_at),
        }
    }

    /// The dead letter this row is, given its last error and when it was given up on.
    pub fn into_dead_letter(self, error: String, failed_at: DateTime<Utc>) -> DeadLetter {
        DeadLetter {
            message: self.into_message(),
            error,
            failed_at,
        }
    }
}

/// The end of a lease taken at `now`. An absurdly long lease saturates instead of
/// overflowing: it means "until released".
pub fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    now.checked_add_signed(lease)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The two optional filters a re-drive of dead letters binds: the ids, and the sink. `None`
/// filters nothing, so [`DeadLetterSelection::All`] is both `None`.
pub fn dead_letter_filter(selection: DeadLetterSelection) -> (Option<Vec<i64>>, Option<String>) {
    match selection {
        DeadLetterSelection::Ids(ids) => (Some(ids), None),
        DeadLetterSelection::Sink(sink) => (None, Some(sink)),
        DeadLetterSelection::All => (None, None),
    }
}

/// One sink's counts, from the two `count(*)` sums a store reads.
///
/// # Errors
/// `Corrupt` when a count is negative, which no `count(*)` is.
pub fn sink_stats(sink: String, pending: i64, dead: i64) -> Result<SinkStats, RepositoryError> {
    let count = |n: i64| u64::try_from(n).map_err(|e| corrupt("outbox count", e));
    Ok(SinkStats {
        sink,
        pending: count(pending)?,
        dead: count(dead)?,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn row(trying_since: Option<DateTime<Utc>>) -> OutboxRow {
        OutboxRow {
            id: 7,
            sink: "chat".into(),
            aggregate_type: "approval".into(),
            aggregate_id: Uuid::from_u128(1),
            event_type: "approval.created".into(),
            payload: json!({"title": "Deploy"}),
            attempts: 2,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            trying_since,
        }
    }

    #[test]
    fn a_row_without_a_start_of_trying_has_been_tried_since_it_was_created() {
        assert_eq!(
            row(None).into_message().trying_since,
            DateTime::<Utc>::UNIX_EPOCH
        );
        let later = DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(5);
        assert_eq!(row(Some(later)).into_message().trying_since, later);
    }

    #[test]
    fn a_lease_beyond_the_calendar_lasts_until_released() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(lease_end(now, Duration::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(
            lease_end(now, Duration::seconds(30)),
            now + Duration::seconds(30)
        );
    }

    #[test]
    fn a_selection_filters_by_ids_or_sink_or_nothing() {
        assert_eq!(
            dead_letter_filter(DeadLetterSelection::Ids(vec![1, 2])),
            (Some(vec![1, 2]), None)
        );
        assert_eq!(
            dead_letter_filter(DeadLetterSelection::Sink("chat".into())),
            (None, Some("chat".into()))
        );
        assert_eq!(dead_letter_filter(DeadLetterSelection::All), (None, None));
    }

    #[test]
    fn a_negative_count_is_corrupt() {
        assert!(matches!(
            sink_stats("chat".into(), -1, 0),
            Err(RepositoryError::Corrupt(_))
        ));
    }
}
