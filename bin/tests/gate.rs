//! `gate` as a pipeline runs it: a process against a `serve` process, its exit code the
//! outcome, the request's JSON on stdout.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a panic in a test is a failed test with its message"
)]

mod support;

use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::Value;

use support::binary;
use support::process::{Api, Service, free_port, store_env};

/// A service on a SQLite file of its own, with the requester `ci` and the approver `alice`.
struct World {
    service: Option<Service>,
    port: u16,
    env: Vec<(String, String)>,
    ci: Api,
    alice: Api,
    ci_key: String,
    _dir: tempfile::TempDir,
}

impl World {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let env = store_env(&dir.path().join("service.db").display().to_string());
        let port = free_port();
        let service = Service::start(&env, port).await;
        let (ci_key, alice_key) = (service.api_key("ci"), service.api_key("alice"));
        Self {
            ci: Api::new(&service.url, &ci_key),
            alice: Api::new(&service.url, &alice_key),
            service: Some(service),
            port,
            env,
            ci_key,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts `gate` with `args` after `--url`, calling with `key`, as one step of one CI
    /// job (the same job for every run in a test, so reruns derive the same key).
    fn gate(&self, args: &[&str], key: &str) -> Child {
        let url = self.url();
        let mut all = vec!["gate", "--url", &url];
        all.extend_from_slice(args);
        let env = [
            (concat!(env!("SERVICE_ENV_PREFIX"), "_API_KEY"), key),
            ("GITHUB_RUN_ID", "4711"),
            ("GITHUB_JOB", "deploy"),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()));
        binary(&all, &env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn ask(&self, title: &str) -> Child {
        self.gate(
            &["--title", title, "--destination", "C0DEPLOYS"],
            &self.ci_key,
        )
    }

    /// The id of the one request on the service, once `gate` has created it.
    async fn created(&self) -> String {
        for _ in 0..600 {
            if let Some(first) = self.ci.approvals().await.first() {
                return first["id"].as_str().unwrap().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("gate never created its request");
    }

    async fn restart(&mut self) {
        if let Some(service) = self.service.take() {
            service.kill();
        }
        // Down for a moment, as in a deploy: gate's polls fail meanwhile.
        tokio::time::sleep(Duration::from_secs(1)).await;
        self.service = Some(Service::start(&self.env, self.port).await);
    }
}

/// Waits for `gate` to end: its exit code and what it printed on stdout.
async fn finished(child: Child) -> (i32, Value) {
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let printed = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    let code = output.status.code().unwrap_or_else(|| {
        panic!(
            "gate was killed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (code, printed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_exits_0_and_prints_the_request_with_its_decisions() {
    let world = World::start().await;
    let gate = world.ask("Deploy v7?");
    let id = world.created().await;
    world.alice.decide(&id, "approve").await;

    let (code, printed) = finished(gate).await;
    assert_eq!(code, 0);
    assert_eq!(printed["status"], "approved");
    assert_eq!(printed["decisions"][0]["approver"], "alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_exits_1() {
    let world = World::start().await;
    let gate = world.ask("Deploy v7?");
    let id = world.created().await;
    world.alice.decide(&id, "reject").await;
    assert_eq!(finished(gate).await.0, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_exits_2() {
    let world = World::start().await;
    let gate = world.ask("Deploy v7?");
    let id = world.created().await;
    world
        .ci
        .post(&format!("/v1/approvals/{id}/cancel"), &Value::Null)
        .await;
    let (code, printed) = finished(gate).await;
    assert_eq!(code, 2);
    assert_eq!(printed["status"], "cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn its_own_timeout_while_pending_exits_3() {
    let world = World::start().await;
    let gate = world.gate(
        &[
            "--title",
            "Deploy?",
            "--destination",
            "C1",
            "--timeout",
            "2s",
        ],
        &world.ci_key,
    );
    let (code, printed) = finished(gate).await;
    assert_eq!(code, 3);
    assert_eq!(printed["status"], "pending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_api_key_exits_4_and_a_missing_one_too() {
    let world = World::start().await;
    let gate = world.gate(&["--title", "Deploy?", "--destination", "C1"], "not-a-key");
    assert_eq!(finished(gate).await.0, 4);
    let gate = world.gate(&["--title", "Deploy?", "--destination", "C1"], "");
    assert_eq!(finished(gate).await.0, 4);
    assert!(world.ci.approvals().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_of_a_killed_gate_waits_on_the_request_the_first_run_created() {
    let world = World::start().await;
    let mut first = world.ask("Deploy v7?");
    let id = world.created().await;
    first.kill().unwrap();
    first.wait().unwrap();

    let rerun = world.ask("Deploy v7?");
    // Give the rerun time to ask (again, under the same key) before the decision.
    tokio::time::sleep(Duration::from_millis(500)).await;
    world.alice.decide(&id, "approve").await;
    let (code, printed) = finished(rerun).await;
    assert_eq!(code, 0);
    assert_eq!(printed["id"], id.as_str());
    assert_eq!(
        world.ci.approvals().await.len(),
        1,
        "a second request was created"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_keeps_waiting_across_a_restart_of_the_service() {
    let mut world = World::start().await;
    let gate = world.ask("Deploy v7?");
    let id = world.created().await;
    world.restart().await;
    world.alice.decide(&id, "approve").await;
    assert_eq!(finished(gate).await.0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_waits_on_an_existing_request() {
    let world = World::start().await;
    let id = world.ci.create("Deploy v7?").await;
    let gate = world.gate(&["--wait-for", &id], &world.ci_key);
    tokio::time::sleep(Duration::from_millis(300)).await;
    world.alice.decide(&id, "reject").await;
    let (code, printed) = finished(gate).await;
    assert_eq!(code, 1);
    assert_eq!(printed["id"], id.as_str());
}
