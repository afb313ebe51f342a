//! What `gate` asks for: the flags, the create body they make, and the idempotency key
//! derived from them.

use std::time::Duration;

use clap::Args;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// `gate`'s flags. The API key comes from the environment, never from a flag, so it does not
/// show in process listings or CI logs.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct GateArgs {
    /// The service's base URL, e.g. `https://gate.example.com`.
    #[arg(long)]
    pub url: String,
    /// What is to be approved (creates a request; not with --wait-for).
    #[arg(
        long,
        required_unless_present = "wait_for",
        conflicts_with = "wait_for"
    )]
    pub title: Option<String>,
    /// The chat destination, e.g. a Slack channel id or `discord:<channel id>`.
    #[arg(
        long,
        required_unless_present = "wait_for",
        conflicts_with = "wait_for"
    )]
    pub destination: Option<String>,
    /// Longer text shown with the request.
    #[arg(long, conflicts_with = "wait_for")]
    pub description: Option<String>,
    /// How many distinct approvals settle it (1–10; default 1).
    #[arg(long, conflicts_with = "wait_for")]
    pub required_approvals: Option<i64>,
    /// Who may decide (repeat the flag); anyone but the requester when omitted.
    #[arg(long = "approver", conflicts_with = "wait_for")]
    pub approvers: Vec<String>,
    /// How long the request stays open, e.g. `2h` (default 24h, at most 30 days).
    #[arg(long, value_parser = crate::config::duration, conflicts_with = "wait_for")]
    pub expires_in: Option<Duration>,
    /// `key=value` metadata shown with the request (repeat the flag).
    #[arg(long = "metadata", value_parser = metadata_pair, conflicts_with = "wait_for")]
    pub metadata: Vec<(String, String)>,
    /// Give up with exit code 3 when still pending after this long, e.g. `30m`; without
    /// it, wait until the request settles (it expires at the latest).
    #[arg(long, value_parser = crate::config::duration)]
    pub timeout: Option<Duration>,
    /// The Idempotency-Key of the create, instead of the one derived from the flags and
    /// the CI job.
    #[arg(long, conflicts_with = "wait_for")]
    pub idempotency_key: Option<String>,
    /// Wait on this existing request instead of creating one.
    #[arg(long)]
    pub wait_for: Option<Uuid>,
}

impl GateArgs {
    /// The `POST /v1/approvals` body.
    pub(crate) fn create_body(&self) -> Value {
        let mut body = Map::new();
        let mut put = |name: &str, value: Value| {
            body.insert(name.to_owned(), value);
        };
        put("title", json!(self.title));
        put("destination", json!(self.destination));
        if let Some(description) = &self.description {
            put("description", json!(description));
        }
        if let Some(required) = self.required_approvals {
            put("required_approvals", json!(required));
        }
        if !self.approvers.is_empty() {
            put("allowed_approvers", json!(self.approvers));
        }
        if let Some(expires_in) = self.expires_in {
            put("expires_in_seconds", json!(expires_in.as_secs()));
        }
        if !self.metadata.is_empty() {
            let metadata: Map<String, Value> = self
                .metadata
                .iter()
                .map(|(key, value)| (key.clone(), json!(value)))
                .collect();
            put("metadata", Value::Object(metadata));
        }
        Value::Object(body)
    }

    /// `--idempotency-key`, or one derived from the request and the CI job running it.
    pub(crate) fn idempotency_key(&self, environment: &dyn Fn(&str) -> Option<String>) -> String {
        self.idempotency_key
            .clone()
            .unwrap_or_else(|| derived_key(&self.create_body(), &ci_job(environment)))
    }
}

