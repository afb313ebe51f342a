//! `gate`: the one CI step that asks for an approval and waits for it.
//!
//! It creates the request with an `Idempotency-Key` derived from its flags and the CI job
//! (`gate/request.rs`), so a rerun of a killed step finds the request the first run opened
//! instead of asking again. Then it long-polls (`GET /v1/approvals/{id}?wait=60s`) until the
//! request settles: a poll costs the service no database connection while it waits, and the
//! answer comes within moments of the decision. A dropped connection, a restarting service
//! or an overloaded one is retried with exponential backoff and jitter
//! ([`Backoff`]); only failures that retrying cannot fix (a refused key, a bad request), or
//! a service unreachable for [`UNREACHABLE_LIMIT`], end it early.
//!
//! The exit code is the outcome, for the pipeline to branch on ([`Outcome`]); the request's
//! final JSON goes to stdout for the next step to read, progress to stderr.

mod client;
mod request;

use std::process::ExitCode;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;
use tokio::time::Instant;
use uuid::Uuid;

use client::{CallError, GateClient, LONGEST_WAIT};
pub use request::GateArgs;

/// The environment variable holding the API key `gate` calls with.
pub const API_KEY: &str = concat!(env!("SERVICE_ENV_PREFIX"), "_API_KEY");

/// How long the service may stay unreachable (or keep failing) before `gate` gives up:
/// long enough for a restart or a failover, short enough that a wrong URL does not hang a
/// pipeline for hours.
const UNREACHABLE_LIMIT: Duration = Duration::from_secs(5 * 60);

/// How `gate` ended, as its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Approved = 0,
    Rejected = 1,
    /// Expired or cancelled: nobody said yes.
    Withdrawn = 2,
    /// Its own `--timeout` ran out while the request was still pending.
    TimedOut = 3,
    /// A usage, authentication or connection error it could not recover from.
    Failed = 4,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        Self::from(outcome as u8)
    }
}

/// Runs `gate` with the API key from `environment` (the process's, or a test's).
pub async fn run(args: GateArgs, environment: &dyn Fn(&str) -> Option<String>) -> Outcome {
    let Some(api_key) = environment(API_KEY).filter(|key| !key.is_empty()) else {
        eprintln!("gate: set {API_KEY} to the API key to call the service with");
        return Outcome::Failed;
    };
    let client = match GateClient::new(&args.url, &SecretString::from(api_key)) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("gate: {error}");
            return Outcome::Failed;
        }
    };
    let deadline = args.timeout.map(|timeout| Instant::now() + timeout);
    let gate = Gate { client, deadline };
    let (id, mut latest) = match args.wait_for {
        Some(id) => (id, None),
        None => {
            let key = args.idempotency_key(environment);
            match gate.create(&args.create_body(), &key).await {
                Ok((id, created)) => (id, Some(created)),
                Err(outcome) => return outcome,
            }
        }
    };
    let outcome = gate.wait(id, &mut latest).await;
    if let Some(approval) = &latest {
        print_json(approval);
    }
    outcome
}

struct Gate {
    client: GateClient,
    deadline: Option<Instant>,
}

impl Gate {
    async fn create(&self, body: &Value, key: &str) -> Result<(Uuid, Value), Outcome> {
        let mut backoff = Backoff::new();
        loop {
            match self.client.create(body, key).await {
                Ok(created) => {
                    let Some(id) = approval_id(&created) else {
                        eprintln!("gate: the service answered the create without an id");
                        return Err(Outcome::Failed);
                    };
                    eprintln!("gate: waiting for a decision on approval request {id}");
                    return Ok((id, created));
                }
                Err(error) => self.retry_or_stop(&mut backoff, error).await?,
            }
        }
    }

    /// Long-polls until the request settles or the deadline passes; `latest` is the last
    /// state seen.
    async fn wait(&self, id: Uuid, latest: &mut Option<Value>) -> Outcome {
        let mut backoff = Backoff::new();
        loop {
            if let Some(settled) = latest.as_ref().and_then(settled) {
                eprintln!("gate: approval request {id} is {}", status(latest.as_ref()));
                return settled;
            }
            let Some(wait) = self.next_wait() else {
                eprintln!("gate: still pending when --timeout ran out");
                return Outcome::TimedOut;
            };
            match self.client.wait(id, wait).await {
                Ok(approval) => {
                    backoff = Backoff::new();
                    *latest = Some(approval);
                }
                Err(error) => {
                    if let Err(outcome) = self.retry_or_stop(&mut backoff, error).await {
                        return outcome;
                    }
                }
            }
        }
    }

