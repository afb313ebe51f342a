//! Raise an alert — or, when its dedup key is already open, count a repeat.

use std::sync::Arc;

use domain::{
    Alert, AlertError, AlertId, ChatDestination, DedupKey, Description, Identity, NewAlert,
    Severity, Title, ValidationError, Violation,
};

use super::answer::{Answer, receipt};
use super::retry::{Attempt, retry_lost_races};
use crate::ports::{
    AlertRepository, ChatPlatforms, Clock, IdGenerator, PlatformNotConnected, RepositoryError,
};

/// How often a raise reloads after losing a race. Higher than for decisions: alert storms
/// raise one key many times at once, and every lost race is another raise's success, so a
/// burst of N raises needs up to N attempts each. The contract suite's race test measured at
/// most 16 attempts for a burst of 16; 64 bounds a pathological storm, after which the caller
/// gets a 409 and retries later.
const MAX_RAISE_ATTEMPTS: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RaiseAlertInput {
    pub severity: String,
    pub summary: String,
    pub details: Option<String>,
    pub destination: String,
    pub dedup_key: String,
}

/// Whether the call opened an alert or counted a repeat of an open one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raised {
    Opened,
    Repeated { count: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RaiseAlertError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The destination is on a chat platform this service is not connected to.
    #[error(transparent)]
    PlatformNotConnected(#[from] PlatformNotConnected),
    #[error("the alert kept changing concurrently; try again")]
    Conflict,
    #[error(transparent)]
    Store(RepositoryError),
}

#[derive(Clone)]
pub struct RaiseAlert {
    alerts: Arc<dyn AlertRepository>,
    platforms: Arc<dyn ChatPlatforms>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl RaiseAlert {
    pub fn new(
        alerts: Arc<dyn AlertRepository>,
        platforms: Arc<dyn ChatPlatforms>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
    ) -> Self {
        Self {
            alerts,
            platforms,
            clock,
            ids,
        }
    }

    /// Opens an alert, or counts a repeat when an unresolved alert has the same dedup key.
    ///
    /// Races are settled by the store: two processes opening the same key at once both try
    /// to insert, the unique index lets one win, and the loser (`Duplicate`) retries and
    /// finds the winner's alert to count its repeat on.
    ///
    /// Every attempt saves the `answer` of an idempotent request with its change, rendered
    /// from what that attempt did (opened, or counted the n-th repeat).
    ///
    /// # Errors
    /// `Invalid` for a bad field, `PlatformNotConnected` for a destination on a platform
    /// without credentials, `Conflict` after repeated lost races, `Store`.
    #[tracing::instrument(skip_all, fields(dedup_key = %input.dedup_key, raised_by = %raised_by))]
    pub async fn execute(
        &self,
        raised_by: Identity,
        input: RaiseAlertInput,
        answer: Option<Answer<'_, (Alert, Raised)>>,
    ) -> Result<(Alert, Raised), RaiseAlertError> {
        let new = parse(raised_by, &input)?;
        self.platforms.check(&new.destination)?;
        // Borrowed once, so that every attempt's future can copy them in.
        let (new, answer) = (&new, answer.as_ref());
        let attempt = || async move {
            let now = self.clock.now();
            let existing = self
                .alerts
                .find_unresolved(&new.dedup_key)
                .await
                .map_err(RaiseAlertError::Store)?;
            let (mut alert, raised) = match existing {
                Some(mut alert) => match alert.repeat(new.clone(), now) {
                    Ok(count) => (alert, Raised::Repeated { count }),
                    // Resolved between the lookup and now: open a fresh alert next round.
                    Err(AlertError::AlreadyResolved) => return Ok(Attempt::Lost),
                },
                None => (
                    Alert::raise(AlertId::from_uuid(self.ids.new_id()), new.clone(), now),
                    Raised::Opened,
                ),
            };
            let events = alert.take_events();
            let result = (alert, raised);
            match self
                .alerts
                .save(&result.0, &events, receipt(answer, &result))
                .await
            {
                Ok(()) => Ok(Attempt::Done(result)),
                // A concurrent insert of the same dedup key is a lost race too.
                Err(RepositoryError::Conflict | RepositoryError::Duplicate) => Ok(Attempt::Lost),
                Err(e) => Err(RaiseAlertError::Store(e)),
            }
        };
        retry_lost_races(MAX_RAISE_ATTEMPTS, RaiseAlertError::Conflict, attempt).await
    }
}

fn parse(raised_by: Identity, input: &RaiseAlertInput) -> Result<NewAlert, ValidationError> {
    Ok(NewAlert {
        severity: input
            .severity
            .parse::<Severity>()
            .map_err(|_| ValidationError {
                field: "severity",
                violation: Violation::Format("must be info, warning or critical"),
            })?,
        summary: Title::parse(&input.summary).map_err(|e| ValidationError {
            field: "summary",
            ..e
        })?,
        details: Description::parse(input.details.as_deref().unwrap_or_default()).map_err(|e| {
            ValidationError {
                field: "details",
                ..e
            }
        })?,
        destination: ChatDestination::parse(&input.destination)?,
        dedup_key: DedupKey::parse(&input.dedup_key)?,
        raised_by,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::ports::{
        MockAlertRepository, MockChatPlatforms, MockClock, MockIdGenerator, StoredResponse,
    };
    use crate::use_cases::answer::{self, tests::answered};

    fn input() -> RaiseAlertInput {
        RaiseAlertInput {
            severity: "critical".into(),
            summary: "db-1 disk 97%".into(),
            details: None,
            destination: "C1".into(),
            dedup_key: "disk:db-1".into(),
        }
    }

    fn use_case(alerts: MockAlertRepository) -> RaiseAlert {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        let mut ids = MockIdGenerator::new();
        ids.expect_new_id().return_const(uuid::Uuid::nil());
        let mut platforms = MockChatPlatforms::new();
        platforms.expect_check().returning(|_| Ok(()));
        RaiseAlert::new(
            Arc::new(alerts),
            Arc::new(platforms),
            Arc::new(clock),
            Arc::new(ids),
        )
    }

    #[tokio::test]
    async fn losing_the_race_to_open_counts_a_repeat_on_the_winner() {
        let mut alerts = MockAlertRepository::new();
        let mut seq = mockall::Sequence::new();
        alerts
            .expect_find_unresolved()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| Ok(None));
        alerts
            .expect_save()
            .withf(|_, _, receipt| answered(receipt) == "opened")
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Err(RepositoryError::Duplicate));
        alerts
            .expect_find_unresolved()
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_| {
                let new = parse(Identity::parse("other").unwrap(), &input()).unwrap();
                let mut winner = Alert::raise(
                    AlertId::from_uuid(uuid::Uuid::max()),
                    new,
                    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
                );
                winner.take_events();
                Ok(Some(winner))
            });
        // The answer saved with the repeat says what this attempt did, not the first one.
        alerts
            .expect_save()
            .withf(|alert, events, receipt| {
                alert.id() == AlertId::from_uuid(uuid::Uuid::max())
                    && events.len() == 1
                    && events[0].event_type() == "alert.repeated"
                    && answered(receipt) == "repeated 2"
            })
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _| Ok(()));
        let claim = answer::tests::claim();
        let respond = |(_, raised): &(Alert, Raised)| StoredResponse {
            status: 200,
            headers: vec![],
            body: match raised {
                Raised::Opened => "opened".to_owned(),
                Raised::Repeated { count } => format!("repeated {count}"),
            }
            .into_bytes(),
        };

        let (_, raised) = use_case(alerts)
            .execute(
                Identity::parse("monitor").unwrap(),
                input(),
                Some(Answer::new(&claim, &respond)),
            )
            .await
            .unwrap();

        assert_eq!(raised, Raised::Repeated { count: 2 });
    }

    #[tokio::test]
    async fn an_unknown_severity_is_invalid() {
        let mut alerts = MockAlertRepository::new();
        alerts.expect_save().never();
        let err = use_case(alerts)
            .execute(
                Identity::parse("monitor").unwrap(),
                RaiseAlertInput {
                    severity: "meh".into(),
                    ..input()
                },
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            RaiseAlertError::Invalid(ValidationError {
                field: "severity",
                ..
            })
        ));
    }
}
