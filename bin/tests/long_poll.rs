//! Long-polls end with the decision, wherever it was taken: across two instances on one
//! PostgreSQL database (`NOTIFY` in one, `LISTEN` in the other), within one instance on
//! SQLite, and at shutdown.
//!
//! No assertion is on how fast: a waiter is only checked to have answered with the settled
//! request well before its wait ran out, which it could not have done without being woken.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a panic in a test is a failed test with its message"
)]

mod support;

use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde_json::Value;
use service::{Config, Workers};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use support::process::{Api, Service, free_port, store_env};

/// What every waiter asks for, and half of it: a waiter that answered sooner was woken.
const WAIT: &str = "60s";
const WELL_BEFORE: Duration = Duration::from_secs(30);

/// Starts a long-poll on `api` in the background; it answers the request and how long it
/// took.
fn wait_on(api: Api, id: &str) -> tokio::task::JoinHandle<(Value, Duration)> {
    let path = format!("/v1/approvals/{id}?wait={WAIT}");
    tokio::spawn(async move {
        let started = Instant::now();
        let answer = api.get(&path).await;
        (answer, started.elapsed())
    })
}

/// Gives a waiter a moment to reach its wait. Not needed for correctness (a decision
/// before it subscribes is seen by its read), only so that the test exercises the wake-up.
async fn let_it_wait() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_on_one_instance_wakes_a_waiter_on_another() {
    let database = tests::postgres::TestDatabase::create().await;
    database.migrated_store().await;
    let env = store_env(&database.url());
    let (a, b) = (
        Service::start(&env, free_port()).await,
        Service::start(&env, free_port()).await,
    );
    let (ci, alice) = (a.api_key("ci"), a.api_key("alice"));
    let id = Api::new(&a.url, &ci).create("Deploy v7?").await;

    let waiter = wait_on(Api::new(&b.url, &ci), &id);
    let_it_wait().await;
    Api::new(&a.url, &alice).decide(&id, "approve").await;

    let (answer, took) = waiter.await.unwrap();
    assert_eq!(answer["status"], "approved");
    assert!(
        took < WELL_BEFORE,
        "the waiter on B was not woken ({took:?})"
    );
}

/// The service in this process on SQLite, served on a port of its own.
struct InProcess {
    url: String,
    ci: String,
    alice: String,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<Result<(), service::shutdown::RunError>>,
    _dir: tempfile::TempDir,
}

async fn in_process() -> InProcess {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("service.db").display().to_string();
    let config = Config::from_env(store_env(&path)).unwrap();
    let app = service::build(&config).await.unwrap();
    let key = async |name: &str| {
        let created = app.use_cases().create_api_key.execute(name).await.unwrap();
        created.key.expose_secret().to_owned()
    };
    let (ci, alice) = (key("ci").await, key("alice").await);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.serve(listener, Workers::NONE, shutdown.clone()));
    InProcess {
        url,
        ci,
        alice,
        shutdown,
        server,
        _dir: dir,
    }
}

impl InProcess {
    /// Creates a request as `ci`, and a long-poll on it that has had time to reach its wait.
    async fn request_with_a_waiter(&self) -> (String, tokio::task::JoinHandle<(Value, Duration)>) {
        let id = Api::new(&self.url, &self.ci).create("Deploy v7?").await;
        let waiter = wait_on(Api::new(&self.url, &self.ci), &id);
        let_it_wait().await;
        (id, waiter)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_a_decision_wakes_a_waiter_of_the_same_instance() {
    let service = in_process().await;
    let (id, waiter) = service.request_with_a_waiter().await;
    Api::new(&service.url, &service.alice)
        .decide(&id, "reject")
        .await;

    let (answer, took) = waiter.await.unwrap();
    assert_eq!(answer["status"], "rejected");
    assert!(took < WELL_BEFORE, "the waiter was not woken ({took:?})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_a_wait_with_the_pending_request_and_the_server_stops() {
    let service = in_process().await;
    let (_, waiter) = service.request_with_a_waiter().await;
    service.shutdown.cancel();

    let (answer, took) = waiter.await.unwrap();
    assert_eq!(answer["status"], "pending");
    assert!(
        took < WELL_BEFORE,
        "shutdown did not end the wait ({took:?})"
    );
    service.server.await.unwrap().unwrap();
}