    /// The next poll's wait: the longest the service grants, or what is left before the
    /// deadline; `None` once it has passed.
    fn next_wait(&self) -> Option<Duration> {
        let Some(deadline) = self.deadline else {
            return Some(LONGEST_WAIT);
        };
        let left = deadline.saturating_duration_since(Instant::now());
        // Whole seconds, as the service reads them; under one second is over.
        let left = Duration::from_secs(left.as_secs());
        (!left.is_zero()).then(|| left.min(LONGEST_WAIT))
    }

    /// Sleeps before the next attempt after a transient failure; `Err` when it is time to
    /// stop.
    async fn retry_or_stop(&self, backoff: &mut Backoff, error: CallError) -> Result<(), Outcome> {
        match error {
            CallError::Permanent(reason) => {
                eprintln!("gate: {reason}");
                Err(Outcome::Failed)
            }
            CallError::Transient {
                reason,
                retry_after,
            } => {
                if backoff.failing_for() > UNREACHABLE_LIMIT {
                    eprintln!("gate: {reason}; giving up after {UNREACHABLE_LIMIT:?} of failures");
                    return Err(Outcome::Failed);
                }
                let pause = retry_after.unwrap_or_else(|| backoff.next());
                if self
                    .deadline
                    .is_some_and(|deadline| Instant::now() + pause >= deadline)
                {
                    eprintln!("gate: {reason}; --timeout ran out while retrying");
                    return Err(Outcome::TimedOut);
                }
                eprintln!("gate: {reason}; retrying in {:.1}s", pause.as_secs_f64());
                tokio::time::sleep(pause).await;
                Ok(())
            }
        }
    }
}

/// Exponential backoff with "equal jitter" from 250 ms up to 10 s, so gates that lost the
/// same service do not come back in lockstep.
struct Backoff {
    attempt: u32,
    since: Instant,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(250);
    const LONGEST: Duration = Duration::from_secs(10);

    fn new() -> Self {
        Self {
            attempt: 0,
            since: Instant::now(),
        }
    }

    fn next(&mut self) -> Duration {
        let full = Self::FIRST
            .saturating_mul(2u32.saturating_pow(self.attempt))
            .min(Self::LONGEST);
        self.attempt = self.attempt.saturating_add(1);
        full / 2 + (full / 2).mul_f64(rand::random::<f64>())
    }

    /// How long the calls have been failing, since the last success.
    fn failing_for(&self) -> Duration {
        self.since.elapsed()
    }
}

fn approval_id(approval: &Value) -> Option<Uuid> {
    approval.get("id")?.as_str()?.parse().ok()
}

fn status(approval: Option<&Value>) -> &str {
    approval
        .and_then(|approval| approval.get("status")?.as_str())
        .unwrap_or("unknown")
}

/// The exit code of a settled request; `None` while it is pending.
fn settled(approval: &Value) -> Option<Outcome> {
    match status(Some(approval)) {
        "approved" => Some(Outcome::Approved),
        "rejected" => Some(Outcome::Rejected),
        "expired" | "cancelled" => Some(Outcome::Withdrawn),
        _ => None,
    }
}

#[allow(clippy::print_stdout, reason = "the final request is gate's output")]
fn print_json(approval: &Value) {
    match serde_json::to_string_pretty(approval) {
        Ok(text) => println!("{text}"),
        Err(_) => println!("{approval}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_status_has_its_exit_code() {
        let code = |status: &str| settled(&json!({ "status": status }));
        assert_eq!(code("approved"), Some(Outcome::Approved));
        assert_eq!(code("rejected"), Some(Outcome::Rejected));
        assert_eq!(code("expired"), Some(Outcome::Withdrawn));
        assert_eq!(code("cancelled"), Some(Outcome::Withdrawn));
        assert_eq!(code("pending"), None);
    }

    #[test]
    fn backoff_grows_to_its_ceiling() {
        let mut backoff = Backoff::new();
        let pauses: Vec<_> = (0..10).map(|_| backoff.next()).collect();
        assert!(pauses[0] <= Backoff::FIRST);
        assert!(pauses.iter().all(|pause| *pause <= Backoff::LONGEST));
        assert!(pauses[9] >= Backoff::LONGEST / 2);
    }
}