/// The variables that name one run of one CI job, on the CI systems that set them. A rerun
/// of the same job (after the step was killed, or a runner was lost) has the same values,
/// so it finds the request the first run created; a new pipeline run has new ones, so it
/// asks again. `GITHUB_RUN_ATTEMPT` is left out on purpose: "re-run failed jobs" must wait on
/// the request it already opened.
const CI_JOB_VARIABLES: &[&str] = &[
    "GITHUB_REPOSITORY",
    "GITHUB_RUN_ID",
    "GITHUB_JOB",
    "CI_PROJECT_ID",
    "CI_PIPELINE_ID",
    "CI_JOB_NAME",
    "BUILDKITE_JOB_ID",
    "CIRCLE_WORKFLOW_JOB_ID",
    "BUILD_TAG",
];

/// `NAME=value` for every CI job variable that is set.
fn ci_job(environment: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    CI_JOB_VARIABLES
        .iter()
        .filter_map(|name| environment(name).map(|value| format!("{name}={value}")))
        .collect()
}

/// `gate-` and the first 32 hex digits of a SHA-256 over the body and the job: the same
/// step of the same job asks with the same key, anything else with another.
fn derived_key(body: &Value, job: &[String]) -> String {
    let mut hash = Sha256::new();
    hash.update(body.to_string());
    for part in job {
        hash.update([0]);
        hash.update(part);
    }
    let digest = hash.finalize();
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("gate-{hex}")
}

fn metadata_pair(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err("expected key=value".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        gate: GateArgs,
    }

    fn parse(args: &[&str]) -> Result<GateArgs, clap::Error> {
        let mut all = vec!["gate", "--url", "http://localhost:8080"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).map(|cli| cli.gate)
    }

    fn no_environment(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn the_flags_become_the_create_body() {
        let args = parse(&[
            "--title",
            "Deploy v7",
            "--destination",
            "C1",
            "--required-approvals",
            "2",
            "--approver",
            "alice",
            "--approver",
            "bob",
            "--expires-in",
            "2h",
            "--metadata",
            "commit=abc",
        ])
        .unwrap();
        assert_eq!(
            args.create_body(),
            json!({
                "title": "Deploy v7",
                "destination": "C1",
                "required_approvals": 2,
                "allowed_approvers": ["alice", "bob"],
                "expires_in_seconds": 7200,
                "metadata": {"commit": "abc"},
            })
        );
    }

    #[test]
    fn creating_needs_a_title_and_a_destination_and_waiting_needs_neither() {
        assert!(parse(&["--title", "t"]).is_err());
        assert!(parse(&["--destination", "C1"]).is_err());
        assert!(parse(&["--wait-for", "0190a4c2-0000-7000-8000-000000000000"]).is_ok());
        assert!(
            parse(&[
                "--wait-for",
                "0190a4c2-0000-7000-8000-000000000000",
                "--title",
                "t"
            ])
            .is_err()
        );
    }

    #[test]
    fn metadata_must_be_key_value_pairs() {
        assert!(
            parse(&[
                "--title",
                "t",
                "--destination",
                "C",
                "--metadata",
                "novalue"
            ])
            .is_err()
        );
    }

    #[test]
    fn the_same_job_derives_the_same_key_and_another_job_another() {
        let args = parse(&["--title", "t", "--destination", "C1"]).unwrap();
        let job =
            |run: &'static str| move |name: &str| (name == "GITHUB_RUN_ID").then(|| run.to_owned());
        assert_eq!(
            args.idempotency_key(&job("1")),
            args.idempotency_key(&job("1"))
        );
        assert_ne!(
            args.idempotency_key(&job("1")),
            args.idempotency_key(&job("2"))
        );
        assert_ne!(
            args.idempotency_key(&no_environment),
            parse(&["--title", "other", "--destination", "C1"])
                .unwrap()
                .idempotency_key(&no_environment)
        );
    }

    #[test]
    fn an_explicit_key_wins() {
        let args = parse(&[
            "--title",
            "t",
            "--destination",
            "C1",
            "--idempotency-key",
            "k1",
        ])
        .unwrap();
        assert_eq!(args.idempotency_key(&no_environment), "k1");
    }
}
