//! The retry after a lost optimistic-concurrency race, written once for every use case that
//! loads an aggregate, decides against it and saves it.
//!
//! The stores save with optimistic concurrency: a save against a version that has moved on
//! since the load fails (`RepositoryError::Conflict`) instead of overwriting the other change.
//! Two people clicking at once is normal, so losing that race is no error: the loser reloads
//! and decides again against the winner's state, which then takes its change too or refuses
//! it. Only a use case that keeps losing reports a conflict, as its own error.
//!
//! Only the loop belongs here. Which store errors count as a lost race, the bound, and the
//! error after it are each use case's to say.

use std::future::Future;

/// How often a use case reloads and retries after losing an optimistic-concurrency race
/// before it reports the conflict. Two people clicking at once is normal; five in a row
/// losing to someone else is not.
pub(super) const MAX_CONFLICT_RETRIES: usize = 5;

/// How one load–decide–save attempt ended, when it did not fail.
pub(super) enum Attempt<T> {
    /// Saved, or there was nothing to save: the use case's result.
    Done(T),
    /// Lost the race to a concurrent change: reload and try again.
    Lost,
}

/// Runs `attempt` until it is done or fails, at most `bound` times in all; after `bound`
/// lost races it gives up with `conflict`.
///
/// An attempt returns `Err` for a failure, so that `?` reads as it does in the use case, and
/// a failure ends the retry at once: only a lost race is worth another try.
pub(super) async fn retry_lost_races<T, E, F, Fut>(
    bound: usize,
    conflict: E,
    mut attempt: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Attempt<T>, E>>,
{
    for round in 1..=bound {
        match attempt().await? {
            Attempt::Done(result) => return Ok(result),
            Attempt::Lost => tracing::debug!(round, bound, "lost a concurrent update"),
        }
    }
    Err(conflict)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[derive(Debug, PartialEq, Eq)]
    enum Error {
        Conflict,
        Store,
    }

    /// Retries the attempts of `script` in order; returns the result and how many ran.
    async fn run(
        bound: usize,
        script: Vec<Result<Attempt<&'static str>, Error>>,
    ) -> (Result<&'static str, Error>, usize) {
        let runs = Cell::new(0);
        let mut script = script.into_iter();
        let result = retry_lost_races(bound, Error::Conflict, || {
            runs.set(runs.get() + 1);
            let next = script.next().expect("more attempts than scripted");
            async move { next }
        })
        .await;
        (result, runs.get())
    }

    #[tokio::test]
    async fn done_at_the_first_attempt_runs_once() {
        let (result, runs) = run(5, vec![Ok(Attempt::Done("saved"))]).await;
        assert_eq!(result, Ok("saved"));
        assert_eq!(runs, 1);
    }

    #[tokio::test]
    async fn a_lost_race_is_tried_again_until_done() {
        let script = vec![
            Ok(Attempt::Lost),
            Ok(Attempt::Lost),
            Ok(Attempt::Done("saved")),
        ];
        let (result, runs) = run(5, script).await;
        assert_eq!(result, Ok("saved"));
        assert_eq!(runs, 3);
    }

    #[tokio::test]
    async fn gives_up_with_the_callers_conflict_after_bound_lost_races() {
        let script = (0..3).map(|_| Ok(Attempt::Lost)).collect();
        let (result, runs) = run(3, script).await;
        assert_eq!(result, Err(Error::Conflict));
        assert_eq!(runs, 3);
    }

    #[tokio::test]
    async fn a_failure_ends_it_at_once() {
        let script = vec![
            Ok(Attempt::Lost),
            Err(Error::Store),
            Ok(Attempt::Done("saved")),
        ];
        let (result, runs) = run(5, script).await;
        assert_eq!(result, Err(Error::Store));
        assert_eq!(runs, 2);
    }
}
