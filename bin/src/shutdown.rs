//! Graceful shutdown: one signal, every task listening to it, a bounded drain.
//!
//! The whole process shares one [`CancellationToken`]. SIGINT or SIGTERM cancels it; the
//! HTTP server then stops accepting connections and finishes the requests in flight, the
//! relay finishes the batch it is delivering, and the sweeper stops between sweeps.
//! [`supervise`] waits for all of them, but only for the configured grace period: a drain
//! that never ends is a hang, and the orchestrator would kill the process anyway, without
//! telling anyone why. Work abandoned at that point is safe: unfinished outbox messages keep
//! their lease and are delivered by the next relay once it runs out.

use std::io;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Why serving ended other than by a clean, complete shutdown.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the HTTP server failed")]
    Http(#[source] io::Error),
    #[error("a background task stopped before shutdown was requested")]
    StoppedEarly,
    #[error("a background task panicked")]
    Panicked(#[source] tokio::task::JoinError),
    #[error("shutdown did not finish within {grace:?}; unfinished work was abandoned")]
    DrainTimedOut { grace: Duration },
}

/// Cancels `shutdown` on the first SIGINT (Ctrl-C) or SIGTERM.
///
/// A second signal exits at once, for the operator who does not want to wait for the drain.
/// The handlers are installed before this returns, so a signal that arrives during start-up
/// is not lost.
///
/// # Errors
/// When the signal handlers cannot be installed.
pub fn cancel_on_signal(shutdown: CancellationToken) -> io::Result<()> {
    let mut signals = Signals::install()?;
    tokio::spawn(async move {
        let name = signals.next().await;
        tracing::info!(
            signal = name,
            "shutting down: draining requests and the relay (signal again to exit at once)"
        );
        shutdown.cancel();
        let name = signals.next().await;
        tracing::warn!(signal = name, "second signal: exiting without draining");
        std::process::exit(1);
    });
    Ok(())
}

/// Waits until `shutdown` is cancelled or a task ends by itself, then cancels `shutdown` (so
/// every task stops) and waits up to `grace` for all of them.
///
/// Every task runs until shutdown, so one that ends earlier has failed: the others are
/// stopped too rather than leaving a half-working process behind.
///
/// # Errors
/// The first failure seen: a task's own error, a panic, an early stop, or a drain that
/// exceeded `grace` (the remaining tasks are then aborted).
pub async fn supervise(
    mut tasks: JoinSet<Result<(), RunError>>,
    shutdown: CancellationToken,
    grace: Duration,
) -> Result<(), RunError> {
    let mut outcome = tokio::select! {
        // Checked first: a task that ended *because* of shutdown has not failed.
        biased;
        () = shutdown.cancelled() => Ok(()),
        Some(ended) = tasks.join_next() => Err(flatten(ended).err().unwrap_or(RunError::StoppedEarly)),
    };
    shutdown.cancel();

    let drain = async {
        let mut first_error = None;
        while let Some(ended) = tasks.join_next().await {
            if let Err(error) = flatten(ended) {
                first_error.get_or_insert(error);
            }
        }
        first_error
    };
    match tokio::time::timeout(grace, drain).await {
        Ok(Some(error)) if outcome.is_ok() => outcome = Err(error),
        Ok(_) => {}
        Err(_elapsed) => {
            tracing::error!(
                ?grace,
                "shutdown grace period exceeded; aborting the remaining tasks"
            );
            tasks.abort_all();
            outcome = outcome.and(Err(RunError::DrainTimedOut { grace }));
        }
    }
    outcome
}

fn flatten(ended: Result<Result<(), RunError>, tokio::task::JoinError>) -> Result<(), RunError> {
    ended.map_err(RunError::Panicked)?
}

/// The termination signals, registered up front.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    fn install() -> io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(not(unix))]
    fn install() -> io::Result<Self> {
        Ok(Self {})
    }

    /// The name of the next signal received.
    #[cfg(unix)]
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }

    /// Ctrl-C is the only termination signal outside Unix. If it cannot be awaited, never
    /// resolving is the honest answer: no signal was received.
    #[cfg(not(unix))]
    async fn next(&mut self) -> &'static str {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "Ctrl-C",
            Err(_) => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn tasks_that_stop_on_shutdown_end_cleanly() {
        let shutdown = CancellationToken::new();
        let mut tasks = JoinSet::new();
        for _ in 0..3 {
            let token = shutdown.clone();
            tasks.spawn(async move {
                token.cancelled().await;
                Ok(())
            });
        }
        shutdown.cancel();
        assert!(supervise(tasks, shutdown, GRACE).await.is_ok());
    }

    #[tokio::test]
    async fn a_task_that_fails_stops_the_others_and_is_reported() {
        let shutdown = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let token = shutdown.clone();
        tasks.spawn(async move {
            token.cancelled().await;
            Ok(())
        });
        tasks.spawn(async { Err(RunError::Http(io::Error::other("port closed"))) });
        let outcome = supervise(tasks, shutdown.clone(), GRACE).await;
        assert!(matches!(outcome, Err(RunError::Http(_))));
        assert!(shutdown.is_cancelled());
    }

    #[tokio::test]
    async fn a_task_that_ends_early_without_error_is_still_a_failure() {
        let mut tasks = JoinSet::new();
        tasks.spawn(async { Ok(()) });
        let outcome = supervise(tasks, CancellationToken::new(), GRACE).await;
        assert!(matches!(outcome, Err(RunError::StoppedEarly)));
    }

    #[tokio::test]
    async fn a_panicking_task_is_reported() {
        let mut tasks = JoinSet::new();
        tasks.spawn(async { panic!("boom") });
        let outcome = supervise(tasks, CancellationToken::new(), GRACE).await;
        assert!(matches!(outcome, Err(RunError::Panicked(_))));
    }

    #[tokio::test(start_paused = true)]
    async fn the_drain_is_bounded_by_the_grace_period() {
        let shutdown = CancellationToken::new();
        let mut tasks = JoinSet::new();
        tasks.spawn(async {
            // Ignores shutdown, like a request stuck on a slow dependency.
            std::future::pending::<()>().await;
            Ok(())
        });
        shutdown.cancel();
        let started = tokio::time::Instant::now();
        let outcome = supervise(tasks, shutdown, GRACE).await;
        assert!(matches!(outcome, Err(RunError::DrainTimedOut { grace }) if grace == GRACE));
        assert_eq!(started.elapsed(), GRACE);
    }
}
